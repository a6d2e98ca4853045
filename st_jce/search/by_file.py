"""Search results by file (``st-jce search --by file``): the files that hold the best units, each scored by its
best unit, with the units that put it there.

"Which file?" is usually the first question about an issue. A file's score is its **best unit's score** (max),
the rule of SweRank-style file localization: a file is as relevant as the most relevant thing in it, whereas a
sum or a mean over its units would lift a long file of many weakly similar units above the file holding the one
unit the query is about. The units are ranked first, exactly as ``--by unit`` ranks them (context scores, the
test-file rule of :mod:`st_jce.search.ranking`, one hit per unit), and the files come in the order of their best
units in that ranking: under ``tests="last"`` every test file comes after every other file, and files whose best
units tie keep the ranking's tie rule.

Examples
--------
>>> from st_jce.search.index import Hit
>>> def hit(path, name, score):
...     return Hit(f"{path}:{name}", path, path, name, "function", 1, 2, "...", score, score)
>>> ranked = [hit("io.py", "read", 0.9), hit("csv.py", "parse", 0.8), hit("io.py", "write", 0.7),
...           hit("io.py", "seek", 0.6), hit("io.py", "tell", 0.5), hit("tests/test_io.py", "test_read", 0.95)]
>>> [(file.path, file.score, [unit.name for unit in file.units]) for file in rank_files(ranked, k=3)]
[('io.py', 0.9, ['read', 'write', 'seek']), ('csv.py', 0.8, ['parse']), ('tests/test_io.py', 0.95, ['test_read'])]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from st_jce.search.settings import UNITS_PER_FILE

# What a file's units carry in JSON: the file's path is said once, and the code is for --by unit.
UNIT_FIELDS_LEFT_OUT = ("path", "text")


@dataclass(frozen=True)
class FileHit:
    """One file of a search by file.

    Attributes
    ----------
    path : str
        The file (its path in the indexed tree; for a corpus, the corpus file).
    score : float
        Its best unit's score (:class:`~st_jce.search.index.Hit.score`).
    units : tuple of Hit
        Its best units, best first (at most :data:`~st_jce.search.settings.UNITS_PER_FILE`): where in the file to look.
    """

    path: str
    score: float
    units: tuple

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``st-jce search --by file --json``): each unit's id, name, kind, lines and
        scores, without the path (the file's) and the code."""
        units = [{name: value for name, value in unit.to_dict().items() if name not in UNIT_FIELDS_LEFT_OUT}
                 for unit in self.units]
        return {"path": self.path, "score": self.score, "units": units}


def rank_files(hits: Sequence, k: int, units_per_file: int = UNITS_PER_FILE) -> list[FileHit]:
    """The ``k`` best files of ``hits`` (unit hits ranked as :meth:`~st_jce.search.index.Index.search` ranks them,
    best first), in the order of their best units, each with its first ``units_per_file`` units."""
    units_of: dict[str, list] = {}  # in order of first appearance: of the files' best units
    for hit in hits:
        units_of.setdefault(hit.path, []).append(hit)
    return [FileHit(path, units[0].score, tuple(units[:units_per_file])) for path, units in islice(units_of.items(), k)]
