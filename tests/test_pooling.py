"""``pooling="auto"``: the last token of a causal decoder, the mean of a bidirectional encoder, each checked
against the backbone's own hidden states, pooled by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

import st_jce
from st_jce.prefixes import PREFIXES

TEXTS = ["parse a date string", "def add(a, b):\n    return a + b"]


def unit(rows: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(rows, dim=-1).numpy()


def test_auto_pools_a_causal_decoder_at_its_last_token(tiny_qwen_dir):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")  # pooling="auto" is the default
    tokenizer, backbone = AutoTokenizer.from_pretrained(tiny_qwen_dir), AutoModel.from_pretrained(tiny_qwen_dir)
    expected = []
    for text in TEXTS:
        ids = tokenizer(PREFIXES["nl2code"]["document"] + text)["input_ids"] + [tokenizer.eos_token_id]
        with torch.no_grad():
            states = backbone(input_ids=torch.tensor([ids])).last_hidden_state[0]
        expected.append(states[len(ids) - 1])
    encoded = model.encode_document(TEXTS, task_type="nl2code")
    np.testing.assert_allclose(encoded, unit(torch.stack(expected)), atol=1e-5)


def test_auto_pools_a_bidirectional_encoder_by_its_mean(minilm_path):
    model = st_jce.build_model(minilm_path, dtype="float32", max_seq_length=128)
    tokenizer, backbone = AutoTokenizer.from_pretrained(minilm_path), AutoModel.from_pretrained(minilm_path)
    prefix = PREFIXES["nl2code"]["query"]
    skipped = 1 + len(tokenizer(prefix, add_special_tokens=False)["input_ids"])  # [CLS] + the prefix
    expected = []
    for text in TEXTS:
        batch = tokenizer(prefix + text, return_tensors="pt")
        with torch.no_grad():
            states = backbone(**batch).last_hidden_state[0]
        expected.append(sum(states[i] for i in range(skipped, states.shape[0])) / (states.shape[0] - skipped))
    encoded = model.encode_query(TEXTS, task_type="nl2code")
    np.testing.assert_allclose(encoded, unit(torch.stack(expected)), atol=1e-5)


def test_explicit_pooling_overrides_auto(minilm_path):
    last_token = st_jce.build_model(minilm_path, dtype="float32", pooling="last_token")
    mean = st_jce.build_model(minilm_path, dtype="float32")
    assert type(last_token[1]).__name__ == "LastTokenPooling" and type(mean[1]).__name__ == "Pooling"
    cosine = (last_token.encode_query(TEXTS, task_type="nl2code") * mean.encode_query(TEXTS, task_type="nl2code")).sum(1)
    assert cosine.max() < 0.99  # the [SEP] state is not the mean


def test_unknown_pooling_names_the_choices(tiny_qwen_dir):
    with pytest.raises(ValueError, match="'auto'.*'last_token'.*'mean'"):
        st_jce.build_model(tiny_qwen_dir, pooling="cls")
