"""Stored vectors at a precision, and the exact search over them that every other search is checked against.

``float32`` stores the unit-length embeddings; ``int8`` and ``binary`` store what sentence-transformers'
own :func:`~sentence_transformers.util.quantize_embeddings` makes of them (int8 with per-dimension ranges
calibrated once per index and kept in its manifest, so every shard and every query uses the same buckets;
binary as sign bits packed into bytes). A query stays in float32 and is scored against each stored vector
as sentence-transformers rescores quantized candidates:

- ``float32``: the dot product, i.e. the cosine similarity;
- ``int8``: the dot product with the dequantized vector (each bucket back to its value);
- ``binary``: the cosine similarity with the ±1 sign vector (the same ranking as sentence-transformers'
  dot product with the 0/1 bits, on a cosine scale).

Examples
--------
>>> documents = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]], dtype=np.float32)
>>> rows, scores = exact_top_k(np.array([[1.0, 0.0]], dtype=np.float32), documents, "float32", None, k=2)
>>> rows.tolist(), [round(float(score), 2) for score in scores[0]]
([[1, 0]], [1.0, 0.6])
"""

from __future__ import annotations

import numpy as np
from sentence_transformers.util import quantize_embeddings

from st_jce.search.settings import PRECISIONS
from st_jce.top_k import top_k_order

BLOCK_ROWS = 65_536  # stored vectors scored at once: bounds the dequantized copy and the score matrix


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a ``ValueError`` naming them."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: use one of {list(PRECISIONS)}.")
    return precision


def calibration_ranges(embeddings: np.ndarray) -> np.ndarray:
    """int8 buckets from ``embeddings``: their per-dimension minimum and maximum, shape ``(2, dim)``; a single
    row gives the whole [-1, 1] range of a unit vector's components instead."""
    if len(embeddings) < 2:
        return np.vstack([-np.ones(embeddings.shape[1]), np.ones(embeddings.shape[1])]).astype(np.float32)
    return np.vstack([embeddings.min(axis=0), embeddings.max(axis=0)]).astype(np.float32)


def quantize(embeddings: np.ndarray, precision: str, ranges: np.ndarray | None) -> np.ndarray:
    """Unit-length float32 ``embeddings`` as stored at ``precision`` (``ranges``: the int8 buckets)."""
    if precision == "float32":
        return np.asarray(embeddings, dtype=np.float32)
    return quantize_embeddings(embeddings, precision=precision, ranges=ranges)


def exact_scores(queries: np.ndarray, stored: np.ndarray, precision: str, ranges: np.ndarray | None) -> np.ndarray:
    """The score of every float32 query against every stored vector, ``(queries, stored rows)``, computed
    :data:`BLOCK_ROWS` stored vectors at a time."""
    if len(stored) <= BLOCK_ROWS:
        return _block_scores(queries, stored, precision, ranges)
    return np.concatenate([_block_scores(queries, stored[start:start + BLOCK_ROWS], precision, ranges)
                           for start in range(0, len(stored), BLOCK_ROWS)], axis=1)


def _block_scores(queries: np.ndarray, stored: np.ndarray, precision: str, ranges: np.ndarray | None) -> np.ndarray:
    if precision == "float32":
        return queries @ stored.T
    if precision == "int8":
        steps = (ranges[1] - ranges[0]) / 255
        steps = np.where(steps == 0, 1, steps)  # as quantize_embeddings divides
        return queries @ ((stored.astype(np.float32) + 128) * steps + ranges[0]).T
    signs = np.unpackbits(stored.view(np.uint8) ^ 0x80, axis=1)[:, :queries.shape[1]].astype(np.float32) * 2 - 1
    return queries @ signs.T / np.sqrt(queries.shape[1], dtype=np.float32)


def exact_top_k(queries: np.ndarray, stored: np.ndarray, precision: str, ranges: np.ndarray | None,
                k: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the ``k`` best stored vectors of each query, best first (ties: the earlier row), and their
    scores; brute force over every stored vector, :data:`BLOCK_ROWS` at a time."""
    k = min(k, len(stored))
    if k == 0:
        return np.empty((len(queries), 0), dtype=np.int64), np.empty((len(queries), 0), dtype=np.float32)
    best_rows = np.empty((len(queries), 0), dtype=np.int64)
    best_scores = np.empty((len(queries), 0), dtype=np.float32)
    for start in range(0, len(stored), BLOCK_ROWS):
        scores = _block_scores(queries, stored[start:start + BLOCK_ROWS], precision, ranges)
        best_scores = np.concatenate([best_scores, scores], axis=1)
        best_rows = np.concatenate([best_rows, np.broadcast_to(np.arange(start, start + scores.shape[1]),
                                                               scores.shape)], axis=1)
        order = top_k_order(best_scores, best_rows, min(k, best_scores.shape[1]))  # k may exceed a block
        best_scores = np.take_along_axis(best_scores, order, axis=1)
        best_rows = np.take_along_axis(best_rows, order, axis=1)
    return best_rows, best_scores
