"""Fixtures of the GGUF / PyPI backbone tests, imported by each test module (a conftest.py here would clash,
under --doctest-modules, with the other folders' conftest modules): a tiny GGUF written in-process, and a
cache that is never the user's ``~/.cache``."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_gguf import write_tiny_gguf


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory) -> Path:
    """Conversions without an explicit ``cache_dir`` go to a temporary ``$ST_JCE_CACHE``; the same one for every
    module that imports this fixture, so a real GGUF is converted once per session."""
    root = tmp_path_factory.getbasetemp() / "st_jce_cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ST_JCE_CACHE", str(root))
        yield root / "gguf"


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    """The tiny random Qwen2 GGUF of tests/fixtures/tiny_gguf.py (Q8_0 matrices, byte-level tokenizer)."""
    return write_tiny_gguf(tmp_path_factory.mktemp("tiny_gguf") / "tiny.gguf")
