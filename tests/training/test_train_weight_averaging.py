"""``wise_ft_alpha``: the saved model is the start plus ``alpha`` times what training changed (WiSE-FT), checked
weight by weight against a run without averaging and the backbone's own file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from train_helpers import run_argv

from st_jce.training import parse_args, train
from st_jce.training.weight_averaging import average_with_start, trainable_snapshot


def saved_weights(final_dir: Path) -> dict[str, np.ndarray]:
    return load_file(final_dir / "model.safetensors")


def test_the_saved_model_is_the_start_plus_alpha_times_the_change(tiny_qwen_dir, pairs_file, tmp_path):
    trained = saved_weights(train(*parse_args(run_argv(tiny_qwen_dir, pairs_file, tmp_path / "trained"))))
    averaged_dir = train(*parse_args(run_argv(tiny_qwen_dir, pairs_file, tmp_path / "averaged", wise_ft_alpha=0.25)))
    start = saved_weights(Path(tiny_qwen_dir))

    averaged = saved_weights(averaged_dir)
    assert set(averaged) == set(start)
    changed = [name for name in start if not np.array_equal(trained[name], start[name])]
    assert changed, "training changed nothing: the test would prove nothing"
    for name in start:
        expected = 0.75 * start[name].astype(np.float64) + 0.25 * trained[name].astype(np.float64)
        np.testing.assert_allclose(averaged[name], expected, rtol=1e-5, atol=1e-6, err_msg=name)
    assert "wise_ft_alpha" in (averaged_dir / "README.md").read_text()


def test_alpha_zero_gives_back_the_starting_weights(tiny_qwen_dir, pairs_file, tmp_path):
    final_dir = train(*parse_args(run_argv(tiny_qwen_dir, pairs_file, tmp_path / "run", wise_ft_alpha=0.0)))

    start, final = saved_weights(Path(tiny_qwen_dir)), saved_weights(final_dir)
    assert all(np.array_equal(final[name], start[name]) for name in start)


def test_frozen_parameters_are_left_alone():
    layer = torch.nn.Linear(3, 3)
    layer.bias.requires_grad_(False)
    start = trainable_snapshot(layer)
    assert set(start) == {"weight"}
    with torch.no_grad():
        layer.weight.mul_(3.0)
        layer.bias.add_(1.0)
    bias = layer.bias.detach().clone()

    average_with_start(layer, start, alpha=0.5)
    torch.testing.assert_close(layer.weight, 2.0 * start["weight"])
    torch.testing.assert_close(layer.bias, bias)


@pytest.mark.parametrize("alpha", ["-0.1", "1.5"])
def test_a_share_outside_zero_to_one_names_the_key(tiny_qwen_dir, pairs_file, tmp_path, alpha):
    with pytest.raises(ValueError, match="wise_ft_alpha.*between 0"):
        parse_args(run_argv(tiny_qwen_dir, pairs_file, tmp_path / "run", wise_ft_alpha=alpha))
