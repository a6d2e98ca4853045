"""Local JSONL / JSON / Parquet / CSV files with custom column names load as (query, document) pairs."""

from __future__ import annotations

import csv
import json
import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from st_jce.data import DatasetSpec, load_pairs, validate_specs
from st_jce.data.local import local_columns

ROWS = [
    {"question": "reverse a string", "snippet": "s[::-1]", "extra": 1},
    {"question": "sum a list", "snippet": "sum(xs)", "extra": 2},
    {"question": "read a file", "snippet": "open(p).read()", "extra": 3},
]


def _write(path, rows):
    suffix = path.suffix
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    elif suffix == ".json":
        path.write_text(json.dumps(rows))
    elif suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    elif suffix == ".csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path


def _spec(path, **overrides):
    values = {"name": "local", "source": "local", "path": str(path), "task_type": "nl2code",
              "query_column": "question", "document_column": "snippet", **overrides}
    return DatasetSpec.from_dict(values)


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet", ".csv"])
def test_custom_columns_load_and_rename(tmp_path, suffix):
    path = _write(tmp_path / f"pairs{suffix}", ROWS)
    assert local_columns(str(path)) == ["question", "snippet", "extra"]
    pairs = load_pairs(_spec(path))
    assert pairs.column_names == ["query", "document"]
    assert list(zip(pairs["query"], pairs["document"])) == [(r["question"], r["snippet"]) for r in ROWS]


def test_glob_concatenates_files(tmp_path):
    _write(tmp_path / "a.jsonl", ROWS[:2])
    _write(tmp_path / "b.jsonl", ROWS[2:])
    pairs = load_pairs(_spec(tmp_path / "*.jsonl"))
    assert pairs["query"] == [row["question"] for row in ROWS]


def test_empty_texts_are_dropped_and_counted(tmp_path, caplog):
    rows = ROWS + [{"question": "  ", "snippet": "x", "extra": 4}, {"question": "q", "snippet": None, "extra": 5}]
    path = _write(tmp_path / "pairs.jsonl", rows)
    with caplog.at_level(logging.WARNING, logger="st_jce.data"):
        pairs = load_pairs(_spec(path))
    assert len(pairs) == len(ROWS)
    assert "dropped 2 of 5 rows" in caplog.text


def test_nested_and_list_columns(tmp_path):
    rows = [{"question": "how many rows", "sql": {"human_readable": "SELECT COUNT(*) FROM t"}, "tests": ["a", "b"]}]
    path = _write(tmp_path / "nested.jsonl", rows)
    nested = load_pairs(_spec(path, document_column="sql.human_readable"))
    assert nested[0] == {"query": "how many rows", "document": "SELECT COUNT(*) FROM t"}
    joined = load_pairs(_spec(path, document_column="tests"))
    assert joined[0]["document"] == "a\nb"
    validate_specs([_spec(path, document_column="sql.human_readable")])


def test_max_samples_is_a_fixed_random_subset(tmp_path):
    rows = [{"question": f"q{i}", "snippet": f"d{i}"} for i in range(50)]
    path = _write(tmp_path / "many.parquet", rows)
    first = load_pairs(_spec(path, max_samples=10))
    again = load_pairs(_spec(path, max_samples=10))
    assert len(first) == 10 and first["query"] == again["query"]
    assert first["query"] != [f"q{i}" for i in range(10)], "max_samples must sample after shuffling"
    assert all(document == "d" + query[1:] for query, document in zip(first["query"], first["document"]))


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_missing_column_names_column_and_key(tmp_path, suffix):
    path = _write(tmp_path / f"pairs{suffix}", ROWS)
    with pytest.raises(ValueError) as early:
        validate_specs([{"name": "ok", "source": "stdlib", "mining": {"kind": "nl2code"}},
                        _spec(path, query_column="title")])
    assert "datasets[1].query_column" in str(early.value) and "'title'" in str(early.value)
    assert "question" in str(early.value), "the available columns must be listed"
    with pytest.raises(ValueError) as late:
        load_pairs(_spec(path, document_column="code"))
    assert "document_column 'code'" in str(late.value) and "snippet" in str(late.value)


def test_missing_file_names_the_key(tmp_path):
    with pytest.raises(ValueError, match=r"datasets\[0\]\.path: no file matches"):
        validate_specs([_spec(tmp_path / "absent.jsonl")])


def test_local_files_have_one_split(tmp_path):
    path = _write(tmp_path / "pairs.jsonl", ROWS)
    with pytest.raises(ValueError, match=r"datasets\[0\]\.split"):
        DatasetSpec.from_dict({"name": "x", "source": "local", "path": str(path), "task_type": "qa", "split": "test"})
    with pytest.raises(ValueError, match="one 'train' split"):
        load_pairs(_spec(path), split="test")
