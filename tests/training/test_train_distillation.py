"""Distillation from a teacher's own embeddings: the labels are the teacher's vectors of each text, every
dataset gets a ``-teacher`` copy with the same prefixes, and training pulls the model towards the teacher."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import Dataset
from sentence_transformers import SentenceTransformer
from train_helpers import run_argv, write_pairs

import st_jce
from st_jce.training import parse_args, teacher_datasets, train
from st_jce.training.distillation import TEACHER_SUFFIX, load_teacher, with_teacher_copies


@pytest.fixture(scope="module")
def pairs() -> Dataset:
    rows = [{"query": f"sum the numbers of row {index}", "document": f"def row_{index}(m):\n    return sum(m[{index}])"}
            for index in range(10)]
    rows.append(dict(rows[0]))  # a repeated pair is labelled like its first occurrence
    return Dataset.from_list(rows)


def test_labels_are_the_teachers_own_embeddings(minilm_path, pairs):
    student = st_jce.build_model(minilm_path, pooling="last_token", max_seq_length=16)
    copies = teacher_datasets(load_teacher(minilm_path, student), {"rows": pairs}, {"rows": 1.0}, teacher_weight=1.0,
                              max_seq_length=16, batch_size=4)
    assert list(copies) == ["rows" + TEACHER_SUFFIX]
    labelled = copies["rows" + TEACHER_SUFFIX]
    assert labelled["query"] == pairs["query"] and labelled["document"] == pairs["document"]
    # Independently: the plain teacher (its mean pooling, no prefixes), one text at a time, at 16 tokens.
    teacher = SentenceTransformer(minilm_path)
    teacher.max_seq_length = 16
    labels = np.asarray(labelled["label"], dtype=np.float32)
    assert labels.shape == (len(pairs), 2, 384)
    for row, (query, document) in enumerate(zip(pairs["query"], pairs["document"])):
        expected = teacher.encode([query, document], batch_size=1)
        np.testing.assert_allclose(labels[row], expected, atol=2e-5)


def test_copies_are_scaled_by_weight_times_teacher_weight(minilm_path, pairs):
    student = st_jce.build_model(minilm_path, pooling="last_token", max_seq_length=16)
    copies = teacher_datasets(load_teacher(minilm_path, student), {"a": pairs, "b": pairs}, {"a": 1.0, "b": 0.5},
                              teacher_weight=2.0, max_seq_length=16, batch_size=8)
    assert {name: len(rows) for name, rows in copies.items()} == {"a-teacher": 2 * len(pairs),
                                                                   "b-teacher": len(pairs)}


def test_teacher_copies_share_their_datasets_prompts_and_take_the_distillation_loss():
    prompts = {"a": {"query": "Q: ", "document": "D: "}}
    assert with_teacher_copies(prompts) == {"a": prompts["a"], "a-teacher": prompts["a"]}
    assert with_teacher_copies({"a": "contrastive", "b": "contrastive"}, "distil") == {
        "a": "contrastive", "b": "contrastive", "a-teacher": "distil", "b-teacher": "distil"}


def distance_to_teacher(model, teacher: SentenceTransformer, queries: list[str], documents: list[str]) -> float:
    """Mean cosine distance between the model's prefixed embeddings and the teacher's plain ones."""
    ours = np.concatenate([model.encode_query(queries, task_type="nl2code"),
                           model.encode_document(documents, task_type="nl2code")])
    theirs = teacher.encode(queries + documents, normalize_embeddings=True)
    return float(np.mean(1 - np.sum(ours * theirs, axis=1)))


def test_training_with_a_teacher_moves_the_model_towards_it(minilm_path, tmp_path):
    pairs_file = write_pairs(tmp_path / "pairs.jsonl")
    argv = run_argv(minilm_path, pairs_file, tmp_path / "run", teacher=minilm_path, teacher_weight=4,
                    learning_rate=2e-4, max_steps=10, per_device_eval_batch_size=16)
    rows = Dataset.from_json(str(pairs_file))
    queries, documents = list(rows["q"]), list(rows["code"])
    teacher = SentenceTransformer(minilm_path)
    teacher.max_seq_length = 32
    untrained = st_jce.build_model(minilm_path, pooling="last_token", max_seq_length=32)
    before = distance_to_teacher(untrained, teacher, queries, documents)

    final_dir = train(*parse_args(argv))

    after = distance_to_teacher(st_jce.load(final_dir), teacher, queries, documents)
    assert after < 0.7 * before, (before, after)
    card = (final_dir / "README.md").read_text()
    assert f"teacher={minilm_path!r}" in card and "EmbedDistillLoss" in card
