"""``st-jce eval`` end to end on MiniLM against nDCG@10 computed from scratch, its outputs, its input errors;
and the wiring of ``st-jce push``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from eval_helpers import ndcg_at_10, read_jsonl, read_qrels
from sentence_transformers import SentenceTransformer

from st_jce import PREFIXES
from st_jce.cli import main
from st_jce.evaluation import parse_data
from st_jce.matryoshka import truncate_and_normalize

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m st_jce.cli`` with the Hub switched off, so any Hub access fails the run."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "st_jce.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_eval_matches_ndcg_from_encode_query_and_encode_document(minilm_path, mbpp_slice, tmp_path):
    output_dir = tmp_path / "out"
    run = run_cli("eval", minilm_path, "--data", f"{mbpp_slice}:nl2code", "--matryoshka-dims", "64,128",
                  "--max-seq-length", "256", "--dtype", "float32", "--output-dir", str(output_dir))
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((output_dir / "summary.json").read_text())
    task = summary["tasks"]["mbpp-slice"]

    model = SentenceTransformer(minilm_path, device="cpu")
    model.max_seq_length = 256
    queries, corpus = read_jsonl(mbpp_slice / "queries.jsonl"), read_jsonl(mbpp_slice / "corpus.jsonl")
    query_embeddings = model.encode_query([row["text"] for row in queries], prompt=PREFIXES["nl2code"]["query"])
    doc_embeddings = model.encode_document([row["text"] for row in corpus], prompt=PREFIXES["nl2code"]["document"])
    ids = ([row["_id"] for row in queries], [row["_id"] for row in corpus])
    qrels = read_qrels(mbpp_slice / "qrels.tsv")
    for dim in (64, 128, 384):
        truncated = truncate_and_normalize(query_embeddings, dim), truncate_and_normalize(doc_embeddings, dim)
        expected = ndcg_at_10(*truncated, *ids, qrels)
        assert task["by_dim"][str(dim)] == pytest.approx(expected, abs=0.002), dim
    assert task["ndcg_at_10"] == task["by_dim"]["384"]
    assert 0.0 <= min(task["by_dim"].values()) and max(task["by_dim"].values()) <= 1.0
    assert task["task_type"] == "nl2code"
    assert summary["settings"]["max_seq_length"] == 256

    [mteb_result] = (output_dir / "results").glob("*/*/mbpp-slice.json")
    mteb_ndcg = json.loads(mteb_result.read_text())["scores"]["test"][0]["ndcg_at_10"]
    assert mteb_ndcg == task["ndcg_at_10"]
    assert len(list((output_dir / "results").glob("*/*/experiments/truncate_dim_*/mbpp-slice.json"))) == 2

    report = (output_dir / "report.md").read_text()
    assert f"| mbpp-slice | nl2code | {100 * task['ndcg_at_10']:.2f} | – | – |" in report
    assert "![nDCG@10 against Matryoshka dimension](ndcg_by_dim.png)" in report
    assert (output_dir / "ndcg_by_dim.png").read_bytes().startswith(b"\x89PNG")
    assert report in run.stdout


def test_malformed_folder_fails_before_the_model_loads(mbpp_slice, capsys):
    with (mbpp_slice / "queries.jsonl").open("a") as queries:
        queries.write('{"_id": "broken", "text": \n')
    n_lines = len((mbpp_slice / "queries.jsonl").read_text().splitlines())
    status = main(["eval", "no/such-model", "--data", f"{mbpp_slice}:nl2code"])
    assert status == 2
    assert f"queries.jsonl, line {n_lines}: not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "message"),
    [(":nosuchtype", "Unknown task type 'nosuchtype'"), ("", "no task type. Write PATH:TASK_TYPE")],
)
def test_data_without_a_valid_task_type_is_refused(mbpp_slice, capsys, data, message):
    assert main(["eval", "no/such-model", "--data", f"{mbpp_slice}{data}"]) == 2
    assert message in capsys.readouterr().err


def test_task_type_applies_to_data_given_without_one(mbpp_slice):
    assert parse_data([str(mbpp_slice)], "code2nl") == [(mbpp_slice, "code2nl")]


def test_bad_matryoshka_dims_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "model", "--data", "x:nl2code", "--matryoshka-dims", "64,abc"])
    assert exit_info.value.code == 2
    assert "comma-separated list of integers" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], dict(portable=True, private=False, revision=None, token=None)),
        (["--native", "--private", "--revision", "dev", "--token", "hf_x"],
         dict(portable=False, private=True, revision="dev", token="hf_x")),
    ],
)
def test_push_hands_its_arguments_to_push_model(monkeypatch, flags, expected):
    calls = []
    fake_publish = types.ModuleType("st_jce.model")
    fake_publish.push_model = lambda model_dir, repo_id, **kwargs: calls.append((model_dir, repo_id, kwargs))
    monkeypatch.setitem(sys.modules, "st_jce.model", fake_publish)
    assert main(["push", "out/final", "me/code-embedder", *flags]) == 0
    assert calls == [("out/final", "me/code-embedder", expected)]
