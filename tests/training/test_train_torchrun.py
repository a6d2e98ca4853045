"""``train_st.py`` unchanged under ``torchrun --nproc_per_node 2`` (gloo, CPU): it trains, saves once, exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from train_helpers import free_port, run_argv

REPO = Path(__file__).resolve().parents[2]


def test_torchrun_two_processes(tiny_qwen_dir, pairs_file, tmp_path):
    output_dir = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
               str(REPO / "train_st.py"),
               *run_argv(tiny_qwen_dir, pairs_file, output_dir, max_steps=2, ddp_backend="gloo")]
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]

    card_inputs = json.loads((output_dir / "final" / "st_jce_card.json").read_text())
    assert card_inputs["training"]["hyperparameters"]["global_batch_size"] == 2 * 8  # both processes trained
    assert result.stdout.count("Model saved to") == 1  # the main process alone writes the final model
