"""``Index.search(by="file")`` / ``st-jce search --by file`` against the files computed here from the unit ranking:
every unit's hit grouped by path, each file scored by its best unit (max), tests after code unless asked for."""

from __future__ import annotations

import json

import pytest
from search_helpers import QUERIES, TREE, write_tree

from st_jce.cli import main
from st_jce.search import Index, build_index

# The package's tree with tests of its own, so that the test-file rule has something to move.
TREE_WITH_TESTS = {
    **TREE,
    "tests/test_words.py": ("from text.words import count_words\n\n\n"
                            "def test_count_words():\n    assert count_words('a b c') == 3\n\n\n"
                            "def test_count_no_words():\n    assert count_words('') == 0\n"),
    "tests/test_shapes.py": "from shapes.circle import Circle\n\n\ndef test_area():\n    assert Circle(1).area > 3\n",
}
TESTS_QUERY = "where is counting words tested"
SHOWN = 3  # best units a file lists (st_jce.search.settings.UNITS_PER_FILE)


@pytest.fixture(scope="module")
def file_index(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("by-file")
    build_index(write_tree(root / "tree", TREE_WITH_TESTS), root / "index", tiny_model_dir, approximate="always",
                show_progress=False)
    return root / "index"


def files_by_hand(unit_hits, tests: str) -> list[tuple[str, float, list[str]]]:
    """Path, score (the best unit's) and best units' ids of every file, ranked here: by score, test files after
    the others under ``tests="last"``."""
    units_of = {}
    for hit in unit_hits:
        units_of.setdefault(hit.path, []).append(hit)
    files = [(path, max(hit.score for hit in units), [hit.id for hit in sorted(units, key=lambda hit: -hit.score)])
             for path, units in units_of.items()]
    tier = (lambda path: path.startswith("tests/")) if tests == "last" else (lambda path: False)
    return [(path, score, ids[:SHOWN]) for path, score, ids in sorted(files, key=lambda file: (tier(file[0]), -file[1]))]


@pytest.mark.parametrize("tests", ["last", "ranked", "exclude"])
def test_files_are_the_units_grouped_by_path_and_ranked_by_their_best(tiny_model, file_index, tests):
    index = Index(file_index, model=tiny_model)
    for query in [*QUERIES, TESTS_QUERY]:
        every_unit = index.search(query, k=len(index), tests=tests, exact=True)
        expected = files_by_hand(every_unit, tests)
        assert len({path for path, *_ in expected}) == len(expected) == 7 - 2 * (tests == "exclude")
        for k in range(1, len(expected) + 2):  # every depth, and more files than there are
            files = index.search(query, k=k, tests=tests, exact=True, by="file")
            assert [(file.path, file.score, [unit.id for unit in file.units]) for file in files] == expected[:k]


def test_tests_come_after_the_code_unless_the_query_mentions_them(tiny_model, file_index):
    index = Index(file_index, model=tiny_model)
    files = index.search(QUERIES[2], k=10, by="file")  # "auto": "last"
    is_test = [file.path.startswith("tests/") for file in files]
    assert is_test == sorted(is_test) and any(is_test)
    by_score = [file.path for file in index.search(TESTS_QUERY, k=10, by="file")]  # "auto": "ranked"
    assert by_score == [path for path, *_ in files_by_hand(index.search(TESTS_QUERY, k=len(index)), "ranked")]


def test_the_approximate_search_finds_the_exact_files(tiny_model, file_index, graph_depths):
    index = Index(file_index, model=tiny_model)
    assert index.has_approximate
    for query in QUERIES:
        for k in (1, 3):
            approximate, exact = index.search(query, k=k, by="file"), index.search(query, k=k, by="file", exact=True)
            assert ([(file.path, [unit.id for unit in file.units]) for file in approximate]
                    == [(file.path, [unit.id for unit in file.units]) for file in exact])
            assert [file.score for file in approximate] == pytest.approx([file.score for file in exact], abs=1e-6)
    assert graph_depths  # the files came through the graph


def test_files_with_context_weight_zero_are_ranked_by_similarity(tiny_model, file_index):
    index = Index(file_index, model=tiny_model)
    files = index.search(QUERIES[0], k=10, by="file", context_weight=0)
    units = index.search(QUERIES[0], k=len(index), context_weight=0)
    assert [file.score for file in files] == [score for _, score, _ in files_by_hand(units, "last")]
    assert all(unit.score == unit.similarity for file in files for unit in file.units)


def test_an_unknown_by_is_refused_before_the_model_loads(file_index):
    index = Index(file_index, model="/no/such/model")
    with pytest.raises(ValueError, match=r"by='folder': use one of \['unit', 'file'\]"):
        index.search("area", by="folder")


def test_cli_by_file_prints_files_and_their_best_units(file_index, capsys):
    assert main(["search", str(file_index), QUERIES[1], "-k", "2", "--by", "file"]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = Index(file_index).search(QUERIES[1], k=2, by="file")
    headers = [line.split() for line in printed if not line.startswith("       ")]
    assert [(rank, path) for rank, _, path in headers] == [(str(rank), file.path) for rank, file in
                                                          enumerate(expected, start=1)]
    units = [line.split() for line in printed if line.startswith("       ")]
    assert [(location, name) for _, location, name in units] == [(f":{unit.start_line}", unit.name)
                                                                 for file in expected for unit in file.units]


def test_cli_by_file_json_carries_path_score_and_units(file_index, capsys):
    assert main(["search", str(file_index), QUERIES[0], "-k", "3", "--by", "file", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = Index(file_index).search(QUERIES[0], k=3, by="file")
    assert [file["path"] for file in printed] == [file.path for file in expected]
    assert [file["score"] for file in printed] == pytest.approx([file.score for file in expected], abs=1e-6)
    assert [[unit["id"] for unit in file["units"]] for file in printed] == [[unit.id for unit in file.units]
                                                                           for file in expected]
    assert set(printed[0]) == {"path", "score", "units"}
    assert set(printed[0]["units"][0]) == {"id", "name", "kind", "start_line", "end_line", "score", "similarity",
                                           "context_similarity", "lexical"}
