"""``trainable_top_layers``: only the top blocks (and the final norm) change in training; the rest keeps its
pre-trained weights, checked weight by weight against the backbone's file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from train_helpers import run_argv

from st_jce.training import parse_args, train
from st_jce.training.freezing import train_top_layers, transformer_blocks


def changed_weights(final_dir: Path, backbone_dir: str) -> set[str]:
    trained, initial = load_file(final_dir / "model.safetensors"), load_file(Path(backbone_dir) / "model.safetensors")
    assert set(trained) == set(initial)
    return {name for name in trained if not np.array_equal(trained[name], initial[name])}


def test_only_the_top_layer_and_the_final_norm_train(tiny_qwen_dir, pairs_file, tmp_path):
    final_dir = train(*parse_args(run_argv(tiny_qwen_dir, pairs_file, tmp_path / "run", trainable_top_layers=1)))

    changed = changed_weights(final_dir, tiny_qwen_dir)
    top_layer = {name for name in load_file(Path(tiny_qwen_dir) / "model.safetensors") if name.startswith("layers.1.")}
    assert changed == top_layer | {"norm.weight"}
    assert "trainable_top_layers" in (final_dir / "README.md").read_text()


def test_all_layers_train_by_default(tiny_qwen_dir, pairs_file, tmp_path):
    final_dir = train(*parse_args(run_argv(tiny_qwen_dir, pairs_file, tmp_path / "run")))

    changed = changed_weights(final_dir, tiny_qwen_dir)
    assert any(name.startswith("layers.0.") for name in changed) and "embed_tokens.weight" in changed


@pytest.mark.parametrize("count", [0, 3])
def test_a_count_outside_the_backbone_names_its_range(tiny_qwen_dir, count):
    from transformers import AutoModel

    backbone = AutoModel.from_pretrained(tiny_qwen_dir)
    assert len(transformer_blocks(backbone)) == 2
    with pytest.raises(ValueError, match="between 1 and the backbone's 2 layers"):
        train_top_layers(backbone, count)
