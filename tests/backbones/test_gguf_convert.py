"""convert_gguf: the converted folder holds the GGUF's weights and tokenizer, is written once and atomically,
and every bad input (missing, not a GGUF, truncated, wrong checksum) fails naming the file."""

import hashlib
import json

import numpy as np
import pytest
import torch
from gguf import GGUFReader
from gguf.quants import dequantize
from gguf_fixtures import session_cache, tiny_gguf  # noqa: F401 (the fixtures)
from safetensors.torch import load_file
from tiny_gguf import write_tiny_gguf
from transformers import AutoModel, AutoTokenizer

import st_jce.backbones.gguf as gguf_module
from st_jce.backbones import GGUFFileError, assemble_parts, convert_gguf, default_cache_dir

TEXT = "def the_answer():\n    return 42  # in a nutshell"


def split(path, folder, pieces=3):
    """``path``'s bytes cut into ``pieces`` part files (uneven, the last the shortest), in order."""
    data = path.read_bytes()
    cuts = [0, len(data) // 2, len(data) // 2 + len(data) // 3, len(data)][: pieces + 1]
    folder.mkdir(exist_ok=True)
    parts = []
    for index, (start, end) in enumerate(zip(cuts, cuts[1:]), start=1):
        parts.append(folder / f"part0{index}.bin")
        parts[-1].write_bytes(data[start:end])
    return parts


def test_converted_weights_are_the_dequantized_gguf_tensors(tiny_gguf, tmp_path):
    folder = convert_gguf(tiny_gguf, tmp_path)
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    weights = load_file(folder / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values()} == {torch.float32}
    # Independent of transformers: the gguf package's own dequantization of the Q8_0 embedding matrix.
    embedding = next(t for t in GGUFReader(tiny_gguf).tensors if t.name == "token_embd.weight")
    np.testing.assert_array_equal(weights["embed_tokens.weight"].numpy(),
                                  dequantize(embedding.data, embedding.tensor_type))


def test_converted_folder_runs_like_transformers_gguf_loading(tiny_gguf, tmp_path):
    folder = convert_gguf(tiny_gguf, tmp_path)
    direct_tokenizer = AutoTokenizer.from_pretrained(tiny_gguf.parent, gguf_file=tiny_gguf.name)
    direct = AutoModel.from_pretrained(tiny_gguf.parent, gguf_file=tiny_gguf.name, dtype=torch.float32).eval()
    converted = AutoModel.from_pretrained(folder).eval()
    ids = direct_tokenizer(TEXT, return_tensors="pt")
    assert AutoTokenizer.from_pretrained(folder)(TEXT)["input_ids"] == ids["input_ids"][0].tolist()
    assert len(ids["input_ids"][0]) < len(TEXT.encode())  # the merges were applied, not bytes alone
    with torch.inference_mode():
        torch.testing.assert_close(converted(**ids).last_hidden_state, direct(**ids).last_hidden_state,
                                   rtol=0, atol=0)


def test_second_call_reuses_the_folder_and_a_changed_file_is_converted_again(tmp_path, monkeypatch):
    gguf = write_tiny_gguf(tmp_path / "tiny.gguf")
    folder = convert_gguf(gguf, tmp_path / "cache")

    def no_conversion(source, staging):
        raise AssertionError("converted again")

    monkeypatch.setattr(gguf_module, "_write_transformers_folder", no_conversion)
    assert convert_gguf(gguf, tmp_path / "cache") == folder
    write_tiny_gguf(gguf, seed=1)  # same path, new content
    with pytest.raises(AssertionError, match="converted again"):
        convert_gguf(gguf, tmp_path / "cache")


def test_cache_location_is_st_jce_cache_or_home(tiny_gguf, tmp_path, monkeypatch):
    monkeypatch.setenv("ST_JCE_CACHE", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere" / "gguf"
    assert convert_gguf(tiny_gguf).parent == tmp_path / "elsewhere" / "gguf"
    monkeypatch.delenv("ST_JCE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "st_jce" / "gguf"


def test_failed_conversion_leaves_nothing_behind(tiny_gguf, tmp_path, monkeypatch):
    def disk_full(source, staging):
        (staging / "model.safetensors").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(gguf_module, "_write_transformers_folder", disk_full)
    with pytest.raises(OSError, match="disk full"):
        convert_gguf(tiny_gguf, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_concurrent_conversion_that_finished_first_is_kept(tiny_gguf, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    target = cache / convert_gguf(tiny_gguf, tmp_path / "elsewhere").name  # the same key in any cache
    convert = gguf_module._write_transformers_folder

    def racing(source, staging):
        convert(source, staging)
        target.mkdir()
        (target / "written-by-the-other-process").touch()

    monkeypatch.setattr(gguf_module, "_write_transformers_folder", racing)
    assert convert_gguf(tiny_gguf, cache) == target
    assert [path.name for path in cache.iterdir()] == [target.name]
    assert (target / "written-by-the-other-process").exists()


def test_parts_are_assembled_in_order_and_convert_like_the_whole(tiny_gguf, tmp_path):
    parts = split(tiny_gguf, tmp_path / "parts")
    sha256 = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()
    assembled = assemble_parts(parts, tmp_path / "assembled.gguf", sha256)
    assert assembled.read_bytes() == tiny_gguf.read_bytes()

    from_parts = convert_gguf(parts, tmp_path / "cache", sha256=sha256)
    assert sha256[:16] in from_parts.name
    assert "model.gguf" not in {path.name for path in from_parts.iterdir()}  # the assembled copy is not kept
    whole = load_file(convert_gguf(tiny_gguf, tmp_path / "cache") / "model.safetensors")
    parted = load_file(from_parts / "model.safetensors")
    assert parted.keys() == whole.keys() and all(torch.equal(parted[name], whole[name]) for name in whole)


def test_checksum_mismatch_gives_expected_and_actual_and_keeps_nothing(tiny_gguf, tmp_path):
    parts = split(tiny_gguf, tmp_path / "parts")
    wrong = "0" * 64
    actual = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()
    with pytest.raises(GGUFFileError, match=f"expected sha256 {wrong}, got {actual}") as error:
        convert_gguf(parts, tmp_path / "cache", sha256=wrong)
    assert "part02.bin" in str(error.value)
    assert list((tmp_path / "cache").iterdir()) == []
    with pytest.raises(GGUFFileError, match=f"got {actual}"):
        convert_gguf(tiny_gguf, tmp_path / "cache", sha256=wrong)  # a single file is checked too


def test_missing_part_or_file_is_named(tiny_gguf, tmp_path):
    parts = split(tiny_gguf, tmp_path / "parts")
    parts[1].unlink()
    with pytest.raises(GGUFFileError, match=r"part 2 of 3 of the GGUF not found: '.*part02\.bin'"):
        convert_gguf(parts, tmp_path / "cache")
    with pytest.raises(GGUFFileError, match=r"GGUF file not found: '.*nowhere\.gguf'"):
        convert_gguf(tmp_path / "nowhere.gguf", tmp_path / "cache")


def test_not_a_gguf_is_named_with_its_size(tmp_path):
    zip_file = tmp_path / "model.gguf"
    zip_file.write_bytes(b"PK\x03\x04" + bytes(2000))
    with pytest.raises(GGUFFileError, match=r"'.*model\.gguf' \(2,004 bytes\) is not a GGUF file: it starts with "
                                            r"b'PK\\x03\\x04'") as error:
        convert_gguf(zip_file, tmp_path / "cache")
    assert error.value.path == zip_file


@pytest.mark.parametrize("kept", [0.5, 0.999], ids=["half", "last-bytes-cut"])
def test_truncated_gguf_is_named_with_its_size(tiny_gguf, tmp_path, kept):
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(tiny_gguf.read_bytes()[: int(tiny_gguf.stat().st_size * kept)])
    size = truncated.stat().st_size
    with pytest.raises(GGUFFileError, match=rf"'.*truncated\.gguf' \({size:,} bytes\) is a corrupt or truncated GGUF"):
        convert_gguf(truncated, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
