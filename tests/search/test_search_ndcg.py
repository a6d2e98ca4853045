"""Search quality through index + search equals st-jce's own nDCG@10 (the training evaluator's exact search)
with the same model and prefixes: the index adds no loss at full precision."""

from __future__ import annotations

import json

import pytest

import st_jce
from st_jce.data.beir import read_beir_folder
from st_jce.evaluation.ndcg import ndcg_at_k
from st_jce.search import Index, build_index
from st_jce.training.evaluator import LocalRetrievalEvaluator


def _ndcg_through_the_index(folder, index_dir, model) -> float:
    data = read_beir_folder(folder)
    index = Index(index_dir, model=model)
    query_ids = list(data.qrels)
    hits = index.search([data.queries[query_id] for query_id in query_ids], k=10, exact=True)
    return ndcg_at_k({query_id: [hit.id for hit in query_hits] for query_id, query_hits in zip(query_ids, hits)},
                     data.qrels, k=10)


@pytest.fixture
def small_beir(tmp_path):
    """30 functions, each the answer to one query (and a close distractor for some)."""
    folder = tmp_path / "beir"
    folder.mkdir()
    names = ["add", "subtract", "multiply", "divide", "power", "modulo", "negate", "absolute", "maximum", "minimum"]
    corpus = [{"_id": f"d{i}", "title": "", "text": f"def {name}_{variant}(a, b):\n    return {name}(a, b, {variant})"}
              for i, (name, variant) in enumerate((name, variant) for name in names for variant in range(3))]
    queries = [{"_id": f"q{i}", "text": f"{name} two numbers, variant {variant}"}
               for i, (name, variant) in enumerate((name, variant) for name in names for variant in range(3))]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(row) + "\n" for row in queries))
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(30)))
    return folder


@pytest.mark.parametrize("dim", [None, 32])
def test_index_and_search_score_the_evaluator_ndcg(tiny_model, small_beir, tmp_path, dim):
    build_index(small_beir, tmp_path / "index", tiny_model, dim=dim, show_progress=False)
    full = tiny_model.get_embedding_dimension()
    expected = LocalRetrievalEvaluator([f"{small_beir}:nl2code"], tmp_path / "eval").ndcg_by_dim(
        tiny_model, small_beir, "nl2code", [dim or full])[dim or full]
    assert _ndcg_through_the_index(small_beir, tmp_path / "index", tiny_model) == pytest.approx(expected, abs=0.002)


@pytest.mark.slow
def test_mbpp_through_the_index_scores_the_evaluator_ndcg(minilm_path, shared_data, tmp_path):
    model = st_jce.build_model(minilm_path, pooling="mean", dtype="float32")
    folder = shared_data / "mbpp"
    build_index(folder, tmp_path / "index", model, show_progress=False)
    expected = LocalRetrievalEvaluator([f"{folder}:nl2code"], tmp_path / "eval").ndcg_by_dim(
        model, folder, "nl2code", [model.get_embedding_dimension()])[model.get_embedding_dimension()]
    assert _ndcg_through_the_index(folder, tmp_path / "index", model) == pytest.approx(expected, abs=0.002)
