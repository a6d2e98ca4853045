"""benchmarks/repo_questions.py: every answer is a retrieval unit of this repository, so a rename shows here
instead of as a question ranked "below 300"."""

from __future__ import annotations

import sys
from pathlib import Path

from st_jce.search.chunking import chunk_source
from st_jce.search.ranking import is_test_path
from st_jce.search.sources import read_source_tree

ROOT = Path(__file__).resolve().parents[2]


def test_every_answer_names_one_unit_of_this_repository():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import repo_questions
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    definitions = {}  # qualified name -> the files that define it
    for unit in read_source_tree(ROOT).units:
        for chunk in chunk_source(unit.text, unit.path):
            if chunk.kind in ("function", "method", "class") and not is_test_path(unit.path):
                definitions.setdefault(chunk.name, set()).add(unit.path)
    answers = {**repo_questions.QUESTIONS, **repo_questions.HELD_OUT}.values()
    assert {answer: len(definitions.get(answer, ())) for answer in answers} == {answer: 1 for answer in answers}
    assert not set(repo_questions.QUESTIONS) & set(repo_questions.HELD_OUT)
