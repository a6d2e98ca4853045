"""Fixtures of the training tests (``tiny_qwen_dir``, ``minilm_path`` come from ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_helpers import write_pairs


@pytest.fixture
def pairs_file(tmp_path) -> Path:
    """48 distinct (query, code) pairs as a local JSONL file with columns ``q`` / ``code``."""
    return write_pairs(tmp_path / "pairs.jsonl")
