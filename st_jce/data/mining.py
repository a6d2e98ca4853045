"""Mine (query, document) training pairs from Python source that is already on the machine.

Every function or method with a useful docstring in the installed standard library (plus any extra
source folders, or installed packages named by their import name) becomes one :class:`MinedFunction`: its
docstring and its source with the docstring removed. From those, three kinds of pairs are built:

- ``nl2code``: docstring summary (first paragraph) -> function source without its docstring;
- ``code2nl``: function source without its docstring -> the whole docstring;
- ``code2completion``: the first part of the function -> the rest, cut at a line boundary near the
  middle.

Functions are de-duplicated (by normalised docstring and by their statements) before a deterministic,
seeded hold-out split by function identity, so ``split="test"`` never shares a function with
``split="train"`` whatever the kind.

Examples
--------
>>> from st_jce.data.mining import mine_pairs
>>> train = mine_pairs("nl2code", split="train")
>>> test = mine_pairs("nl2code", split="test")
>>> len(train) > 1000 and len(test) > 100
True
>>> sorted(train.column_names)
['document', 'query']
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import logging
import sysconfig
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import datasets

logger = logging.getLogger(__name__)

MINING_KINDS: tuple[str, ...] = ("nl2code", "code2nl", "code2completion")
MINING_OPTIONS: tuple[str, ...] = ("kind", "roots", "packages", "holdout_fraction", "seed", "max_code_chars")

# Folders that hold tests, demos, vendored or generated code rather than documented library functions.
SKIPPED_DIRS: frozenset[str] = frozenset({
    "test", "tests", "idlelib", "site-packages", "dist-packages", "__pycache__", "turtledemo", "lib2to3",
    "pydoc_data", "ensurepip", "lib-dynload", "__phello__",
})
MIN_DOCSTRING_CHARS = 20
MIN_SUMMARY_WORDS = 3
MIN_CODE_LINES = 3  # the ``def`` line plus at least two lines of body
DEFAULT_MAX_CODE_CHARS = 2000
DEFAULT_HOLDOUT_FRACTION = 0.1


@dataclass(frozen=True)
class MinedFunction:
    """One documented function: where it lives, its docstring, and its source without the docstring.

    ``identity`` (``"<root>/<relative path>:<qualified name>"``, the root being ``stdlib`` or the extra
    folder's name) is what the hold-out split keys on.
    """

    identity: str
    path: str
    qualname: str
    lineno: int
    docstring: str
    code: str
    body_key: str = field(repr=False, compare=False)  # the statements as a syntax tree, for de-duplication

    @property
    def summary(self) -> str:
        """The docstring's first paragraph on one line."""
        return " ".join(self.docstring.split("\n\n", 1)[0].split())


def stdlib_root() -> Path:
    """The folder of the running interpreter's standard library."""
    return Path(sysconfig.get_paths()["stdlib"])


def package_root(name: str) -> Path:
    """The source folder of the installed package ``name`` (its import name), found without importing it.

    Examples
    --------
    >>> package_root("json") == stdlib_root() / "json"
    True
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise ModuleNotFoundError(f"no installed package {name!r}; install it (`pip install "
                                  f"{name.replace('_', '-')}`, or `pip install 'st-jce[demo]'` for the CPU demo's) "
                                  "or remove it from `mining.packages`.")
    if not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{name!r} is a single module, not a package; put the folder that holds it in "
                                  "`mining.roots` instead of `mining.packages`.")
    return Path(next(iter(spec.submodule_search_locations)))


def python_files(root: Path) -> list[Path]:
    """All ``.py`` files under ``root`` in sorted order, skipping :data:`SKIPPED_DIRS` and ``test_*.py``."""
    files = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(part in SKIPPED_DIRS or part.startswith("config-") for part in parts[:-1]):
            continue
        if path.name.startswith("test_"):
            continue
        files.append(path)
    return files


def functions_in_source(source: str, module_label: str,
                        max_code_chars: int = DEFAULT_MAX_CODE_CHARS) -> list[MinedFunction]:
    """The documented, non-trivial functions of one module's source text, in source order.

    Examples
    --------
    >>> source = 'def add(a, b):\\n    \"\"\"Add two numbers and return the sum.\"\"\"\\n    total = a + b\\n    return total\\n'
    >>> [(f.qualname, f.summary) for f in functions_in_source(source, "m.py")]
    [('add', 'Add two numbers and return the sum.')]
    >>> print(functions_in_source(source, "m.py")[0].code)
    def add(a, b):
        total = a + b
        return total
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    # Split on the newlines ast counts (str.splitlines also splits on form feeds).
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found: list[MinedFunction] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = f"{prefix}{child.name}"
                mined = _mine_function(child, lines, module_label, qualname, max_code_chars)
                if mined is not None:
                    found.append(mined)
                visit(child, f"{qualname}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _mine_function(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], module_label: str,
                   qualname: str, max_code_chars: int) -> MinedFunction | None:
    docstring = ast.get_docstring(node, clean=True)
    if not docstring or len(docstring) < MIN_DOCSTRING_CHARS or len(docstring) > max_code_chars:
        return None
    doc_node, body = node.body[0], node.body[1:]
    if not body or _is_placeholder(body) or not _on_own_lines(doc_node, lines):
        return None
    start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
    after = lines[doc_node.end_lineno:node.end_lineno]
    while after and not after[0].strip():  # the blank line that often follows a docstring
        after = after[1:]
    kept = lines[start - 1:doc_node.lineno - 1] + after
    # Remove the def's own indentation (textwrap.dedent gives up on comments that start in column 0).
    code = "\n".join(_strip_indent(line, node.col_offset) for line in kept).strip("\n")
    if len(code) > max_code_chars or len(code.splitlines()) < MIN_CODE_LINES:
        return None
    mined = MinedFunction(identity=f"{module_label}:{qualname}", path=module_label, qualname=qualname,
                          lineno=node.lineno, docstring=docstring, code=code,
                          body_key=ast.dump(ast.Module(body=body, type_ignores=[])))
    return mined if len(mined.summary.split()) >= MIN_SUMMARY_WORDS else None


def _strip_indent(line: str, width: int) -> str:
    """``line`` without up to ``width`` leading whitespace characters."""
    return line[len(line[:width]) - len(line[:width].lstrip()):]


def _on_own_lines(doc_node: ast.stmt, lines: list[str]) -> bool:
    """Whether the docstring shares no line with code, so dropping its lines cuts nothing else."""
    # ast offsets count UTF-8 bytes.
    before = lines[doc_node.lineno - 1].encode()[:doc_node.col_offset]
    after = lines[doc_node.end_lineno - 1].encode()[doc_node.end_col_offset:].strip()
    return not before.strip() and (not after or after.startswith(b"#"))


def _is_placeholder(body: list[ast.stmt]) -> bool:
    """A body that only passes, returns a constant, or raises NotImplementedError teaches nothing."""
    if len(body) != 1:
        return False
    statement = body[0]
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True
    if isinstance(statement, ast.Return) and (statement.value is None or isinstance(statement.value, ast.Constant)):
        return True
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def mine_functions(roots: tuple[str, ...] | list[str] = (), *, include_stdlib: bool = True,
                   max_code_chars: int = DEFAULT_MAX_CODE_CHARS) -> tuple[MinedFunction, ...]:
    """All de-duplicated documented functions under the standard library and ``roots``.

    Order is deterministic (roots in the given order, files sorted, functions in source order); a
    function whose normalised docstring or whose statements (compared as syntax trees, so names,
    comments and formatting do not matter) were already seen is dropped. Cached per process, so the
    several kinds and splits of one run parse the sources once.
    """
    missing = [str(root) for root in roots if not Path(root).is_dir()]
    if missing:
        raise FileNotFoundError(f"Source folder(s) {missing} do not exist: fix or remove them in `mining.roots`.")
    return _mine_functions(tuple(str(root) for root in roots), include_stdlib, max_code_chars)


@lru_cache(maxsize=8)
def _mine_functions(roots: tuple[str, ...], include_stdlib: bool, max_code_chars: int) -> tuple[MinedFunction, ...]:
    # The stdlib is labelled "stdlib" rather than "python3.11" so the hold-out split survives upgrades.
    folders = ([("stdlib", stdlib_root())] if include_stdlib else []) + [(Path(r).name, Path(r)) for r in roots]
    seen_docs: set[str] = set()
    seen_code: set[str] = set()
    kept: list[MinedFunction] = []
    total = 0
    for name, folder in folders:
        for path in python_files(folder):
            try:
                source = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            label = f"{name}/{path.relative_to(folder).as_posix()}"
            for function in functions_in_source(source, label, max_code_chars):
                total += 1
                # Same statements under another name or formatting count as the same code.
                doc_key, code_key = _normalise(function.docstring), function.body_key
                if doc_key in seen_docs or code_key in seen_code:
                    continue
                seen_docs.add(doc_key)
                seen_code.add(code_key)
                kept.append(function)
    logger.info("Mined %d documented functions from %s (%d duplicates dropped).", len(kept),
                ", ".join(str(folder) for _, folder in folders), total - len(kept))
    return tuple(kept)


def is_held_out(identity: str, holdout_fraction: float, seed: int) -> bool:
    """Whether the function ``identity`` belongs to the held-out split (a stable hash of seed and identity)."""
    digest = hashlib.sha256(f"{seed}:{identity}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < holdout_fraction


def completion_split(code: str) -> tuple[str, str]:
    """Cut ``code`` at the line boundary closest to its middle character; both parts are non-empty.

    Examples
    --------
    >>> completion_split("def f(x):\\n    y = x + 1\\n    return y")
    ('def f(x):\\n    y = x + 1', '    return y')
    """
    lines = code.splitlines()
    ends = [sum(len(line) + 1 for line in lines[:cut]) for cut in range(1, len(lines))]
    cut = 1 + min(range(len(ends)), key=lambda i: abs(ends[i] - len(code) / 2))
    return "\n".join(lines[:cut]), "\n".join(lines[cut:])


def pair_for(function: MinedFunction, kind: str) -> tuple[str, str]:
    """The (query, document) pair of ``kind`` for one mined function."""
    if kind == "nl2code":
        return function.summary, function.code
    if kind == "code2nl":
        return function.code, function.docstring
    if kind == "code2completion":
        return completion_split(function.code)
    raise ValueError(f"Unknown mining kind {kind!r}; set `mining.kind` to one of {list(MINING_KINDS)}.")


def mine_pairs(kind: str, *, roots: tuple[str, ...] | list[str] = (), packages: tuple[str, ...] | list[str] = (),
               split: str = "train", holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION, seed: int = 0,
               max_code_chars: int = DEFAULT_MAX_CODE_CHARS, include_stdlib: bool = True) -> datasets.Dataset:
    """(query, document) pairs of ``kind`` from the standard library (and ``roots``, ``packages``) as a ``Dataset``.

    Parameters
    ----------
    kind
        ``"nl2code"``, ``"code2nl"`` or ``"code2completion"``.
    roots
        Extra source folders to mine besides the standard library.
    packages
        Installed packages to mine, by import name (e.g. ``["algorithms", "more_itertools"]``): their source
        folders are mined after ``roots``.
    split
        ``"train"`` or ``"test"`` (the held-out functions).
    holdout_fraction
        Share of functions held out, chosen by a stable hash of ``seed`` and the function's identity.
    seed
        Changes which functions are held out.
    max_code_chars
        Functions whose code (or docstring) is longer are skipped rather than truncated.
    include_stdlib
        Set ``False`` to mine only ``roots`` and ``packages``.
    """
    if kind not in MINING_KINDS:
        raise ValueError(f"Unknown mining kind {kind!r}; set `mining.kind` to one of {list(MINING_KINDS)}.")
    if split not in ("train", "test"):
        raise ValueError(f"Mined pairs have splits 'train' and 'test' (held out); got split {split!r}.")
    if not 0.0 <= holdout_fraction < 1.0:
        raise ValueError(f"`mining.holdout_fraction` must be in [0, 1); got {holdout_fraction!r}.")
    folders = [*map(str, roots), *(str(package_root(name)) for name in packages)]
    functions = mine_functions(folders, include_stdlib=include_stdlib, max_code_chars=max_code_chars)
    want_test = split == "test"
    chosen = [f for f in functions if is_held_out(f.identity, holdout_fraction, seed) == want_test]
    pairs = [pair_for(function, kind) for function in chosen]
    return datasets.Dataset.from_dict({"query": [q for q, _ in pairs], "document": [d for _, d in pairs]})
