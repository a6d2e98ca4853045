"""The recipe excerpt the tests parse is still word for word the one in ../shared/paper/RECIPE.md."""

from __future__ import annotations

import pytest
from workspace import shared_dir


def test_the_excerpt_is_verbatim_recipe_text(recipe_text):
    root = shared_dir()
    if root is None or not (root / "paper" / "RECIPE.md").is_file():
        pytest.skip("../shared/paper/RECIPE.md is absent: nothing to compare the excerpt with")
    assert recipe_text.strip() in (root / "paper" / "RECIPE.md").read_text(encoding="utf-8")
    assert "Training datasets by task type" in recipe_text and "| MBPP |" in recipe_text
