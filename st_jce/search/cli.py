"""``st-jce index``, ``st-jce search`` and ``st-jce mcp``: the command-line face of
:func:`~st_jce.search.build_index` (``--watch``: :mod:`~st_jce.search.watch`), :class:`~st_jce.search.Index` and
:mod:`~st_jce.search.mcp_server`. :func:`add_commands` registers them on ``st-jce``'s parser; the packages they
need come with the ``index`` extra (``serve`` for ``mcp`` and ``--watch``) and are imported when a command runs.

Examples
--------
::

    st-jce index . --model ./my-code-embedder --out repo-index
    st-jce index data/mbpp --model ./my-code-embedder --out mbpp-index --precision int8 --dim 256
    st-jce index . --model ./my-code-embedder --engine ray --ray-address auto
    st-jce search repo-index "where are task prefixes applied" -k 5
    st-jce search repo-index "parse a yaml config" --json
    st-jce search repo-index "$(cat issue.txt)" --by file -k 5
    st-jce index . --model ./my-code-embedder --out repo-index --watch
    st-jce mcp repo-index
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import contextmanager

from st_jce.extras import import_extra
from st_jce.prefixes import TASK_TYPES
from st_jce.search.settings import (
    APPROXIMATE_MIN_ROWS,
    APPROXIMATE_MODES,
    CONTEXT_WEIGHT,
    DEFAULT_BATCH_SIZE,
    DEFAULT_SHARD_SIZE,
    ENGINES,
    LEXICAL_MIN_WORDS,
    LEXICAL_WEIGHT,
    MAX_FILE_BYTES,
    MCP_HOST,
    MCP_PORT,
    MCP_TRANSPORTS,
    PRECISIONS,
    SEARCH_BY,
    TESTS_MODES,
    WATCH_DEBOUNCE_MS,
)

DEFAULT_INDEX_DIR = "st-jce-index"
SNIPPET_LINES = 3


def add_commands(commands) -> None:
    """Add ``index``, ``search`` and ``mcp`` to the subparsers ``commands`` of ``st-jce``."""
    index = commands.add_parser(
        "index", help="Embed a source tree or corpus into a searchable index (resumable, incremental).",
        description="Chunk SOURCE (a source folder: functions, classes, methods; or a JSONL / Parquet / BEIR corpus) "
                    "and embed it with MODEL's document prefix into --out. Rerunning continues an interrupted run "
                    "and re-embeds only the files that changed.")
    index.add_argument("source", metavar="SOURCE", help="source folder, corpus file (.jsonl, .parquet) or BEIR folder")
    index.add_argument("--model", required=True, help="st-jce model directory or Hub id (or any sentence-transformers "
                       "model with the {task}_query / {task}_document prompts)")
    index.add_argument("--out", default=DEFAULT_INDEX_DIR, help=f"index directory (default: {DEFAULT_INDEX_DIR})")
    index.add_argument("--task-type", default="nl2code", choices=TASK_TYPES,
                       help="whose prefixes documents and queries get (default: nl2code)")
    index.add_argument("--dim", type=int, help="Matryoshka dimension of the stored vectors (default: the model's)")
    index.add_argument("--precision", default="float32", choices=PRECISIONS,
                       help="stored precision, through sentence-transformers' quantize_embeddings (default: float32)")
    index.add_argument("--engine", default="local", choices=ENGINES,
                       help="one process; a sentence-transformers multi-process pool; or Ray Data actors")
    index.add_argument("--devices", type=_names, help="multiprocess: comma-separated devices, e.g. cuda:0,cuda:1")
    index.add_argument("--workers", type=int, help="ray / multiprocess: number of model copies (default: one per "
                       "GPU, else 1 for ray and 2 CPU processes for multiprocess)")
    index.add_argument("--ray-address", help="ray: a running cluster's address, e.g. auto (default: a local Ray)")
    index.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, help="chunks per shard, what a kill can "
                       f"lose (default: {DEFAULT_SHARD_SIZE})")
    index.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                       help=f"rows per forward at most (default: {DEFAULT_BATCH_SIZE})")
    index.add_argument("--dtype", default="auto", help="compute dtype: auto (bf16 where the hardware runs it "
                       "natively, else fp32), float32, bfloat16, float16 (default: auto)")
    index.add_argument("--ext", type=_names, help="file extensions of a source tree, e.g. .py,.go (default: the common "
                       "code extensions)")
    index.add_argument("--max-file-bytes", type=int, default=MAX_FILE_BYTES,
                       help=f"skip larger files (default: {MAX_FILE_BYTES})")
    index.add_argument("--approximate", default="auto", choices=APPROXIMATE_MODES,
                       help=f"build the usearch approximate index (auto: from {APPROXIMATE_MIN_ROWS} chunks on)")
    index.add_argument("--revision", help="the model's revision, recorded in the manifest")
    index.add_argument("--overwrite", action="store_true", help="rebuild an index made with other settings")
    index.add_argument("--quiet", action="store_true", help="no progress bar")
    index.add_argument("--watch", action="store_true", help="after the build, keep the index following the source's "
                       "changes (re-embedding only what changed) until Ctrl-C; needs st-jce[serve]")
    index.add_argument("--debounce-ms", type=int, default=WATCH_DEBOUNCE_MS, help="--watch: index the changes once "
                       f"the source has been quiet this long (default: {WATCH_DEBOUNCE_MS})")
    index.set_defaults(handler=run_index)

    search = commands.add_parser(
        "search", help="Search an index built by st-jce index.",
        description="Embed QUERY with the query prefix of the index's task type and print the best chunks: "
                    "file:line, qualified name, score and a snippet; or, with --by file, the files holding them. A "
                    "QUERY longer than the model's max_seq_length is searched by its first tokens, with a warning.")
    search.add_argument("index", metavar="INDEX_DIR", help="directory written by st-jce index")
    search.add_argument("query", metavar="QUERY", help="what to look for")
    search.add_argument("-k", type=int, default=10, help="number of results (default: 10)")
    search.add_argument("--task-type", choices=TASK_TYPES, help="query prefix to apply (default: the index's task type)")
    search.add_argument("--model", help="query model (default: the model the index was built with)")
    search.add_argument("--device", help="where the query model runs, e.g. cpu, cuda:0 (default: the best there is)")
    search.add_argument("--dtype", default="auto", help="query model's compute dtype: auto, float32, bfloat16, float16 "
                        "(default: auto)")
    search.add_argument("--exact", action="store_true", help="brute-force search even when an approximate index exists")
    search.add_argument("--all-windows", action="store_true",
                        help="every window of a function split for length (default: its best window only)")
    search.add_argument("--tests", default="auto", choices=TESTS_MODES,
                        help="hits from test files: after the others (last), none (exclude), by score (ranked); "
                             "auto: ranked when the query mentions tests, else last (default: auto)")
    search.add_argument("--context-weight", type=float, default=CONTEXT_WEIGHT,
                        help="share of the enclosing unit's similarity (a method's class, a function's module-level "
                             f"code) in a hit's score; 0: similarity alone (default: {CONTEXT_WEIGHT})")
    search.add_argument("--lexical-weight", type=float, default=LEXICAL_WEIGHT,
                        help="share of a chunk's BM25 score for the query's identifiers and words (of the best chunk's) "
                             f"in its relevance; 0: the embeddings alone (default: {LEXICAL_WEIGHT})")
    search.add_argument("--lexical-min-words", type=int, default=LEXICAL_MIN_WORDS,
                        help="lexical scores count for queries of at least this many words (a bug report, a "
                             f"traceback); 0: for every query (default: {LEXICAL_MIN_WORDS})")
    search.add_argument("--by", default="unit", choices=SEARCH_BY,
                        help="results: units (functions, methods, classes, module code), or the files holding the best "
                             "units, each scored by its best unit and listing its best ones (default: unit)")
    search.add_argument("--json", action="store_true", help="print the hits (or files) as JSON, for tools")
    search.add_argument("--lines", type=int, default=SNIPPET_LINES, help=f"snippet lines (default: {SNIPPET_LINES})")
    search.set_defaults(handler=run_search)

    mcp = commands.add_parser(
        "mcp", help="Serve indexes to coding agents over the Model Context Protocol (tools search_code, get_unit).",
        description="An MCP server whose tools search INDEX_DIR (several: merged by score, when built with the same "
                    "model) and fetch units by id; stdio for an agent that starts it, or streamable HTTP. Needs "
                    "st-jce[serve]. Guide: docs/agents.md.")
    mcp.add_argument("indexes", nargs="+", metavar="INDEX_DIR", help="directories written by st-jce index")
    mcp.add_argument("--transport", default="stdio", choices=MCP_TRANSPORTS, help="stdio (default) or streamable-http")
    mcp.add_argument("--host", default=MCP_HOST, help=f"streamable-http: address to listen on (default: {MCP_HOST})")
    mcp.add_argument("--port", type=int, default=MCP_PORT, help=f"streamable-http: port (default: {MCP_PORT}); the "
                     "endpoint is http://HOST:PORT/mcp")
    mcp.add_argument("--model", help="query model for every index (default: each index's own, loaded on first use)")
    mcp.add_argument("--device", help="where the query models run (default: the best there is)")
    mcp.add_argument("--dtype", default="auto", help="query models' compute dtype (default: auto)")
    mcp.set_defaults(handler=run_mcp)


def run_index(args: argparse.Namespace) -> None:
    """Handle ``st-jce index``: build or update the index, then print what it holds; with ``--watch``, again after
    every update until Ctrl-C."""
    options = dict(revision=args.revision, task_type=args.task_type, dim=args.dim, precision=args.precision,
                   engine=args.engine, devices=args.devices, workers=args.workers, ray_address=args.ray_address,
                   shard_size=args.shard_size, batch_size=args.batch_size, extensions=args.ext,
                   max_file_bytes=args.max_file_bytes, approximate=args.approximate, overwrite=args.overwrite,
                   show_progress=not args.quiet, dtype=args.dtype)
    if args.watch:
        watch = import_extra("st_jce.search.watch", extra="serve")
        print(f"watching {args.source} (Ctrl-C to stop)", flush=True)
        watch.watch_index(args.source, args.out, args.model, debounce_ms=args.debounce_ms,
                          on_update=lambda manifest: print(index_summary(manifest, args.out), flush=True), **options)
        print("stopped watching", flush=True)
        return
    build = import_extra("st_jce.search.build", extra="index")
    print(index_summary(build.build_index(args.source, args.out, args.model, **options), args.out))


def index_summary(manifest: dict, out: str) -> str:
    """What ``st-jce index`` prints when it is done.

    Examples
    --------
    >>> stats = {"chunks": 40, "units": 3, "embedded_units": 1, "reused_units": 2, "removed_units": 0,
    ...          "embedded_chunks": 12, "seconds": 2.5, "texts_per_second": 6.0}
    >>> print(index_summary({"stats": stats, "skipped": {"counts": {"empty": 1}}}, "idx"))
    idx: 40 chunks from 3 files or records (1 embedded, 2 unchanged, 0 removed); 12 texts embedded at 6.0 texts/s, 2.5 s in all
    skipped: empty 1 (manifest.json lists them)
    """
    stats = manifest["stats"]
    lines = [f"{out}: {stats['chunks']} chunks from {stats['units']} files or records ({stats['embedded_units']} "
             f"embedded, {stats['reused_units']} unchanged, {stats['removed_units']} removed); "
             f"{stats['embedded_chunks']} texts embedded at {stats['texts_per_second'] or '-'} texts/s, "
             f"{stats['seconds']} s in all"]
    counts = manifest["skipped"]["counts"]
    if counts:
        lines.append("skipped: " + ", ".join(f"{reason} {count}" for reason, count in counts.items())
                     + " (manifest.json lists them)")
    return "\n".join(lines)


def run_search(args: argparse.Namespace) -> None:
    """Handle ``st-jce search``: the hits (or files, ``--by file``) as text, or as JSON with ``--json``, where each
    one also carries ``query_truncated: true`` and ``query_tokens`` when the query was cut to the model's length."""
    index = import_extra("st_jce.search.index", extra="index").Index(args.index, model=args.model,
                                                                         device=args.device, dtype=args.dtype)
    with _search_warnings_on_stderr():
        results = index.search(args.query, k=args.k, task_type=args.task_type, exact=True if args.exact else None,
                               one_per_unit=not args.all_windows, tests=args.tests, context_weight=args.context_weight,
                               lexical_weight=args.lexical_weight,
                               lexical_min_words=args.lexical_min_words, by=args.by)
    if args.json:
        truncation = {"query_truncated": True, "query_tokens": results.query_tokens} if results.query_truncated else {}
        print(json.dumps([{**result.to_dict(), **truncation} for result in results], indent=2))
        return
    for rank, result in enumerate(results, start=1):
        print(format_hit(rank, result, args.lines) if args.by == "unit" else format_file(rank, result))


