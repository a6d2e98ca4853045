"""Unpadded forwards: the real tokens as one row, each text at its own positions, back in the padded layout."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

import st_jce
from st_jce.varlen import (
    VARLEN_ATTENTION,
    UnpaddedBatch,
    enable_varlen_attention,
    supports_unpadded_forward,
    unpadded_forward,
    unpads,
)

TEXTS = ["def f(x):\n    return x + 1", "sort", "a much longer text, with many more words in it than the others"]


def test_nothing_to_gain_or_not_one_run_of_tokens_stays_padded():
    ids = torch.arange(6).view(2, 3)
    assert UnpaddedBatch.from_padded(ids, torch.ones(2, 3, dtype=torch.long)) is None  # no padding
    assert UnpaddedBatch.from_padded(ids, torch.tensor([[1, 0, 1], [1, 1, 1]])) is None  # a hole
    assert UnpaddedBatch.from_padded(ids, torch.tensor([[0, 0, 0], [1, 1, 0]])) is None  # an empty row


def test_left_and_right_padding_give_the_same_row():
    right = UnpaddedBatch.from_padded(torch.tensor([[1, 2, 3], [4, 0, 0]]), torch.tensor([[1, 1, 1], [1, 0, 0]]))
    left = UnpaddedBatch.from_padded(torch.tensor([[1, 2, 3], [0, 0, 4]]), torch.tensor([[1, 1, 1], [0, 0, 1]]))
    for batch in (right, left):
        assert batch.input_ids.tolist() == [[1, 2, 3, 4]]
        assert batch.position_ids.tolist() == [[0, 1, 2, 0]]
        assert batch.cu_seq_lens.tolist() == [0, 3, 4] and batch.cu_seq_lens.dtype == torch.int32
        assert batch.max_length == 3
    assert right.token_index.tolist() == [0, 1, 2, 3] and left.token_index.tolist() == [0, 1, 2, 5]


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_unpadded_equals_padded_at_every_real_token(tiny_qwen_dir, padding_side):
    padded_model = AutoModel.from_pretrained(tiny_qwen_dir, dtype=torch.float32).eval()
    model = AutoModel.from_pretrained(tiny_qwen_dir, dtype=torch.float32).eval()
    assert enable_varlen_attention(model)
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen_dir)
    tokenizer.padding_side = padding_side
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    real = batch["attention_mask"].bool()
    seen = []
    model.register_forward_pre_hook(lambda module, args, kwargs: seen.append(kwargs["input_ids"].shape),
                                    with_kwargs=True)
    with torch.inference_mode():
        expected = padded_model(**batch).last_hidden_state
        got = unpadded_forward(model, batch["input_ids"], batch["attention_mask"])
    assert seen == [(1, int(real.sum()))]  # one row of the real tokens, nothing else
    assert got.shape == expected.shape
    torch.testing.assert_close(got[real], expected[real], rtol=1e-4, atol=1e-5)
    assert not got[~real].any()


def test_which_backbones_run_unpadded(tiny_qwen_dir, minilm_path):
    assert enable_varlen_attention(AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="sdpa"))
    eager = AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="eager")
    assert not enable_varlen_attention(eager) and eager.config._attn_implementation == "eager"
    minilm = AutoModel.from_pretrained(minilm_path)
    assert not enable_varlen_attention(minilm) and not supports_unpadded_forward(minilm)


def test_saved_models_do_not_record_the_varlen_attention(tiny_qwen_dir, tmp_path):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    assert model[0].auto_model.config._attn_implementation == VARLEN_ATTENTION
    model.save_pretrained(str(tmp_path / "saved"))
    assert "attn_implementation" not in (tmp_path / "saved" / "config.json").read_text()
    portable = st_jce.export_portable(model, tmp_path / "portable")
    assert VARLEN_ATTENTION not in json.dumps([path.read_text() for path in portable.rglob("*.json")])
    reloaded = st_jce.load(str(tmp_path / "saved"))
    assert supports_unpadded_forward(reloaded[0].auto_model)


def test_training_and_accelerators_run_unpadded_cpu_inference_stays_padded(tiny_qwen_dir):
    model = AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="sdpa")
    enable_varlen_attention(model)
    cpu, gpu = torch.device("cpu"), torch.device("cuda")  # a device object needs no GPU
    with torch.no_grad():
        assert not unpads(model, cpu, requested=None, training=False)  # the prefix cache's case
        assert unpads(model, gpu, requested=None, training=False)
        assert unpads(model, cpu, requested=None, training=True)
        assert unpads(model, cpu, requested=True, training=False)
        assert not unpads(model, gpu, requested=False, training=True)
    assert unpads(model, cpu, requested=None, training=False)  # gradients flow
    eager = AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="eager")
    assert not unpads(eager, gpu, requested=True, training=True)
