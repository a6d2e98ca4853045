"""``st-jce mcp``: search indexes from a coding agent over the Model Context Protocol (the official ``mcp`` SDK
2.x, its ``MCPServer``; the ``serve`` extra).

Two tools, both read-only:

- ``search_code(query, k=10, task_type=None, path_glob=None)``: the ``k`` best units of code for ``query``,
  each with its index, id, file, qualified name, kind, lines, score and code: :meth:`Index.search
  <st_jce.search.index.Index.search>` as ``st-jce search`` runs it (the index's model, its task type's query
  prefix, the model check, tests after code unless the query asks for them); ``path_glob`` keeps the files
  it matches (shell-style, ``*`` crossing ``/``: ``*.py``, ``st_jce/search/*``).
- ``get_unit(id, index=None)``: one unit by the id a hit carries: its code, the windows of a unit split for
  length, and its context (a method's class, a function's module-level code: :mod:`st_jce.search.context`).

Several indexes are searched each and their hits merged by score, which only means something when the
scores come from one query embedding: the indexes must share the model, the query prefix and the dimension
(their probe embeddings agree, :mod:`st_jce.search.signature`). Indexes that do not are refused when the
server starts: serve them from one server each. An index is opened again when its manifest is replaced (by
``st-jce index --watch`` or a rerun), and read as one whole version of it (:mod:`st_jce.search.store`).
Models load on the first search that needs them, once per model, and stay loaded. An index whose model no
longer loads (its directory moved or deleted) makes the tools answer with an error naming the index and the
fix; the server goes on.

Examples
--------
::

    st-jce mcp repo-index                                       # stdio, for an agent that starts it
    st-jce mcp repo-index docs-index --transport streamable-http --port 8765
    claude mcp add st-jce -- st-jce mcp /abs/path/repo-index
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from typing_extensions import TypedDict

from st_jce._version import __version__
from st_jce.extras import import_extra
from st_jce.search.index import Hit, Index
from st_jce.search.ranking import order_hits, resolve_tests_mode
from st_jce.search.settings import MCP_HOST, MCP_PORT
from st_jce.search.signature import PROBE_MIN_COSINE, probe_agreement
from st_jce.search.store import MANIFEST_FILE, ShardStore

INSTRUCTIONS = ("Semantic code search over indexed source trees (st-jce). search_code finds functions, methods "
                "and classes by what they do, described in words (or by a piece of code with task_type "
                "'code2code'); get_unit returns one of them by the id a hit carries, with its enclosing class or "
                "module code.")


class Window(TypedDict):
    """One window of a unit split for length (a unit that fits is one window)."""

    id: str
    start_line: int
    end_line: int


class Part(Window):
    """A chunk: a unit of code, or a part of a unit's context (its class's own lines, its file's module-level code
    or line windows)."""

    name: str
    kind: str
    code: str


class SearchHit(Part):
    """A unit of code found by ``search_code``, best first."""

    index: str
    file: str
    score: float


class CodeUnit(Part):
    """A unit of code by id, with the windows of its unit and its context."""

    index: str
    file: str
    windows: list[Window]
    context: list[Part]


class IndexUnavailableError(RuntimeError):
    """An index cannot be searched now; the message names the index and the fix."""


class CodeSearch:
    """The indexes an MCP server searches, opened at once and again whenever their manifest is replaced.

    Parameters
    ----------
    index_dirs : sequence of str or PathLike
        Directories written by ``st-jce index``.
    model : str, optional
        The query model's directory or Hub id for every index (default: each index's own model).
    device, dtype
        Where and in which dtype models run (:class:`~st_jce.search.index.Index`).

    Raises
    ------
    FileNotFoundError, ValueError
        For a directory without a complete index, or indexes whose scores cannot be merged.
    """

    def __init__(self, index_dirs: Sequence[str | os.PathLike], *, model: str | None = None,
                 device: str | None = None, dtype: str = "auto") -> None:
        if not index_dirs:
            raise ValueError("No index to serve: pass one or more directories written by st-jce index.")
        self.paths = [Path(path) for path in index_dirs]
        self._model, self._device, self._dtype = model, device, dtype
        self._models: dict[str, object] = {}  # model location -> the model loaded from it
        self._opened: dict[Path, tuple[tuple[int, int, int], Index, dict[str, int]]] = {}
        self._lock = threading.Lock()  # the SDK runs tools in worker threads: one search at a time
        for path in self.paths:
            self._index(path)  # a missing index or unmergeable ones fail now, not at the agent's first call

    def search(self, query: str, k: int = 10, task_type: str | None = None,
               path_glob: str | None = None) -> list[SearchHit]:
        """The ``k`` best hits of every index for ``query``, merged by score, as ``search_code`` returns them."""
        with self._lock:
            found = [(path, hit) for path in self.paths
                     for hit in self._matching_hits(path, query, k, task_type, path_glob)]
        index_of = {id(hit): path for path, hit in found}
        by_score = sorted((hit for _, hit in found), key=lambda hit: -hit.score)
        ordered, _ = order_hits(by_score, resolve_tests_mode("auto", query))
        return [_search_hit(index_of[id(hit)], hit) for hit in ordered[:k]]

    def unit(self, chunk_id: str, index: str | None = None) -> CodeUnit:
        """The chunk ``chunk_id`` of ``index`` (default: the one index that holds it), as ``get_unit`` returns it."""
        paths = self.paths if index is None else [path for path in self.paths if str(path) == index]
        if not paths:
            raise ValueError(f"index={index!r} is not served here: use one of {[str(path) for path in self.paths]}.")
        with self._lock:
            holders = [(path, opened, rows[chunk_id]) for path in paths
                       for _, opened, rows in [self._opened_entry(path)] if chunk_id in rows]
        if not holders:
            raise ValueError(f"No unit has the id {chunk_id!r}: pass the id of a search_code hit (an index updated "
                             "since may have dropped it; search again).")
        if len(holders) > 1:
            raise ValueError(f"The id {chunk_id!r} is in several indexes ({', '.join(str(path) for path, *_ in holders)}):"
                             " pass the hit's index as well.")
        path, opened, row = holders[0]
        return _unit(path, opened, row)

    def _matching_hits(self, path: Path, query: str, k: int, task_type: str | None,
                       path_glob: str | None) -> list[Hit]:
        """``index.search`` of ``query``, deeper until ``k`` hits match ``path_glob`` or the index runs out (the query
        encoded once)."""
        index = self._searchable(path)
        embeddings, _ = index.embed_queries([query], task_type)
        asked = k
        while True:
            [hits] = index.search_embeddings(embeddings, k=asked, tests="auto", query_texts=[query])
            kept = [hit for hit in hits if path_glob is None or fnmatch.fnmatchcase(hit.path, path_glob)]
            if len(kept) >= k or len(hits) < asked:
                return kept[:k]
            asked *= 4

    def _searchable(self, path: Path) -> Index:
        """The index at ``path`` with its query model loaded (once per model, kept)."""
        index = self._index(path)
        location = self._model or _model_location(index.settings)
        if location not in self._models:
            try:
                self._models[location] = index.model
            except Exception as error:  # whatever stops the model from loading, the agent is told what to do
                raise IndexUnavailableError(
                    f"The index at {path} cannot be searched: its model {index.settings['name']!r} does not load from "
                    f"{location} ({type(error).__name__}: {error}). Rebuild the index with a model that exists "
                    f"(st-jce index SOURCE --model MODEL --out {path} --overwrite), or start the server with that "
                    f"index's model: st-jce mcp {path} --model MODEL.") from error
        return index

    def _index(self, path: Path) -> Index:
        return self._opened_entry(path)[1]

    def _opened_entry(self, path: Path) -> tuple[tuple[int, int, int], Index, dict[str, int]]:
        """The index at ``path`` as last opened, or opened again if its manifest was replaced since, with its
        chunk ids' rows."""
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is not a directory: pass a directory written by st-jce index.")
        try:
            stat = (path / MANIFEST_FILE).stat()
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0, 0)  # Index names the problem
        if path not in self._opened or self._opened[path][0] != stamp:
            location = self._model or _model_location((ShardStore(path).manifest() or {}).get("settings", {}))
            index = Index(path, model=self._models.get(location, self._model), device=self._device, dtype=self._dtype)
            self._check_mergeable(path, index)
            self._opened[path] = stamp, index, {chunk_id: row for row, chunk_id in enumerate(index.chunks["id"])}
        return self._opened[path]

    def _check_mergeable(self, path: Path, index: Index) -> None:
        """Refuse an index whose scores would not be comparable with the first index's."""
        first = self.paths[0]
        if path == first or first not in self._opened:
            return
        reference, settings = self._opened[first][1].settings, index.settings
        if (settings["query_prefix"], settings["dim"]) != (reference["query_prefix"], reference["dim"]) or \
                probe_agreement(settings["probe_embeddings"], reference["probe_embeddings"]) < PROBE_MIN_COSINE:
            raise ValueError(
                f"{path} was built with {settings['name']!r} (task type {settings['task_type']}, dim {settings['dim']}), "
                f"{first} with {reference['name']!r} (task type {reference['task_type']}, dim {reference['dim']}): their "
                "scores cannot be merged. Serve each from its own st-jce mcp, or rebuild one with the other's model, "
                "task type and --dim.")


