"""Fixtures of the evaluation tests (``minilm_path`` and ``shared_data`` come from ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_helpers import write_slice


@pytest.fixture
def mbpp_slice(shared_data, tmp_path) -> Path:
    """The first 40 MBPP queries with their 40 solutions and 20 distractor solutions, as a BEIR folder."""
    return write_slice(shared_data / "mbpp", tmp_path / "mbpp-slice")
