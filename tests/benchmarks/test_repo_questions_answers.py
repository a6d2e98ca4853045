"""benchmarks/repo_questions.py: every answer is a retrieval unit of this repository, so a rename shows here
instead of as a question ranked "below 300"; the file's own hits (the questions, word for word) are passed over."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from st_jce.search.chunking import chunk_source
from st_jce.search.index import Hit
from st_jce.search.ranking import is_test_path, resolve_tests_mode
from st_jce.search.sources import read_source_tree

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def repo_questions():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import repo_questions
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return repo_questions


def test_every_answer_names_one_unit_of_this_repository(repo_questions):
    definitions, test_definitions = {}, {}  # qualified name -> the files that define it
    for unit in read_source_tree(ROOT).units:
        for chunk in chunk_source(unit.text, unit.path):
            if chunk.kind in ("function", "method", "class"):
                kept = test_definitions if is_test_path(unit.path) else definitions
                kept.setdefault(chunk.name, set()).add(unit.path)
    sets = list(repo_questions.QUESTION_SETS.values())
    # test files rank with the rest only for questions that mention tests (ranking.resolve_tests_mode)
    found = {answer: len(definitions.get(answer, ()))
             + (len(test_definitions.get(answer, ())) if resolve_tests_mode("auto", question) == "ranked" else 0)
             for questions in sets for question, answer in questions.items()}
    assert found == dict.fromkeys(found, 1)
    assert len({question for questions in sets for question in questions}) == sum(map(len, sets))  # no repeats


def test_the_questions_own_file_is_passed_over(repo_questions, tmp_path):
    class Ranked:  # an index whose search returns fixed hits, best first
        def search(self, question, k, context_weight, lexical_weight):
            return [Hit("q", this_file, this_file, "benchmarks.repo_questions", "module", 1, 9, question, 0.9, 0.9),
                    Hit("f", "pkg/a.py", "pkg/a.py", "answer", "function", 3, 4, "def answer(): ...", 0.5, 0.5)]

    this_file = repo_questions._path_in(ROOT)
    assert this_file == "benchmarks/repo_questions.py"
    assert repo_questions._path_in(tmp_path) is None  # another tree to index: nothing to pass over
    assert repo_questions._rank(Ranked(), "where is the answer", "answer", this_file) == 1
    assert repo_questions._rank(Ranked(), "where is the answer", "answer", None) == 2
