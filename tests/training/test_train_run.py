"""Short single-process runs of the whole recipe: the loss falls, the model is saved in the st-jce format,
reloads and encodes; local folders are evaluated before and after training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from train_helpers import run_argv, write_beir_folder, write_pairs
from transformers import TrainerCallback

import st_jce
from st_jce.training import parse_args, train


class LossRecorder(TrainerCallback):
    def __init__(self) -> None:
        self.logs: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.logs.append(dict(logs))


def train_and_record(argv: list[str]) -> tuple[Path, list[dict]]:
    recorder = LossRecorder()
    final_dir = train(*parse_args(argv), callbacks=[recorder])
    return final_dir, recorder.logs


def check_saved_model(final_dir: Path, backbone_weights: Path, dims: list[int]) -> None:
    model = st_jce.load(final_dir)
    queries = model.encode_query(["sort the list number 3"], task_type="nl2code")
    documents = model.encode_document(["def f(x):\n    return sorted(x)"], task_type="nl2code")
    assert queries.shape == documents.shape == (1, model.get_embedding_dimension())
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, rtol=1e-4)
    assert model[0].auto_model.config.matryoshka_dimensions == dims
    assert not (final_dir / "training_args.bin").exists()  # st_jce.load refuses pickles
    card = (final_dir / "README.md").read_text()
    assert "Candidate code snippet:" in card and "pairs" in card
    # Training changed the backbone's weights.
    trained, initial = load_file(final_dir / "model.safetensors"), load_file(backbone_weights)
    shared = sorted(set(trained) & set(initial))
    assert shared and any(not np.allclose(trained[name], initial[name]) for name in shared)


def test_tiny_qwen_loss_falls_and_the_model_saves_reloads_and_encodes(tiny_qwen_dir, pairs_file, tmp_path):
    final_dir, logs = train_and_record(run_argv(tiny_qwen_dir, pairs_file, tmp_path / "run", max_steps=12))

    losses = [log["loss"] for log in logs]
    assert len(losses) == 12
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3]), losses
    assert all(log["samples_per_second"] > 0 and log["tokens_per_second"] > log["samples_per_second"] for log in logs)
    assert final_dir == tmp_path / "run" / "final"
    check_saved_model(final_dir, Path(tiny_qwen_dir) / "model.safetensors", [64])


def test_minilm_trains_and_is_evaluated_before_and_after(minilm_path, pairs_file, tmp_path, capsys):
    beir = write_beir_folder(tmp_path / "synthetic-code", write_pairs(tmp_path / "eval.jsonl", count=24))
    argv = run_argv(minilm_path, pairs_file, tmp_path / "run", max_steps=12, learning_rate=1e-4,
                    eval_data=[f"{beir}:nl2code"], eval_baseline=minilm_path, per_device_eval_batch_size=32)
    final_dir, logs = train_and_record(argv)

    losses = [log["loss"] for log in logs]
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    check_saved_model(final_dir, Path(minilm_path) / "model.safetensors", [384, 256, 128, 64])

    table = capsys.readouterr().out.split("nDCG@10 on 1 evaluation folder(s):")[1]
    header, _, row, mean_row = table.strip().splitlines()[:4]
    assert header.split("|")[3:6] == [f" baseline ({minilm_path}) ", " before ", " after "]
    scores = [float(cell) / 100 for cell in row.split("|")[3:6]]  # the table shows nDCG@10 in %
    assert row.startswith("| synthetic-code | nl2code |") and all(0 <= score <= 1 for score in scores)
    assert float(row.split("|")[6]) / 100 == pytest.approx(scores[2] - scores[0], abs=2e-4)
    card = (final_dir / "README.md").read_text()
    assert "synthetic-code" in card  # the after-training results are in the model card
    summary = json.loads((tmp_path / "run" / "eval" / "step-12" / "summary.json").read_text())
    assert summary["tasks"]["synthetic-code"]["ndcg_at_10"] == pytest.approx(scores[2], abs=1e-4)
