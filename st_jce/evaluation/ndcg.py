"""nDCG@k of exact cosine search, without mteb: how training scores its local evaluation folders.

The numbers are those of ``st-jce eval`` (mteb, which scores with pytrec_eval): documents are ranked by
cosine similarity, ties broken by document id, larger first, as trec_eval does; a document at rank *r*
gains its relevance grade (negative grades count as 0) divided by log2(r + 1); each query's DCG@k is
divided by the DCG@k of its ideal ranking (0 for a query without a relevant document), and the mean is
taken over the queries of the qrels.

Examples
--------
>>> import numpy as np
>>> queries = np.array([[1.0, 0.0]])
>>> documents = np.array([[1.0, 0.1], [0.0, 1.0], [1.0, 1.0]])  # cosine 0.995, 0, 0.707
>>> rankings = rank_documents(queries, documents, ["d1", "d2", "d3"], k=2)
>>> rankings
[['d1', 'd3']]
>>> round(ndcg_at_k({"q1": rankings[0]}, {"q1": {"d3": 1}}, k=10), 4)  # the one relevant at rank 2: 1 / log2(3)
0.6309
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from sentence_transformers.util import cos_sim

from st_jce.top_k import top_k_order

QUERY_CHUNK = 1024  # queries scored at once: bounds the score matrix to QUERY_CHUNK x corpus size


def rank_documents(query_embeddings: np.ndarray, document_embeddings: np.ndarray, document_ids: Sequence[str],
                   k: int = 10, dim: int | None = None) -> list[list[str]]:
    """The ids of each query's ``k`` most cosine-similar documents, best first, ties by id (larger first).

    ``dim`` compares the first ``dim`` components only (Matryoshka truncation); ``None``: all of them.
    """
    document_ids = list(document_ids)
    # Each id's place in descending string order: trec_eval breaks score ties by document id, larger first.
    by_id_descending = sorted(range(len(document_ids)), key=document_ids.__getitem__, reverse=True)
    id_order = np.empty(len(document_ids), dtype=np.int64)
    id_order[by_id_descending] = np.arange(len(document_ids))
    k = min(k, len(document_ids))
    documents = document_embeddings[:, :dim]
    rankings = []
    for start in range(0, len(query_embeddings), QUERY_CHUNK):
        with torch.autocast("cpu", enabled=False):  # scores in the embeddings' precision, even under a bf16 autocast
            scores = cos_sim(query_embeddings[start:start + QUERY_CHUNK, :dim], documents).numpy()
        for best in top_k_order(scores, np.broadcast_to(id_order, scores.shape), k):
            rankings.append([document_ids[index] for index in best])
    return rankings


def ndcg_at_k(rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int = 10) -> float:
    """Mean nDCG@k over the queries of ``qrels`` (query id -> {document id: grade}), each ranked in ``rankings``.

    Examples
    --------
    >>> # q1's relevant document at rank 2 (1 / log2(3) = 0.6309); q2 has none, so 0
    >>> round(ndcg_at_k({"q1": ["d2", "d1"], "q2": ["d1"]}, {"q1": {"d1": 1}, "q2": {"d1": 0}}), 4)
    0.3155
    """
    scores = []
    for query_id, grades in qrels.items():
        gains = [max(grades.get(doc_id, 0), 0) for doc_id in rankings[query_id][:k]]
        ideal = sorted((grade for grade in grades.values() if grade > 0), reverse=True)[:k]
        scores.append(_dcg(gains) / _dcg(ideal) if ideal else 0.0)
    return float(np.mean(scores))


def _dcg(gains: Sequence[int]) -> float:
    return float(np.sum(np.asarray(gains, dtype=np.float64) / np.log2(np.arange(2, len(gains) + 2))))
