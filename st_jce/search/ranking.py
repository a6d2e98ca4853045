"""Which hits are test code, and where they rank: after the code under test, unless the query asks for tests.

"Where is X done" is answered by the code that does X; the tests of X name it as often and get near the
same score, so they would crowd the first results. Code search engines rank test files lower for that
reason; :func:`order_hits` puts hits from test files after the others (``tests="last"``), drops them
(``"exclude"``) or keeps the score order (``"ranked"``). ``"auto"`` (the default of
:meth:`st_jce.search.Index.search`) is ``"ranked"`` for a query that mentions tests and ``"last"`` otherwise.

Examples
--------
>>> [is_test_path(path) for path in ("tests/test_io.py", "src/io.py", "pkg/io_test.go", "web/app.spec.ts")]
[True, False, True, True]
>>> resolve_tests_mode("auto", "where is the csv reader tested"), resolve_tests_mode("auto", "read a csv file")
('ranked', 'last')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from st_jce.search.settings import TESTS_MODES

# Folders that hold tests, and file names of test code, by the conventions of pytest / unittest, Go, Java
# (JUnit), JavaScript / TypeScript (Jest, Mocha) and Ruby (RSpec, minitest).
TEST_FOLDERS = frozenset({"test", "tests", "__tests__", "spec", "specs"})
TEST_FILE_NAME = re.compile(r"^(test_.*\.py|.*_tests?\.py|conftest\.py|.*_test\.go|.*Tests?\.java|.*\.(test|spec)\.[jt]sx?"
                            r"|.*_(spec|test)\.rb)$")
MENTIONS_TESTS = re.compile(r"\b(tests?|tested|testing|unittests?|pytest|spec|specs)\b", re.IGNORECASE)

RankedHit = TypeVar("RankedHit")  # a hit of any type with .path and .score (st_jce.search.index.Hit)


def is_test_path(path: str) -> bool:
    """Whether the ``/``-separated ``path`` of a source tree is test code (by folder or file name)."""
    *folders, name = path.split("/")
    return any(folder in TEST_FOLDERS for folder in folders) or bool(TEST_FILE_NAME.match(name))


def resolve_tests_mode(tests: str, query: str | None = None) -> str:
    """``tests`` as :func:`order_hits` applies it to ``query``: ``"auto"`` becomes ``"ranked"`` or ``"last"``."""
    if tests not in TESTS_MODES:
        raise ValueError(f"tests={tests!r}: use one of {list(TESTS_MODES)}.")
    if tests == "auto":
        return "ranked" if query is not None and MENTIONS_TESTS.search(query) else "last"
    return tests


def order_hits(hits: Sequence[RankedHit], tests: str) -> tuple[list[RankedHit], int]:
    """``hits`` (best first, each with a ``path`` and a ``kind``) ordered by a resolved ``tests`` mode, and how
    many of the first ones are settled: no deeper hit can come before them (under ``"last"``, a deeper code
    hit would still go before every test hit). Corpus records (``kind == "record"``) are never test code:
    their path is the corpus file's."""
    if tests == "ranked":
        return list(hits), len(hits)
    is_test = [hit.kind != "record" and is_test_path(hit.path) for hit in hits]
    code = [hit for hit, test in zip(hits, is_test) if not test]
    if tests == "exclude":
        return code, len(code)
    return code + [hit for hit, test in zip(hits, is_test) if test], len(code)
