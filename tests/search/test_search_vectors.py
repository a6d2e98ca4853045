"""Exact search (st_jce.search.vectors) against a full sort of every score computed here."""

from __future__ import annotations

import numpy as np
import pytest

from st_jce.search import vectors
from st_jce.search.vectors import exact_top_k


@pytest.mark.parametrize("k", [1, 3, 4, 5, 9, 10, 12])
def test_exact_top_k_over_several_blocks_is_the_full_sort(monkeypatch, k):
    monkeypatch.setattr(vectors, "BLOCK_ROWS", 4)  # 10 rows: blocks of 4, 4 and 2, k below, at and above a block
    rng = np.random.default_rng(0)
    stored = rng.standard_normal((10, 8)).astype(np.float32)
    stored[7] = stored[2]  # a tie across blocks: the earlier row first
    queries = rng.standard_normal((3, 8)).astype(np.float32)
    rows, scores = exact_top_k(queries, stored, "float32", None, k)
    full = queries @ stored.T
    expected = [np.lexsort((np.arange(10), -row))[:k] for row in full]
    assert rows.tolist() == [order.tolist() for order in expected]
    np.testing.assert_allclose(scores, np.take_along_axis(full, np.array(expected), axis=1), rtol=1e-6)
