"""Hits from test files rank after the code they test, unless the query asks for tests."""

from __future__ import annotations

import pytest

from st_jce.search import Index, build_index
from st_jce.search.ranking import is_test_path, resolve_tests_mode

CODE = "def area(radius):\n    return 3.14 * radius ** 2\n\n\ndef perimeter(radius):\n    return 6.28 * radius\n"
TESTS = ("from shapes import area, perimeter\n\n\ndef test_area():\n    assert area(1) == 3.14\n\n\n"
         "def test_perimeter():\n    assert perimeter(1) == 6.28\n")


@pytest.fixture
def index(tiny_model, tmp_path):
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "shapes.py").write_text(CODE)
    (tree / "tests" / "test_shapes.py").write_text(TESTS)
    (tree / "shapes_test.py").write_text(TESTS)
    build_index(tree, tmp_path / "index", tiny_model, show_progress=False)
    return Index(tmp_path / "index", model=tiny_model)


@pytest.mark.parametrize(("path", "is_test"), [
    ("tests/test_shapes.py", True), ("pkg/tests/helpers.py", True), ("shapes_test.py", True), ("conftest.py", True),
    ("src/test/java/AreaTest.java", True), ("web/area.spec.ts", True), ("cmd/area_test.go", True),
    ("shapes.py", False), ("pkg/testing.py", False), ("contest/latest.py", False), ("src/attest.py", False),
])
def test_test_paths_by_folder_and_file_name(path, is_test):
    assert is_test_path(path) is is_test


def test_auto_reads_the_query():
    assert resolve_tests_mode("auto", "area of a circle") == "last"
    assert resolve_tests_mode("auto", "where is the area tested") == "ranked"
    assert resolve_tests_mode("auto") == "last"
    with pytest.raises(ValueError, match="tests='first'.*auto"):
        resolve_tests_mode("first")


def test_test_hits_come_after_the_code_by_default(index):
    ranked = index.search("area of a circle", k=20, tests="ranked")
    default = index.search("area of a circle", k=20)
    assert sorted(hit.id for hit in default) == sorted(hit.id for hit in ranked)  # the same hits, reordered
    flags = [is_test_path(hit.path) for hit in default]
    assert flags == sorted(flags) and any(flags) and not all(flags)  # every code hit before every test hit
    code_in_score_order = [hit.id for hit in ranked if not is_test_path(hit.path)]
    assert [hit.id for hit in default if not is_test_path(hit.path)] == code_in_score_order


def test_exclude_and_a_query_about_tests(index):
    assert not any(is_test_path(hit.path) for hit in index.search("area of a circle", k=20, tests="exclude"))
    asked = index.search("test of the area of a circle", k=20)
    assert [hit.id for hit in asked] == [hit.id for hit in index.search("test of the area of a circle", k=20,
                                                                          tests="ranked")]


def test_code_hits_fill_k_before_any_test_hit(index):
    # Three code units (the module's two functions and its module-level unit, if any) exist; k=2 asks for
    # fewer, so no test hit may appear even when tests score higher.
    hits = index.search("area of a circle", k=2)
    assert len(hits) == 2 and not any(is_test_path(hit.path) for hit in hits)
