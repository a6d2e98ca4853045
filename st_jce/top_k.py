"""The ``k`` best of each row of scores, with ties broken by a key: the one ranking rule of exact search and of the
nDCG evaluator.

Examples
--------
>>> top_k_order(np.array([[0.5, 0.9, 0.5, 0.1]]), np.array([[3, 0, 2, 1]]), 2).tolist()  # the tie: key 2 first
[[1, 2]]
"""

from __future__ import annotations

import numpy as np


def top_k_order(scores: np.ndarray, tie_keys: np.ndarray, k: int) -> np.ndarray:
    """Positions of each row's ``k`` largest scores (``k`` at most the number of columns), best first, ties broken
    by the smaller ``tie_keys`` entry (same shape as ``scores``): a partition, then a sort of the top ``k`` alone."""
    order = []
    for row_scores, row_keys in zip(scores, tie_keys):
        kth_best = np.partition(row_scores, -k)[-k]
        candidates = np.flatnonzero(row_scores >= kth_best)  # the top k and every entry tied with the k-th
        order.append(candidates[np.lexsort((row_keys[candidates], -row_scores[candidates]))][:k])
    return np.array(order, dtype=np.int64).reshape(len(scores), k)
