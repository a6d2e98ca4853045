"""``train_st.py`` unchanged under ``torchrun --nproc_per_node 2`` (gloo, CPU): it trains, saves once, exits 0;
with a teacher, the processes share out its encoding and all end up with the single-process vectors."""

from __future__ import annotations

import json

import numpy as np
from sentence_transformers import SentenceTransformer
from train_helpers import REPO, run_argv, torchrun


def test_torchrun_two_processes(tiny_qwen_dir, pairs_file, tmp_path):
    output_dir = tmp_path / "run"
    result = torchrun(REPO / "train_st.py", run_argv(tiny_qwen_dir, pairs_file, output_dir, max_steps=2,
                                                     ddp_backend="gloo"), tmp_path)

    card_inputs = json.loads((output_dir / "final" / "st_jce_card.json").read_text())
    assert card_inputs["training"]["hyperparameters"]["global_batch_size"] == 2 * 8  # both processes trained
    assert result.stdout.count("Model saved to") == 1  # the main process alone writes the final model


def test_two_processes_share_the_teachers_encoding(minilm_path, tmp_path):
    texts = [f"return the {noun} of the values" for noun in ("sum", "max", "min", "mean", "median", "mode")]
    texts += [f"def f{index}(values):\n    return values[{index}]" for index in range(5)] + texts[:3]
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    torchrun(REPO / "tests" / "training" / "distributed_teacher_vectors.py",
             [minilm_path, str(tmp_path / "texts.json"), str(tmp_path)], tmp_path)

    ranks = [np.load(tmp_path / f"rank-{rank}.npz") for rank in (0, 1)]
    assert [int(rank["encoded"]) for rank in ranks] == [6, 5]  # 11 distinct texts: every other one each
    np.testing.assert_array_equal(ranks[0]["vectors"], ranks[1]["vectors"])
    teacher = SentenceTransformer(minilm_path)
    teacher.max_seq_length = 16
    expected = np.stack([teacher.encode([text], batch_size=1)[0] for text in dict.fromkeys(texts)])
    np.testing.assert_allclose(ranks[0]["vectors"], expected, atol=2e-5)


def test_torchrun_trains_with_a_teacher(minilm_path, pairs_file, tmp_path):
    output_dir = tmp_path / "run"
    torchrun(REPO / "train_st.py", run_argv(minilm_path, pairs_file, output_dir, max_steps=2, ddp_backend="gloo",
                                            teacher=minilm_path), tmp_path)
    card_inputs = json.loads((output_dir / "final" / "st_jce_card.json").read_text())
    assert card_inputs["training"]["loss"]["teacher"] == minilm_path
    assert card_inputs["training"]["hyperparameters"]["global_batch_size"] == 2 * 8
