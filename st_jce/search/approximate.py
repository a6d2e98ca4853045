"""The approximate index: a usearch HNSW graph over the stored vectors, at their own precision.

usearch holds float32 vectors (inner product), int8 vectors (inner product of the quantized query) and
packed sign bits (Hamming distance) in one library and one file format, memory-mapped when opened, so all
three precisions get the same approximate search. Its candidates are rescored with the exact scores of
:mod:`st_jce.search.vectors` (for int8 / binary, :data:`RESCORE_MULTIPLIER` candidates per result, as
sentence-transformers' ``semantic_search_usearch`` rescores), so an approximate hit's score is the exact
score of that chunk and only recall can differ from exact search. Why usearch over FAISS, with the
measurements: ``docs/search.md``.

Examples
--------
>>> import tempfile, pathlib
>>> rng = np.random.default_rng(0)
>>> stored = rng.standard_normal((500, 16)).astype(np.float32)
>>> stored /= np.linalg.norm(stored, axis=1, keepdims=True)
>>> path = pathlib.Path(tempfile.mkdtemp()) / APPROXIMATE_FILE
>>> build_approximate(stored, "float32", path)
>>> rows, scores = approximate_top_k(open_approximate(path), stored[:2], stored, "float32", None, k=3)
>>> rows[:, 0].tolist()  # each vector is its own nearest neighbour
[0, 1]
"""

from __future__ import annotations

import os

import numpy as np

from st_jce.atomic import atomic_path
from st_jce.search.vectors import exact_scores, quantize

APPROXIMATE_FILE = "approximate.usearch"
# HNSW graph degree and beam widths: the measured trade-off of docs/search.md (recall@10 >= 0.99 on
# clustered 100k x 896 vectors at well under a millisecond per query on 2 cores).
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 128
RESCORE_MULTIPLIER = 4  # quantized candidates per result; float32 candidates are exact already
_USEARCH_KIND = {"float32": ("f32", "ip"), "int8": ("i8", "ip"), "binary": ("b1", "hamming")}


def build_approximate(stored: np.ndarray, precision: str, path: str | os.PathLike) -> None:
    """Build the HNSW graph over ``stored`` (rows keyed by their number) and save it atomically at ``path``."""
    from usearch.index import Index

    dtype, metric = _USEARCH_KIND[precision]
    vectors = _as_usearch(stored, precision)
    ndim = vectors.shape[1] * 8 if precision == "binary" else vectors.shape[1]
    index = Index(ndim=ndim, metric=metric, dtype=dtype, connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD,
                  expansion_search=EXPANSION_SEARCH)
    index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=0)
    with atomic_path(path) as temporary:
        index.save(temporary)


def open_approximate(path: str | os.PathLike):
    """The saved graph at ``path``, memory-mapped (nothing is read until searched)."""
    from usearch.index import Index

    index = Index.restore(str(path), view=True)
    index.expansion_search = EXPANSION_SEARCH
    return index


def approximate_top_k(index, queries: np.ndarray, stored: np.ndarray, precision: str, ranges: np.ndarray | None,
                      k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and exact scores of each float32 query's ``k`` best candidates from the graph, best first."""
    k = min(k, len(stored))
    count = k * (1 if precision == "float32" else RESCORE_MULTIPLIER)
    probes = _as_usearch(quantize(queries, precision, ranges), precision)
    matches = index.search(probes, count=count, threads=1)
    keys = np.atleast_2d(matches.keys).astype(np.int64)
    # One query comes back as a Matches without `counts`: all of its keys are real matches.
    counts = np.reshape(getattr(matches, "counts", keys.shape[1]), -1)
    rows, scores = [], []
    for query, candidates in zip(queries, (row[:found] for row, found in zip(keys, counts))):
        candidate_scores = exact_scores(query[None], stored[candidates], precision, ranges)[0]
        order = np.lexsort((candidates, -candidate_scores))[:k]
        rows.append(np.pad(candidates[order], (0, k - len(order)), constant_values=-1))
        scores.append(np.pad(candidate_scores[order], (0, k - len(order)), constant_values=-np.inf))
    return np.array(rows, dtype=np.int64).reshape(-1, k), np.array(scores, dtype=np.float32).reshape(-1, k)


def _as_usearch(vectors: np.ndarray, precision: str) -> np.ndarray:
    # quantize_embeddings' "binary" is the packed bits shifted into int8; usearch's b1 reads the bytes raw.
    return vectors.view(np.uint8) ^ 0x80 if precision == "binary" else vectors
