"""The mteb-free nDCG@10 of training's evaluation: against a hand computation, against pytrec_eval (mteb's
scorer) on runs full of ties, and end to end against ``st-jce eval`` on a real model and MBPP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sentence_transformers.util import cos_sim

import st_jce
from st_jce.evaluation import evaluate
from st_jce.evaluation.ndcg import ndcg_at_k, rank_documents
from st_jce.training import LocalRetrievalEvaluator


def test_ndcg_by_hand_with_grades_ties_and_a_query_without_relevant_documents():
    # q1: scores d2 0.9 > d4 = d3 0.5 (tie: larger id first, d4) > d1 0.1; grades d1 2, d3 1, d9 1 (never retrieved).
    queries = np.array([[1.0, 0.0], [0.0, 1.0]])
    documents = np.array([[0.1, math.sqrt(1 - 0.01)], [0.9, math.sqrt(1 - 0.81)], [0.5, math.sqrt(0.75)],
                          [0.5, math.sqrt(0.75)]])
    rankings = rank_documents(queries, documents, ["d1", "d2", "d3", "d4"], k=3)
    assert rankings[0] == ["d2", "d4", "d3"]
    qrels = {"q1": {"d1": 2, "d2": 0, "d3": 1, "d9": 1}, "q2": {"d1": 0}}
    dcg = 0 / math.log2(2) + 0 / math.log2(3) + 1 / math.log2(4)
    ideal = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    # q2 has no relevant document: it counts, with 0, as in mteb's mean.
    assert ndcg_at_k(dict(zip(["q1", "q2"], rankings)), qrels, k=3) == pytest.approx((dcg / ideal + 0) / 2)


def test_ndcg_matches_pytrec_eval_on_runs_full_of_ties():
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = np.random.default_rng(0)
    # Two-level coordinates make many documents exactly equally similar to a query; float32, as embeddings are
    # (pytrec_eval keeps scores in single precision, which would merge float64 near-ties into ties).
    queries, documents = (rng.integers(0, 2, shape).astype(np.float32) + 0.5 for shape in ((30, 4), (200, 4)))
    query_ids, document_ids = [f"q{index}" for index in range(30)], [f"d{index}" for index in range(200)]
    qrels = {query_id: {document_ids[index]: int(rng.integers(-1, 4)) for index in rng.choice(200, 5, replace=False)}
             for query_id in query_ids}
    for dim in (4, 2):
        scores = cos_sim(queries[:, :dim], documents[:, :dim]).numpy()  # the similarity mteb scores with
        run = {query_id: {doc_id: float(score) for doc_id, score in zip(document_ids, row)}
               for query_id, row in zip(query_ids, scores)}
        expected = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(run)
        rankings = dict(zip(query_ids, rank_documents(queries, documents, document_ids, k=10, dim=dim)))
        assert ndcg_at_k(rankings, qrels) == pytest.approx(np.mean([expected[q]["ndcg_cut_10"] for q in query_ids]))


def test_training_evaluator_measures_what_st_jce_eval_measures(minilm_path, mbpp_slice, tmp_path):
    model = st_jce.build_model(minilm_path, pooling="mean", max_seq_length=128, dtype="float32")
    evaluator = LocalRetrievalEvaluator([f"{mbpp_slice}:nl2code"], tmp_path / "train-eval", matryoshka_dims=[64, 128],
                                        batch_size=16)
    evaluator(model, steps=3)
    mteb_summary = evaluate(model, data=[f"{mbpp_slice}:nl2code"], matryoshka_dims=[64, 128], batch_size=16,
                            max_seq_length=128, output_dir=tmp_path / "st-jce-eval", show_progress_bar=False)
    ours, theirs = evaluator.last_summary["tasks"]["mbpp-slice"], mteb_summary["tasks"]["mbpp-slice"]
    assert ours["by_dim"] == pytest.approx(theirs["by_dim"], abs=1e-5)
    assert sorted(ours["by_dim"]) == [64, 128, 384] and 0 < ours["ndcg_at_10"] < 1
    assert (tmp_path / "train-eval" / "step-3" / "summary.json").is_file()


def test_folders_sharing_a_corpus_encode_it_once_and_score_as_alone(tiny_qwen_dir, tmp_path):
    # Two query splits over one corpus, the second folder linking to the first's corpus (as MLQuestions' dev split
    # is read by benchmarks/transfer.py).
    functions = {f"f{index}": f"def {name}(values):\n    return {name}(values)" for index, name in
                 enumerate(["sorted", "reversed", "sum", "max", "min", "len"])}
    test, dev = tmp_path / "test", tmp_path / "dev"
    for folder, query_ids in ((test, ["f0", "f1", "f2"]), (dev, ["f3", "f4", "f5"])):
        folder.mkdir()
        (folder / "queries.jsonl").write_text("".join(f'{{"_id": "q-{i}", "text": "{functions[i].split("(")[0]}"}}\n'
                                                      for i in query_ids))
        (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q-{i}\t{i}\t1\n" for i in query_ids))
    (test / "corpus.jsonl").write_text("".join(f'{{"_id": "{i}", "text": {code!r}}}\n'.replace("'", '"')
                                               for i, code in functions.items()))
    (dev / "corpus.jsonl").symlink_to(test / "corpus.jsonl")
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    alone = {name: LocalRetrievalEvaluator([f"{folder}:nl2code"], tmp_path / f"alone-{name}")
             for name, folder in (("test", test), ("dev", dev))}
    for evaluator in alone.values():
        evaluator(model)

    documents_encoded = []
    encode_document = model.encode_document
    model.encode_document = lambda texts, **options: documents_encoded.append(len(texts)) or encode_document(texts, **options)
    together = LocalRetrievalEvaluator([f"{test}:nl2code", f"{dev}:nl2code"], tmp_path / "together")
    together(model)

    assert documents_encoded == [len(functions)]
    for name in ("test", "dev"):
        assert together.last_summary["tasks"][name]["ndcg_at_10"] == pytest.approx(
            alone[name].last_summary["tasks"][name]["ndcg_at_10"], abs=1e-6)
