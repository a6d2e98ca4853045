"""Helpers of the evaluation tests: slices of ``../shared/data`` folders, a recording oracle model and an
nDCG@10 written from scratch (the independent computation that mteb's numbers are checked against)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import InputModule


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").split("\n")[1:]:
        if not line.strip():
            continue
        query_id, doc_id, score = line.split("\t")
        qrels.setdefault(query_id, {})[doc_id] = int(score)
    return qrels


def write_slice(source: Path, target: Path, n_queries: int = 40, n_distractors: int = 20) -> Path:
    """Copy the first ``n_queries`` queries of ``source``, their relevant documents and ``n_distractors`` other
    documents into ``target`` (a BEIR folder)."""
    queries = read_jsonl(source / "queries.jsonl")[:n_queries]
    query_ids = {query["_id"] for query in queries}
    qrels = {query_id: docs for query_id, docs in read_qrels(source / "qrels.tsv").items() if query_id in query_ids}
    relevant = {doc_id for docs in qrels.values() for doc_id in docs}
    corpus = read_jsonl(source / "corpus.jsonl")
    kept = [doc for doc in corpus if doc["_id"] in relevant]
    kept += [doc for doc in corpus if doc["_id"] not in relevant][:n_distractors]
    target.mkdir(parents=True)
    (target / "queries.jsonl").write_text("".join(json.dumps(query) + "\n" for query in queries), encoding="utf-8")
    (target / "corpus.jsonl").write_text("".join(json.dumps(doc) + "\n" for doc in kept), encoding="utf-8")
    lines = ["query-id\tcorpus-id\tscore\n"] + [f"{query_id}\t{doc_id}\t{score}\n"
                                                for query_id, docs in qrels.items() for doc_id, score in docs.items()]
    (target / "qrels.tsv").write_text("".join(lines), encoding="utf-8")
    return target


class RecordingOracle(InputModule):
    """An input module that embeds each text as a one-hot vector and records every text it receives.

    ``slot_of`` maps a raw text (no prefix) to its one-hot position: give a query and its relevant
    document the same slot and they coincide. Each received text is recorded with its prompt in front,
    exactly as a tokenizer would see it.
    """

    def __init__(self, slot_of: dict[str, int], dim: int) -> None:
        super().__init__()
        self.slot_of = slot_of
        self.dim = dim
        self.received: list[str] = []

    def preprocess(self, inputs, prompt: str | None = None, **kwargs) -> dict:
        self.received += [(prompt or "") + text for text in inputs]
        return {"slot": torch.tensor([self.slot_of[text] for text in inputs])}

    def forward(self, features: dict, **kwargs) -> dict:
        features["sentence_embedding"] = torch.nn.functional.one_hot(features["slot"], self.dim).float()
        return features

    def get_embedding_dimension(self) -> int:
        return self.dim

    def save(self, output_path: str, *args, **kwargs) -> None:
        raise NotImplementedError("RecordingOracle is a test double; it is never saved.")


def oracle_model(folder: Path) -> SentenceTransformer:
    """A model whose query and relevant-document vectors coincide (one slot per relevant pair) and whose
    other documents get slots of their own. Its first module is a :class:`RecordingOracle`."""
    queries = {query["_id"]: query["text"] for query in read_jsonl(folder / "queries.jsonl")}
    corpus = {doc["_id"]: doc["text"] for doc in read_jsonl(folder / "corpus.jsonl")}
    slot_of: dict[str, int] = {}
    for query_id, docs in read_qrels(folder / "qrels.tsv").items():
        for doc_id in docs:
            slot = slot_of.setdefault(corpus[doc_id], len(slot_of))
            slot_of[queries[query_id]] = slot
    for text in corpus.values():
        slot_of.setdefault(text, len(slot_of))
    return SentenceTransformer(modules=[RecordingOracle(slot_of, dim=len(slot_of))], device="cpu")


def ndcg_at_10(query_embeddings: np.ndarray, doc_embeddings: np.ndarray, query_ids: list[str],
               doc_ids: list[str], qrels: dict[str, dict[str, int]]) -> float:
    """Mean nDCG@10 with cosine similarity, computed from scratch (linear gains, log2 discounts)."""
    queries = query_embeddings / np.linalg.norm(query_embeddings, axis=1, keepdims=True)
    docs = doc_embeddings / np.linalg.norm(doc_embeddings, axis=1, keepdims=True)
    scores = queries @ docs.T
    values = []
    for row, query_id in enumerate(query_ids):
        relevant = qrels.get(query_id, {})
        if not any(score > 0 for score in relevant.values()):
            continue
        ranking = np.argsort(-scores[row], kind="stable")[:10]
        dcg = sum(relevant.get(doc_ids[index], 0) / np.log2(rank + 2) for rank, index in enumerate(ranking))
        ideal = sorted(relevant.values(), reverse=True)[:10]
        idcg = sum(gain / np.log2(rank + 2) for rank, gain in enumerate(ideal))
        values.append(dcg / idcg)
    return float(np.mean(values))
