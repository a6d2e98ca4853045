"""Docstring examples run with the tests (``--doctest-modules`` in setup.cfg), so an example that no longer
does what it shows fails CI. Examples that build a random-weight Qwen2 (``st_jce.testing.random_qwen2`` /
``qwen_tokenizer``) need the real Qwen2.5 tokenizer from ../shared and skip without it, as the tests do."""

from __future__ import annotations

import pytest

from st_jce.testing import qwen_tokenizer_files

QWEN_STAND_INS = ("random_qwen2", "qwen_tokenizer")


def pytest_runtest_setup(item: pytest.Item) -> None:
    example = getattr(item, "dtest", None)  # a docstring example (pytest's DoctestItem)
    if example is None or not any(name in example.docstring for name in QWEN_STAND_INS):
        return
    if qwen_tokenizer_files() is None:
        # A skip raised here, not a marker: pytest cannot place a marker's skip for examples without a line.
        pytest.skip("the example builds a Qwen2 model: needs the Qwen2.5 tokenizer in ../shared/tokenizers/qwen2.5 "
                    "(shared/ folder absent)")
