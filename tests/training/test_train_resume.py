"""A run that dies right after its first checkpoint, resumed with ``--resume_from_checkpoint last``, ends
like the same run left alone: same step count, same weights (same data order, optimizer and scheduler)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from train_helpers import run_argv

from st_jce.training import parse_args, train

REPO = Path(__file__).resolve().parents[2]
CRASH_EXIT_CODE = 17
# Trains like train_st.py, but the process dies (no clean-up) right after the first checkpoint is written.
CRASHING_RUN = f"""
import os, sys
from transformers import TrainerCallback
from st_jce.training import parse_args, train

class DieAfterFirstSave(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        os._exit({CRASH_EXIT_CODE})

train(*parse_args(sys.argv[1:]), callbacks=[DieAfterFirstSave()])
"""


def final_state(output_dir: Path) -> tuple[int, dict[str, np.ndarray]]:
    step = json.loads((output_dir / "checkpoint-8" / "trainer_state.json").read_text())["global_step"]
    return step, load_file(output_dir / "final" / "model.safetensors")


def test_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_run(tiny_qwen_dir, pairs_file, tmp_path):
    def argv(output_dir: Path, *extra: str) -> list[str]:
        return run_argv(tiny_qwen_dir, pairs_file, output_dir, max_steps=8, save_strategy="steps", save_steps=4) + list(extra)

    train(*parse_args(argv(tmp_path / "whole")))

    interrupted = tmp_path / "interrupted"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    crashed = subprocess.run([sys.executable, "-c", CRASHING_RUN, *argv(interrupted)], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=600)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-3000:]
    assert (interrupted / "checkpoint-4").is_dir() and not (interrupted / "checkpoint-8").exists()
    assert not (interrupted / "final").exists()

    train(*parse_args(argv(interrupted, "--resume_from_checkpoint", "last")))

    whole_step, whole_weights = final_state(tmp_path / "whole")
    resumed_step, resumed_weights = final_state(interrupted)
    assert whole_step == resumed_step == 8
    assert whole_weights.keys() == resumed_weights.keys()
    for name, weights in whole_weights.items():
        np.testing.assert_allclose(resumed_weights[name], weights, atol=1e-6, rtol=0, err_msg=name)
    # The comparison can fail: a run resumed without the saved state ends elsewhere.
    initial = load_file(Path(tiny_qwen_dir) / "model.safetensors")
    assert any(not np.allclose(initial[name], whole_weights[name], atol=1e-4) for name in initial if name in whole_weights)
