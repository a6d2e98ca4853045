"""The BEIR folder reader: a real slice reads back exactly; every malformation names its file and line."""

from __future__ import annotations

import json

import pytest
from eval_helpers import read_jsonl, read_qrels

from st_jce.data.beir import BeirFormatError, read_beir_folder


def write_folder(folder, corpus=None, queries=None, qrels=None):
    """A valid two-query folder; pass raw file contents to replace any of its files (None keeps the valid one)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "corpus.jsonl": corpus if corpus is not None else
        '{"_id": "d1", "text": "def add(a, b): return a + b"}\n{"_id": "d2", "title": "t", "text": "SELECT 1"}\n',
        "queries.jsonl": queries if queries is not None else
        '{"_id": "q1", "text": "add two numbers"}\n{"_id": "q2", "text": "select one"}\n',
        "qrels.tsv": qrels if qrels is not None else "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n",
    }
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def test_slice_of_shared_data_reads_back_exactly(mbpp_slice):
    data = read_beir_folder(mbpp_slice)
    assert data.queries == {row["_id"]: row["text"] for row in read_jsonl(mbpp_slice / "queries.jsonl")}
    assert {doc_id: doc["text"] for doc_id, doc in data.corpus.items()} == {
        row["_id"]: row["text"] for row in read_jsonl(mbpp_slice / "corpus.jsonl")}
    assert data.qrels == read_qrels(mbpp_slice / "qrels.tsv")


def test_title_is_kept_and_missing_title_is_empty(tmp_path):
    data = read_beir_folder(write_folder(tmp_path))
    assert data.corpus == {"d1": {"title": "", "text": "def add(a, b): return a + b"},
                           "d2": {"title": "t", "text": "SELECT 1"}}


def test_beir_qrels_subfolder_is_accepted(tmp_path):
    folder = write_folder(tmp_path)
    (folder / "qrels").mkdir()
    (folder / "qrels.tsv").rename(folder / "qrels" / "test.tsv")
    assert read_beir_folder(folder).qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}}


@pytest.mark.parametrize("missing", ["corpus.jsonl", "queries.jsonl", "qrels.tsv"])
def test_missing_file_is_named(tmp_path, missing):
    folder = write_folder(tmp_path)
    (folder / missing).unlink()
    with pytest.raises(FileNotFoundError, match=missing.replace(".", r"\.")):
        read_beir_folder(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        read_beir_folder(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("file", "content", "line", "problem"),
    [
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\n{"_id": "d2", "text": "y"\n', 2, "not valid JSON"),
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\n["d2", "y"]\n', 2, "expected a JSON object"),
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\n{"_id": "d2"}\n', 2, "'text' must be a string"),
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\n{"_id": 2, "text": "y"}\n', 2, "'_id' must be a string"),
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\n{"_id": "d2", "text": "  \\n "}\n', 2, "empty text"),
        ("corpus.jsonl", '{"_id": "d1", "text": "x"}\n{"_id": "d1", "text": "y"}\n', 2, "already used on line 1"),
        ("queries.jsonl", '{"_id": "q1", "text": "a"}\n\n{"_id": "q2", "text": ""}\n', 3, "empty text"),
        ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td9\t1\n", 3, "corpus-id 'd9' is not in the corpus"),
        ("qrels.tsv", "query-id\tcorpus-id\tscore\nq7\td1\t1\n", 2, "query-id 'q7' is not in the queries"),
        ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n", 2, "expected 3 tab-separated fields"),
        ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\thigh\n", 2, "is not an integer"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, file, content, line, problem):
    folder = write_folder(tmp_path, **{file.split(".")[0]: content})
    with pytest.raises(BeirFormatError) as error:
        read_beir_folder(folder)
    assert f"{folder / file}, line {line}:" in str(error.value)
    assert problem in str(error.value)


def test_lenient_reading_skips_what_breaks_a_rule_and_says_so(tmp_path, caplog):
    folder = write_folder(tmp_path, corpus='{"_id": "d1", "text": "x"}\n{"_id": "d1", "text": "y"}\n{"_id": "d2", "text": " "}\n',
                          qrels="query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq7\td1\t1\n")
    data = read_beir_folder(folder, strict=False)
    assert data.corpus == {"d1": {"title": "", "text": "x"}}, "the first of a repeated id is kept, blank text dropped"
    assert data.qrels == {"q1": {"d1": 1}}
    assert "skipped 4" in caplog.text and "1 repeated id" in caplog.text and "1 unknown query id" in caplog.text


def test_empty_files_are_errors(tmp_path):
    with pytest.raises(BeirFormatError, match="queries.jsonl has no records"):
        read_beir_folder(write_folder(tmp_path / "a", queries="\n"))
    with pytest.raises(BeirFormatError, match="no relevance judgements"):
        read_beir_folder(write_folder(tmp_path / "b", qrels="query-id\tcorpus-id\tscore\n"))


def test_unicode_line_separator_inside_text_is_not_a_line_break(tmp_path):
    text = "a\u2028b"
    folder = write_folder(tmp_path, queries=json.dumps({"_id": "q1", "text": text}, ensure_ascii=False) + "\n"
                          + '{"_id": "q2", "text": "select one"}\n')
    assert read_beir_folder(folder).queries["q1"] == text
