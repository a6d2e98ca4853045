"""Fixtures of the search tests (``tiny_qwen_dir``, ``minilm_path``, ``shared_data`` come from ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from search_helpers import write_tree

import st_jce
from st_jce.search import index as index_module
from st_jce.search.approximate import approximate_top_k


@pytest.fixture(scope="session")
def tiny_model(tiny_qwen_dir):
    """The tiny random Qwen2 as an st-jce model, in float32 (deterministic on any CPU)."""
    return st_jce.build_model(tiny_qwen_dir, dtype="float32")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tmp_path_factory) -> str:
    """``tiny_model`` saved, for what loads a model by path: subprocesses, Ray actors, the CLI."""
    folder = tmp_path_factory.mktemp("tiny-model") / "model"
    tiny_model.save_pretrained(str(folder))
    return str(folder)


@pytest.fixture
def code_tree(tmp_path) -> Path:
    """A small Python package (see :func:`search_helpers.write_tree`)."""
    return write_tree(tmp_path / "tree")


@pytest.fixture
def graph_depths(monkeypatch) -> list[int]:
    """Approximate searches go through the graph however deep they must look (a test index is far below the
    size where brute force takes over: ``APPROXIMATE_DEPTH_LIMIT``); the depths the graph was asked for."""
    depths = []

    def recorded(graph, queries, stored, precision, ranges, k):
        depths.append(k)
        return approximate_top_k(graph, queries, stored, precision, ranges, k)

    monkeypatch.setattr(index_module, "APPROXIMATE_DEPTH_LIMIT", float("inf"))
    monkeypatch.setattr(index_module, "approximate_top_k", recorded)
    return depths
