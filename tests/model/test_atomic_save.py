"""Atomic saves and the named-file error for corrupt weights (st_jce.atomic, st_jce.model.weights)."""

import errno
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import st_jce
from st_jce import atomic
from st_jce.atomic import atomic_directory
from st_jce.model.weights import CorruptWeightsError, verify_weights


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny_model(tiny_qwen_dir):
    return st_jce.build_model(tiny_qwen_dir, dtype="float32")


def test_exception_inside_block_leaves_previous_directory_untouched(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "weights.bin").write_bytes(b"old weights")
    (target / "sub").mkdir()
    (target / "sub" / "config.json").write_text("{}")
    before = snapshot(target)

    with pytest.raises(RuntimeError, match="killed"):
        with atomic_directory(target) as staging:
            (staging / "weights.bin").write_bytes(b"new, half")
            raise RuntimeError("killed mid-save")

    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging directory left behind


def test_success_replaces_the_whole_directory(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.txt").write_text("from the previous save")
    with atomic_directory(target) as staging:
        assert staging.parent == target.parent and staging.name.startswith(".")
        (staging / "new.txt").write_text("new")
    assert snapshot(target) == {"new.txt": hashlib.sha256(b"new").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failed_swap_puts_the_previous_directory_back(tmp_path, monkeypatch):
    target = tmp_path / "model"
    target.mkdir()
    (target / "a.txt").write_text("old")
    real_replace, calls = atomic.os.replace, []

    def replace_failing_on_the_swap(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # old -> aside worked; staging -> target fails
            raise OSError(errno.EXDEV, "simulated rename failure")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace_failing_on_the_swap)
    with pytest.raises(OSError, match="simulated"):
        with atomic_directory(target) as staging:
            (staging / "a.txt").write_text("new")
    assert (target / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_path_that_is_a_file_is_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "model"
    target.write_text("not a directory")
    with pytest.raises(NotADirectoryError, match="Choose a directory"):
        with atomic_directory(target):
            pytest.fail("the block must not run")
    assert target.read_text() == "not a directory"


def test_disk_full_during_model_save_keeps_the_previous_model_loadable(tiny_model, tmp_path, monkeypatch):
    import transformers.modeling_utils

    model_dir = tmp_path / "model"
    tiny_model.save_pretrained(str(model_dir))
    before = snapshot(model_dir)
    texts = ["def add(a, b): return a + b"]
    expected = tiny_model.encode_document(texts, task_type="nl2code")

    def half_written_then_full(tensors, filename, metadata=None):
        save_file(tensors, filename, metadata=metadata)
        data = Path(filename).read_bytes()
        Path(filename).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(transformers.modeling_utils, "safe_save_file", half_written_then_full)
    with pytest.raises(OSError, match="No space left"):
        tiny_model.save_pretrained(str(model_dir))
    monkeypatch.undo()

    assert snapshot(model_dir) == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    reloaded = st_jce.load(model_dir)
    np.testing.assert_array_equal(reloaded.encode_document(texts, task_type="nl2code"), expected)


def write_tensors(folder: Path, name: str = "model.safetensors") -> Path:
    tensors = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.ones(5, dtype=torch.bfloat16),
               "c": torch.zeros(3, dtype=torch.int64), "flag": torch.tensor([True, False])}
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, path, metadata={"format": "pt"})
    return path


def test_whole_files_pass_recursively(tmp_path):
    files = [write_tensors(tmp_path), write_tensors(tmp_path / "sub" / "deeper", "adapter.safetensors")]
    assert verify_weights(tmp_path) == sorted(files)
    assert set(load_file(files[0])) == {"a", "b", "c", "flag"}  # the files really are readable


@pytest.mark.parametrize("cut", [1, 100])
def test_truncated_file_names_the_file(tmp_path, cut):
    good = write_tensors(tmp_path)
    bad = write_tensors(tmp_path / "2_Dense", "model.safetensors")
    bad.write_bytes(bad.read_bytes()[:-cut])
    with pytest.raises(CorruptWeightsError) as caught:
        verify_weights(tmp_path)
    assert caught.value.path == bad != good
    message = str(caught.value)
    assert str(bad) in message and "download" in message and "save" in message
    assert isinstance(caught.value, ValueError)


def test_appended_garbage_and_bad_header_are_caught(tmp_path):
    path = write_tensors(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data + b"\0" * 8)
    with pytest.raises(CorruptWeightsError, match="bytes of tensor data"):
        verify_weights(tmp_path)
    header_length = int.from_bytes(data[:8], "little")
    path.write_bytes(data[:8] + b"{" * header_length + data[8 + header_length:])
    with pytest.raises(CorruptWeightsError, match="JSON header"):
        verify_weights(tmp_path)
    path.write_bytes(b"\xff" * 8 + data[8:])
    with pytest.raises(CorruptWeightsError, match="header claims"):
        verify_weights(tmp_path)


def test_header_that_disagrees_with_the_tensor_shapes_is_caught(tmp_path):
    path = write_tensors(tmp_path)
    data = path.read_bytes()
    header_length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_length])
    header["a"]["shape"] = [3, 3]
    raw = json.dumps(header, separators=(",", ":")).encode().ljust(header_length)
    assert len(raw) == header_length
    path.write_bytes(data[:8] + raw + data[8 + header_length:])
    with pytest.raises(CorruptWeightsError, match="tensor 'a'"):
        verify_weights(tmp_path)


def test_st_jce_load_reports_the_truncated_file(tiny_model, tmp_path):
    tiny_model.save_pretrained(str(tmp_path / "model"))
    weights = tmp_path / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    with pytest.raises(CorruptWeightsError) as caught:
        st_jce.load(tmp_path / "model")
    assert caught.value.path == weights


def test_atomic_write_text_failure_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "README.md"
    target.write_text("previous card")

    def fail_after_writing(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail_after_writing)
    with pytest.raises(OSError, match="No space"):
        atomic.atomic_write_text(target, "new card " * 1000)
    assert target.read_text() == "previous card"
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]
    monkeypatch.undo()
    assert atomic.atomic_write_text(target, "new card").read_text() == "new card"