def _model_location(settings: dict) -> str | None:
    """Where an index's settings say its model loads from (indexes written before ``model_location`` was
    recorded: the name it was built with)."""
    return settings.get("model_location") or settings.get("name")


def _search_hit(path: Path, hit: Hit) -> SearchHit:
    return SearchHit(index=str(path), id=hit.id, file=hit.path, name=hit.name, kind=hit.kind, start_line=hit.start_line,
                     end_line=hit.end_line, score=hit.score, code=hit.text)


def _unit(path: Path, index: Index, row: int) -> CodeUnit:
    """Row ``row`` of ``index`` with the windows of its unit and its context, each in line order."""
    chunks, contexts = index.chunks, index.contexts
    windows = np.flatnonzero(contexts.unit_of_row == contexts.unit_of_row[row])
    context = [other for other in contexts.context_rows(row).tolist() if other != row]

    def by_line(rows) -> list[int]:
        return sorted(rows, key=lambda other: chunks["start_line"][other])

    return CodeUnit(index=str(path), id=chunks["id"][row], file=chunks["path"][row], name=chunks["name"][row],
                    kind=chunks["kind"][row], start_line=chunks["start_line"][row], end_line=chunks["end_line"][row],
                    code=chunks["text"][row],
                    windows=[Window(id=chunks["id"][other], start_line=chunks["start_line"][other],
                                    end_line=chunks["end_line"][other]) for other in by_line(windows.tolist())],
                    context=[Part(id=chunks["id"][other], name=chunks["name"][other], kind=chunks["kind"][other],
                                  start_line=chunks["start_line"][other], end_line=chunks["end_line"][other],
                                  code=chunks["text"][other]) for other in by_line(context)])


