"""Mine (query, document) training pairs from Python source that is already on the machine.

Every function or method with a useful docstring in the installed standard library (plus any extra
source folders, or installed packages named by their import name) becomes one :class:`MinedFunction`: its
docstring and its source with the docstring removed. From those, these kinds of pairs are built (the
task type of each in :data:`MINING_TASK_TYPES`; docs/training-data.md has examples and counts):

- ``nl2code``: docstring summary (first paragraph) -> function source without its docstring;
- ``nl2code-keywords`` / ``nl2code-question``: a web-search-style keyword query / a "How do I ...?"
  question made from the name and summary (:mod:`st_jce.data.query_styles`) -> the function source;
- ``code2nl``: function source without its docstring -> the whole docstring;
- ``code2completion``: the first part of the function -> the rest, cut at a line boundary near the
  middle;
- ``code2code-rewrite``: one semantics-preserving rewrite of the function -> another
  (:mod:`st_jce.data.rewrites`).

Two kinds come from other sources, with identities of their own: ``code2code-crosslang``, a Python method
-> the same method of the package's JavaScript twin (:mod:`st_jce.data.cross_language`, ``packages`` only),
and ``qa-docs``, a documentation heading as a question -> its section (:mod:`st_jce.data.doc_pairs`: the
Python language reference topics, and the ``packages``' own long descriptions where permissively licensed).

Functions are de-duplicated (by normalised docstring and by their statements) before a deterministic,
seeded hold-out split by function identity, so ``split="test"`` never shares a function with
``split="train"`` whatever the kind. A rule that gives a function no pair (a summary with no question in
it, a function no rewrite is safe for) drops it; the rule-made queries are de-duplicated as well.

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
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import datasets

from st_jce.data.cross_language import cross_language_pairs
from st_jce.data.doc_pairs import doc_pairs
from st_jce.data.python_source import (
    DEFAULT_MAX_CODE_CHARS,
    MIN_CODE_LINES,
    function_code,
    function_nodes,
    is_placeholder,
    package_root,
    python_files,
    stdlib_root,
)
from st_jce.data.query_styles import keyword_query, question_query
from st_jce.data.rewrites import rewrite_pair
from st_jce.source_lines import source_lines

logger = logging.getLogger(__name__)

# Mining kind -> the task type of its pairs.
MINING_TASK_TYPES: dict[str, str] = {
    "nl2code": "nl2code", "nl2code-keywords": "nl2code", "nl2code-question": "nl2code", "code2nl": "code2nl",
    "code2completion": "code2completion", "code2code-rewrite": "code2code", "code2code-crosslang": "code2code",
    "qa-docs": "qa",
}
MINING_KINDS: tuple[str, ...] = tuple(MINING_TASK_TYPES)
# Kinds whose query a rule makes, so that two functions can get the same one: later ones are dropped.
RULE_QUERY_KINDS = frozenset({"nl2code-keywords", "nl2code-question"})
MINING_OPTIONS: tuple[str, ...] = ("kind", "roots", "packages", "holdout_fraction", "seed", "max_code_chars")

MIN_DOCSTRING_CHARS = 20
MIN_SUMMARY_WORDS = 3
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
    lines = source_lines(source)
    found = (_mine_function(node, lines, module_label, qualname, max_code_chars) for qualname, node in function_nodes(tree))
    return [function for function in found if function is not None]


def _mine_function(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], module_label: str,
                   qualname: str, max_code_chars: int) -> MinedFunction | None:
    docstring = ast.get_docstring(node, clean=True)
    if not docstring or len(docstring) < MIN_DOCSTRING_CHARS or len(docstring) > max_code_chars:
        return None
    body = node.body[1:]
    code = function_code(node, lines)
    if not body or is_placeholder(body) or code is None:
        return None
    if len(code) > max_code_chars or len(code.splitlines()) < MIN_CODE_LINES:
        return None
    mined = MinedFunction(identity=f"{module_label}:{qualname}", path=module_label, qualname=qualname,
                          lineno=node.lineno, docstring=docstring, code=code,
                          body_key=ast.dump(ast.Module(body=body, type_ignores=[])))
    return mined if len(mined.summary.split()) >= MIN_SUMMARY_WORDS else None


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


def pair_for(function: MinedFunction, kind: str) -> tuple[str, str] | None:
    """The (query, document) pair of ``kind`` for one mined function, or ``None`` where its rule gives none."""
    if kind == "nl2code":
        return function.summary, function.code
    if kind == "code2nl":
        return function.code, function.docstring
    if kind == "code2completion":
        return completion_split(function.code)
    if kind == "code2code-rewrite":
        return rewrite_pair(function.code)
    if kind == "nl2code-keywords":
        query = keyword_query(function.qualname, function.summary)
    elif kind == "nl2code-question":
        query = question_query(function.summary)
    else:
        raise ValueError(f"Mining kind {kind!r} is not made from functions; use one of {list(MINING_KINDS)}.")
    return (query, function.code) if query else None


def mine_pairs(kind: str, *, roots: tuple[str, ...] | list[str] = (), packages: tuple[str, ...] | list[str] = (),
               split: str = "train", holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION, seed: int = 0,
               max_code_chars: int = DEFAULT_MAX_CODE_CHARS, include_stdlib: bool = True) -> datasets.Dataset:
    """(query, document) pairs of ``kind`` from the standard library (and ``roots``, ``packages``) as a ``Dataset``.

    Parameters
    ----------
    kind
        One of :data:`MINING_KINDS` (see the module docstring).
    roots
        Extra source folders to mine besides the standard library (not for ``code2code-crosslang`` and
        ``qa-docs``, which read installed packages only).
    packages
        Installed packages to mine, by import name (e.g. ``["algorithms", "more_itertools"]``): their source
        folders are mined after ``roots`` (for ``qa-docs``: their distributions' descriptions; for
        ``code2code-crosslang``: each with its npm twin of the same name).
    split
        ``"train"`` or ``"test"`` (the held-out functions).
    holdout_fraction
        Share of functions held out, chosen by a stable hash of ``seed`` and the function's identity.
    seed
        Changes which functions are held out.
    max_code_chars
        Functions whose code (or docstring) is longer are skipped rather than truncated (``qa-docs``: the
        answer is cut at a paragraph boundary to this length).
    include_stdlib
        Set ``False`` to mine only ``roots`` and ``packages`` (``qa-docs``: leave out the language reference).
    """
    if kind not in MINING_KINDS:
        raise ValueError(f"Unknown mining kind {kind!r}; set `mining.kind` to one of {list(MINING_KINDS)}.")
    if split not in ("train", "test"):
        raise ValueError(f"Mined pairs have splits 'train' and 'test' (held out); got split {split!r}.")
    if not 0.0 <= holdout_fraction < 1.0:
        raise ValueError(f"`mining.holdout_fraction` must be in [0, 1); got {holdout_fraction!r}.")
    if kind in ("code2code-crosslang", "qa-docs"):
        if roots:
            raise ValueError(f"Mining kind {kind!r} reads installed packages only; move `mining.roots` to "
                             "`mining.packages` (import names) or drop it.")
        found = (cross_language_pairs(packages, max_code_chars) if kind == "code2code-crosslang"
                 else doc_pairs(packages, include_stdlib, max_code_chars))
        rows = [(identity, (query, document)) for identity, query, document in found]
    else:
        folders = [*map(str, roots), *(str(package_root(name)) for name in packages)]
        rows = [(f.identity, f) for f in mine_functions(folders, include_stdlib=include_stdlib,
                                                         max_code_chars=max_code_chars)]
    want_test = split == "test"
    chosen = [value for identity, value in rows if is_held_out(identity, holdout_fraction, seed) == want_test]
    pairs = [pair for pair in (v if isinstance(v, tuple) else pair_for(v, kind) for v in chosen) if pair is not None]
    if kind in RULE_QUERY_KINDS:
        first_document: dict[str, str] = {}
        for query, document in pairs:
            first_document.setdefault(query, document)
        pairs = list(first_document.items())
    return datasets.Dataset.from_dict({"query": [q for q, _ in pairs], "document": [d for _, d in pairs]})
