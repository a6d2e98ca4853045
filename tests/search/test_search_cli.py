"""``st-jce index`` / ``st-jce search`` through ``st_jce.cli.main``: output for people and for tools, one-line errors."""

from __future__ import annotations

import json
import sys

import pytest
import torch
from workspace import real_qwen2

import st_jce
from st_jce.cli import main
from st_jce.search import Index


@pytest.fixture
def cli_index(tiny_model_dir, code_tree, tmp_path, capsys):
    out = tmp_path / "index"
    assert main(["index", str(code_tree), "--model", tiny_model_dir, "--out", str(out), "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert f"{out}: " in summary and "chunks from 5 files or records (5 embedded" in summary
    return out


def test_search_prints_file_line_name_score_and_snippet(cli_index, capsys):
    assert main(["search", str(cli_index), "area of a circle", "-k", "2", "--lines", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = Index(cli_index).search("area of a circle", k=2)
    assert len(lines) == 4  # a header and one snippet line per hit
    for header, snippet, hit in zip(lines[::2], lines[1::2], expected):
        rank, score, location, name = header.split()
        assert (location, name, float(score)) == (f"{hit.path}:{hit.start_line}", hit.name or hit.id,
                                                  pytest.approx(hit.score, abs=5e-4))
        assert snippet.strip() == hit.text.splitlines()[0].strip()


def test_search_json_is_the_hits(cli_index, capsys):
    assert main(["search", str(cli_index), "read rows from a csv file", "-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    expected = Index(cli_index).search("read rows from a csv file", k=3)
    assert [hit["id"] for hit in hits] == [hit.id for hit in expected]
    assert set(hits[0]) == {"id", "path", "name", "kind", "start_line", "end_line", "score", "similarity",
                            "context_similarity", "lexical", "text"}


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_query_model_runs_in_the_dtype_asked_for(cli_index, capsys, dtype):
    assert main(["search", str(cli_index), "area of a circle", "-k", "3", "--json", "--dtype", dtype]) == 0
    printed = [hit["score"] for hit in json.loads(capsys.readouterr().out)]
    index = Index(cli_index, dtype=dtype)
    assert next(index.model.parameters()).dtype == getattr(torch, dtype)
    assert printed == pytest.approx([hit.score for hit in index.search("area of a circle", k=3)], abs=1e-6)
    # Scores tell the two dtypes apart (the index was built in float32), so "auto" could not pass for both.
    other = Index(cli_index, dtype="bfloat16" if dtype == "float32" else "float32")
    assert printed != pytest.approx([hit.score for hit in other.search("area of a circle", k=3)], abs=1e-6)


def test_a_mismatched_model_is_a_one_line_error(cli_index, tmp_path, capsys):
    other = tmp_path / "other-model"
    st_jce.build_model(str(real_qwen2(tmp_path / "other", seed=7)), dtype="float32").save_pretrained(str(other))
    assert main(["search", str(cli_index), "area", "--model", str(other)]) == 2
    last_line = capsys.readouterr().err.rstrip("\n").split("\n")[-1]  # after the model-saving progress bars
    assert last_line.startswith("st-jce search: error: The model embeds the index's probe texts differently")


def test_searching_an_incomplete_index_says_to_rerun(cli_index, capsys):
    manifest = json.loads((cli_index / "manifest.json").read_text())
    (cli_index / "manifest.json").write_text(json.dumps({**manifest, "complete": False}))
    assert main(["search", str(cli_index), "area"]) == 2
    assert "incomplete" in capsys.readouterr().err


def test_without_the_index_extra_the_error_names_it(cli_index, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if pyarrow were not installed
    for name in [name for name in sys.modules if name.startswith("st_jce.search.") and name != "st_jce.search.cli"]:
        monkeypatch.delitem(sys.modules, name)
    assert main(["search", str(cli_index), "area"]) == 2
    assert "pip install 'st-jce[index]'" in capsys.readouterr().err
