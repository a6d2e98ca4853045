"""An index refuses a query model, prefix or dimension other than its own, and a rerun with other settings."""

from __future__ import annotations

import numpy as np
import pytest
from workspace import real_qwen2

import st_jce
from st_jce.search import Index, IndexMismatchError, IndexSettingsError, build_index


@pytest.fixture(scope="module")
def built(tiny_model, tmp_path_factory):
    from search_helpers import write_tree

    root = tmp_path_factory.mktemp("mismatch")
    out = root / "index"
    build_index(write_tree(root / "tree"), out, tiny_model, dim=32, show_progress=False)
    return out


def test_another_model_is_refused(built, tmp_path):
    other = st_jce.build_model(str(real_qwen2(tmp_path / "other", seed=1)), dtype="float32")
    with pytest.raises(IndexMismatchError, match=r"embeds the index's probe texts differently.*cosine"):
        Index(built, model=other).search("area of a circle")


def test_another_query_prefix_is_refused(built, tiny_qwen_dir):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    model.prompts["nl2code_query"] = "Search: "
    with pytest.raises(IndexMismatchError, match=r"query prefix is 'Search: '.*Find the most relevant code"):
        Index(built, model=model).search("area of a circle")


def test_a_task_type_that_embeds_documents_otherwise_is_refused_one_that_does_not_is_accepted(built, tiny_model):
    index = Index(built, model=tiny_model)
    with pytest.raises(IndexMismatchError, match=r"'qa' embeds documents with 'Candidate answer:\\n'"):
        index.search("area of a circle", task_type="qa")
    assert index.search("def area(r): return 3.14 * r * r", task_type="code2code", k=1)  # same document prefix


def test_a_narrower_model_or_wrong_query_width_is_refused(tmp_path, tiny_model, minilm_path, code_tree):
    minilm = st_jce.build_model(minilm_path, pooling="mean", dtype="float32")
    build_index(code_tree, tmp_path / "wide", minilm, show_progress=False)  # 384 dimensions
    with pytest.raises(IndexMismatchError, match=r"embeds in 64 dimensions, the index holds 384"):
        Index(tmp_path / "wide", model=tiny_model).search("area of a circle")
    with pytest.raises(ValueError, match=r"index holds 384-dimensional vectors"):
        Index(tmp_path / "wide", model=minilm).search_embeddings(np.ones((1, 64), dtype=np.float32))


def test_rebuilding_with_other_settings_is_refused_unless_overwritten(built, tiny_model, code_tree):
    with pytest.raises(IndexSettingsError, match=r"dim: 32 -> 16.*--overwrite"):
        build_index(code_tree, built, tiny_model, dim=16, show_progress=False)
    with pytest.raises(IndexSettingsError, match=r"precision: 'float32' -> 'int8'"):
        build_index(code_tree, built, tiny_model, dim=32, precision="int8", show_progress=False)
    rebuilt = build_index(code_tree, built.parent / "other", tiny_model, dim=16, show_progress=False)
    assert rebuilt["settings"]["dim"] == 16
    overwritten = build_index(code_tree, built.parent / "other", tiny_model, dim=8, overwrite=True, show_progress=False)
    assert overwritten["settings"]["dim"] == 8 and overwritten["stats"]["reused_units"] == 0