def build_server(search: CodeSearch):
    """An ``MCPServer`` with the tools ``search_code`` and ``get_unit`` over ``search``'s indexes."""
    mcpserver = import_extra("mcp.server.mcpserver", extra="serve")
    tool_error = import_extra("mcp.server.mcpserver.exceptions", extra="serve").ToolError
    read_only = import_extra("mcp.types", extra="serve").ToolAnnotations(read_only_hint=True, open_world_hint=False)
    # The SDK configures the root logger: at INFO, every library's lines would fill the agent's log.
    server = mcpserver.MCPServer("st-jce", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    @contextlib.contextmanager
    def told_to_the_agent() -> Iterator[None]:
        # Expected failures reach the agent as the tool's error message; anything else is the SDK's to report.
        try:
            yield
        except (ValueError, OSError, RuntimeError) as error:
            raise tool_error(str(error)) from error

    @server.tool(annotations=read_only)
    def search_code(query: str, k: int = 10, task_type: str | None = None,
                    path_glob: str | None = None) -> list[SearchHit]:
        """Find code by meaning: the k units (functions, methods, classes, module-level code) that best match
        query, best first, each with its index, id, file, qualified name, kind, lines, score and code.

        query: what the code does, in words ("where are task prefixes applied"), or a piece of code with
        task_type "code2code". k: how many hits (default 10). task_type: whose query prefix to apply, one of
        nl2code, qa, code2code, code2nl, code2completion (default: the index's). path_glob: keep only files
        matching this shell pattern, where * also crosses "/" (e.g. "*.py", "src/search/*", "*test*").
        Hits from test files come after the others unless the query mentions tests.
        """
        with told_to_the_agent():
            return search.search(query, k, task_type, path_glob)

    @server.tool(annotations=read_only)
    def get_unit(id: str, index: str | None = None) -> CodeUnit:
        """One unit of code by the id a search_code hit carries: its file, name, kind, lines and code, the
        windows of a unit that was split for length (each fetchable by its id), and its context: a method's
        class, a top-level function's or class's module-level code (imports, constants), or a file's other
        line windows. index: the hit's index, needed only when several indexes hold the id.
        """
        with told_to_the_agent():
            return search.unit(id, index)

    return server


def serve(index_dirs: Sequence[str | os.PathLike], *, transport: str = "stdio", host: str = MCP_HOST,
          port: int = MCP_PORT, model: str | None = None, device: str | None = None, dtype: str = "auto") -> None:
    """Serve ``index_dirs`` until the client disconnects (stdio) or the process is stopped (streamable HTTP)."""
    server = build_server(CodeSearch(index_dirs, model=model, device=device, dtype=dtype))
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run(transport, host=host, port=port)
