"""The varlen attention: every text of a flattened row attends causally to itself alone, and padded batches are
plain sdpa."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModel

from st_jce.varlen import VARLEN_ATTENTION, varlen_attention_forward, varlen_kernel


class Attention(torch.nn.Module):
    is_causal = True


def hand_attention(query, key, value, lengths, scale):
    """Softmax attention text by text, causal, with the key/value heads repeated for grouped queries."""
    groups = query.shape[1] // key.shape[1]
    outputs, start = [], 0
    for length in lengths:
        q = query[0, :, start:start + length]
        k = key[0, :, start:start + length].repeat_interleave(groups, dim=0)
        v = value[0, :, start:start + length].repeat_interleave(groups, dim=0)
        scores = q @ k.transpose(-1, -2) * scale
        future = torch.ones(length, length, dtype=torch.bool).triu(1)
        outputs.append(scores.masked_fill(future, float("-inf")).softmax(-1) @ v)
        start += length
    return torch.cat(outputs, dim=1).transpose(0, 1)  # (tokens, heads, head_dim)


def test_each_text_attends_to_itself_alone():
    torch.manual_seed(0)
    lengths = [3, 1, 6]
    total = sum(lengths)
    query, key, value = torch.randn(1, 4, total, 8), torch.randn(1, 2, total, 8), torch.randn(1, 2, total, 8)
    cu_seq_lens = torch.tensor([0, 3, 4, 10], dtype=torch.int32)
    output, weights = varlen_attention_forward(Attention(), query, key, value, None, scaling=0.3,
                                               cu_seq_lens_q=cu_seq_lens, max_length_q=6)
    assert weights is None and output.shape == (1, total, 4, 8)
    torch.testing.assert_close(output[0], hand_attention(query, key, value, lengths, 0.3), rtol=1e-5, atol=1e-6)


def test_a_flattened_batch_is_one_row():
    query = torch.randn(2, 4, 5, 8)
    with pytest.raises(ValueError, match="one row without an attention mask: got a batch of 2 rows"):
        varlen_attention_forward(Attention(), query, query, query, None,
                                 cu_seq_lens_q=torch.tensor([0, 5], dtype=torch.int32), max_length_q=5)


def test_the_cpu_runs_one_sdpa_call_per_text():
    assert varlen_kernel(torch.device("cpu"), torch.bfloat16) == "sdpa_per_text"
    assert varlen_kernel(torch.device("cpu"), torch.float32) == "sdpa_per_text"


def test_padded_batches_are_plain_sdpa(tiny_qwen_dir):
    sdpa = AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="sdpa", dtype=torch.float32).eval()
    varlen = AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="sdpa", dtype=torch.float32).eval()
    varlen.set_attn_implementation(VARLEN_ATTENTION)
    input_ids = torch.tensor([[10, 11, 12, 13], [20, 21, 0, 0]])
    attention_mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    with torch.inference_mode():
        expected = sdpa(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        got = varlen(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    assert torch.equal(got, expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the flash kernels run on CUDA only (no GPU here)")
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_cuda_kernels_match_the_hand_computation(dtype):
    torch.manual_seed(0)
    lengths = [5, 130, 17]
    total = sum(lengths)
    query, key, value = (torch.randn(1, heads, total, 64, device="cuda", dtype=dtype) for heads in (14, 2, 2))
    cu_seq_lens = torch.tensor([0, 5, 135, 152], dtype=torch.int32, device="cuda")
    assert varlen_kernel(query.device, dtype) in ("flash_attn", "torch_varlen")
    output, _ = varlen_attention_forward(Attention(), query, key, value, None, scaling=0.125,
                                         cu_seq_lens_q=cu_seq_lens, max_length_q=130)
    expected = hand_attention(*(tensor.float().cpu() for tensor in (query, key, value)), lengths, 0.125)
    torch.testing.assert_close(output[0].float().cpu(), expected, rtol=2e-2, atol=2e-2)