@contextmanager
def _search_warnings_on_stderr():
    """Search's warnings (a query cut to the model's length), one line each on stderr, for the user at the terminal
    whatever logging is set up (with none, Python would print the bare message)."""
    logger = logging.getLogger("st_jce.search")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("st-jce search: warning: %(message)s"))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def run_mcp(args: argparse.Namespace) -> None:
    """Handle ``st-jce mcp``: serve the indexes until the client disconnects or the process is stopped."""
    import_extra("st_jce.search.mcp_server", extra="serve").serve(
        args.indexes, transport=args.transport, host=args.host, port=args.port, model=args.model, device=args.device,
        dtype=args.dtype)


def format_hit(rank: int, hit, lines: int = SNIPPET_LINES) -> str:
    """One hit as ``st-jce search`` prints it: rank, score, ``file:line``, name, then the snippet indented.

    Examples
    --------
    >>> from st_jce.search.index import Hit
    >>> hit = Hit("a.py:3-4", "a.py", "a.py", "add", "function", 3, 4, "def add(a, b):\\n    return a + b", 0.8123, 0.7123)
    >>> print(format_hit(1, hit))
     1  0.812  a.py:3  add
           def add(a, b):
               return a + b
    """
    location = f"{hit.path}:{hit.start_line}" if hit.start_line else hit.path
    header = f"{rank:2d}  {hit.score:.3f}  {location}  {hit.name or hit.id}"
    snippet = [f"       {line}" for line in hit.text.splitlines()[:lines]]
    return "\n".join([header, *snippet])


def format_file(rank: int, file) -> str:
    """One file as ``st-jce search --by file`` prints it: rank, score, path, then its best units (score, first line,
    name) indented.

    Examples
    --------
    >>> from st_jce.search.by_file import FileHit
    >>> from st_jce.search.index import Hit
    >>> add = Hit("a.py:3-4", "a.py", "a.py", "add", "function", 3, 4, "def add(a, b): ...", 0.8123, 0.7123)
    >>> sub = Hit("a.py:6-7", "a.py", "a.py", "sub", "function", 6, 7, "def sub(a, b): ...", 0.6012, 0.5012)
    >>> print(format_file(1, FileHit("a.py", 0.8123, (add, sub))))
     1  0.812  a.py
           0.812  :3  add
           0.601  :6  sub
    """
    units = [f"       {unit.score:.3f}  {f':{unit.start_line}  ' if unit.start_line else ''}{unit.name or unit.id}"
             for unit in file.units]  # corpus records have no lines
    return "\n".join([f"{rank:2d}  {file.score:.3f}  {file.path}", *units])


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: give a comma-separated list, e.g. .py,.go")
    return names

