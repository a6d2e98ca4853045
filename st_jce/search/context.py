"""Context scores: a unit of code is ranked by its own similarity plus a share of its enclosing unit's.

A method cut out of its class has lost what the class says it is for, and a function cut out of its file
what the module says: ``PrefixPrompt.preprocess`` applies task prefixes because ``PrefixPrompt`` is the
module that does. So :meth:`st_jce.search.Index.search` ranks each hit by

    score = similarity + context_weight × context similarity

where the context of

- a method (or a nested class) is its class: the unit named by its qualified name less the last part;
- a top-level function or class is its file's module-level code (imports, constants, the module docstring);
- a line window (files chunked without a parser) is its file's line windows;

and each context is scored by its best window, as a split unit is. Module-level code and corpus records
have no context and keep their similarity, so a corpus index ranks by similarity alone, and module-level
code ranks below the definitions of a file as relevant as itself: it is rarely what "where is X done"
wants back. The weight, :data:`CONTEXT_WEIGHT`, and what it gains on this repository's questions are in
``docs/search.md``.

Examples
--------
>>> contexts = UnitContexts(paths=["a.py"] * 4 + ["c.md"] * 2, names=["a", "Greeter", "Greeter.hello", "add", "", ""],
...                         kinds=["module", "class", "method", "function", "lines", "lines"])
>>> contexts.context_rows(2).tolist(), contexts.context_rows(3).tolist(), contexts.context_rows(4).tolist()
([1], [0], [4, 5])
>>> contexts.context_rows(0).tolist()  # module-level code has no context
[]
>>> similarity = np.array([0.2, 0.6, 0.5, 0.4, 0.1, 0.3], dtype=np.float32)
>>> [round(best, 2) for best in contexts.context_similarity(np.arange(6), lambda rows: similarity[rows]).tolist()]
[0.0, 0.2, 0.6, 0.2, 0.3, 0.3]
>>> windows = UnitContexts(["a.py"] * 3, ["f", "f", "g"], ["function"] * 3)  # f split into two windows
>>> windows.best_windows(np.array([0.1, 0.7, 0.4], dtype=np.float32)).tolist()
[1, 2]
>>> windows.first_windows(np.array([2, 1, 0])).tolist()  # rows best first: g's, then f's best window
[0, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

# The kinds of unit the chunker splits into windows when they are too long (line windows of other files and
# corpus records are places of their own).
SPLIT_UNIT_KINDS = frozenset({"function", "method", "class"})


class UnitContexts:
    """The unit and the context of every row of an index, from the chunks' ``path``, ``name`` and ``kind``.

    Attributes
    ----------
    unit_of_row : numpy.ndarray
        A number per row, shared by the windows of one split function, method or class.
    context_of_row : numpy.ndarray
        The context (a group of rows) of each row, ``-1`` where it has none.
    has_contexts : bool
        Whether any row has a context (a source tree's index; a corpus's has none).
    """

    def __init__(self, paths: Sequence[str], names: Sequence[str], kinds: Sequence[str]) -> None:
        units: dict = {}
        self.unit_of_row = _numbered([(path, name) if kind in SPLIT_UNIT_KINDS else row
                                      for row, (path, name, kind) in enumerate(zip(paths, names, kinds))], units)
        groups: dict = {}
        member_of = _numbered(map(_group_key, paths, names, kinds), groups)
        self.context_of_row = np.array([groups.get(key, -1) for key in map(_context_key, paths, names, kinds)],
                                       dtype=np.int64)
        self._rows_by_unit, self._unit_starts = _rows_by_label(self.unit_of_row, len(units))
        self._rows_by_group, self._group_starts = _rows_by_label(member_of, len(groups))
        self.has_contexts = bool((self.context_of_row >= 0).any())

    def context_rows(self, row: int) -> np.ndarray:
        """The rows of ``row``'s context (empty where it has none)."""
        group = self.context_of_row[row]
        return self._group_rows(np.array([group]))[0] if group >= 0 else np.empty(0, dtype=np.int64)

    def first_windows(self, rows: np.ndarray) -> np.ndarray:
        """The positions in ``rows`` (best first) of the first, i.e. best, row of each unit, in order."""
        return np.sort(np.unique(self.unit_of_row[rows], return_index=True)[1])

    def best_windows(self, similarity: np.ndarray) -> np.ndarray:
        """The row of each unit's best window (ties: the earlier row), from the similarity of every row."""
        if not len(similarity):
            return np.empty(0, dtype=np.int64)
        by_unit = similarity[self._rows_by_unit]
        best = np.repeat(np.maximum.reduceat(by_unit, self._unit_starts[:-1]), np.diff(self._unit_starts))
        best_positions = np.flatnonzero(by_unit == best)  # in row order within each unit: the earlier first
        units = self.unit_of_row[self._rows_by_unit[best_positions]]
        return self._rows_by_unit[best_positions[np.r_[True, units[1:] != units[:-1]]]]

    def context_similarity(self, rows: np.ndarray, similarity_of: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """The best similarity over each of ``rows``' context (0 where it has none); ``similarity_of`` gives
        the similarity of an array of rows, and is called once."""
        groups = self.context_of_row[rows]
        has = groups >= 0
        best_of_group = np.zeros(len(self._group_starts) - 1, dtype=np.float32)
        is_needed = np.zeros(len(best_of_group), dtype=bool)
        is_needed[groups[has]] = True
        needed = np.flatnonzero(is_needed)
        best = np.zeros(len(rows), dtype=np.float32)
        if len(needed):
            members, starts = self._group_rows(needed)
            best_of_group[needed] = np.maximum.reduceat(similarity_of(members), starts)
            best[has] = best_of_group[groups[has]]
        return best

    def _group_rows(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``groups``, one group after the other, and where each group starts among them."""
        first, lengths = self._group_starts[groups], np.diff(self._group_starts)[groups]
        starts = np.cumsum(lengths) - lengths
        return self._rows_by_group[np.repeat(first - starts, lengths) + np.arange(lengths.sum())], starts


def _group_key(path: str, name: str, kind: str):
    """The context a row is part of: its unit for a definition, its file's module-level code or line windows."""
    if kind in SPLIT_UNIT_KINDS:
        return path, name
    return (path, f"<{kind}>") if kind in ("module", "lines") else None


def _context_key(path: str, name: str, kind: str):
    """The context a row is scored with (see the module's docstring)."""
    if kind == "method" or (kind == "class" and "." in name):
        return path, name.rsplit(".", 1)[0]
    if kind in ("function", "class"):
        return path, "<module>"
    return (path, "<lines>") if kind == "lines" else None


def _numbered(keys: Iterable, numbers: dict) -> np.ndarray:
    """The number of each key (``numbers`` gets each new one in order of first sight; ``None``: -1)."""
    return np.array([-1 if key is None else numbers.setdefault(key, len(numbers)) for key in keys], dtype=np.int64)


def _rows_by_label(labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows with a label (``>= 0``) sorted by it (rows of one label in order), and where each of the
    ``count`` labels starts among them (``count + 1`` offsets)."""
    labelled = np.flatnonzero(labels >= 0)
    rows = labelled[np.argsort(labels[labelled], kind="stable")]
    return rows, np.searchsorted(labels[rows], np.arange(count + 1))
