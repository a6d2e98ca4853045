"""benchmarks/transfer.py: the mined dev sets are BEIR folders whose every query is judged against its own pair's
document, scores match st-jce's evaluator, and a cached set is not computed (nor its model loaded) twice."""

from __future__ import annotations

import json

import pytest
import transfer

import st_jce
from st_jce.data.beir import read_beir_folder
from st_jce.data.mining import mine_pairs
from st_jce.training.evaluator import LocalRetrievalEvaluator


def test_a_mined_dev_folder_judges_each_query_against_its_own_document(tmp_path):
    folder = transfer.write_mined_folder("nl2code", tmp_path / "mined")
    pairs = mine_pairs("nl2code", packages=transfer.DEV_PACKAGES, include_stdlib=False, split="test",
                       holdout_fraction=transfer.DEV_SHARE)

    data = read_beir_folder(folder)
    assert len(data.queries) == len(pairs) > 100
    for index, (query, document) in enumerate(zip(pairs["query"], pairs["document"])):
        assert data.queries[f"q{index}"] == query
        [document_id] = data.qrels[f"q{index}"]
        assert data.corpus[document_id]["text"] == document


@pytest.fixture
def small_set(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    functions = {"add": "def add(a, b):\n    return a + b", "read": "def read(path):\n    return open(path).read()",
                 "sort": "def sort_items(items):\n    return sorted(items)"}
    with (folder / "queries.jsonl").open("w") as queries, (folder / "corpus.jsonl").open("w") as corpus:
        for name, code in functions.items():
            queries.write(json.dumps({"_id": name, "text": f"{name} things"}) + "\n")
            corpus.write(json.dumps({"_id": f"d-{name}", "text": code}) + "\n")
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n"
                                      + "".join(f"{name}\td-{name}\t1\n" for name in functions))
    return f"{folder}:nl2code"


def test_scores_equal_the_evaluators_and_are_cached(tiny_qwen_dir, small_set, tmp_path):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    evaluator = LocalRetrievalEvaluator([small_set], tmp_path / "eval", max_seq_length=64)
    evaluator(model)
    expected = evaluator.last_summary["tasks"]["small"]["ndcg_at_10"]

    first = transfer.cached_scores(tmp_path, {"model": "tiny"}, lambda: model, [small_set], max_seq_length=64)
    assert first == {"small": pytest.approx(expected, abs=1e-6)}

    def no_model():
        raise AssertionError("a cached set loaded its model again")

    assert transfer.cached_scores(tmp_path, {"model": "tiny"}, no_model, [small_set], max_seq_length=64) == first
