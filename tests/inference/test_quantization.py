"""``dtype="int8"``: the backbone's Linear layers really are int8 modules that compute what a hand
quantization computes, the embeddings stay close to fp32, it composes with the prefix cache and the
token-budget batches, and GPUs, training and saving fail with errors naming the fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import st_jce
from st_jce.inference.quantization import Int8Linear, is_int8, quantize_int8

TEXTS = ["sort a list of tuples by the second item", "def add(a, b):\n    return a + b", "read a csv file",
         "import os\nfor root, dirs, files in os.walk('.'):\n    print(root, len(files))"]


@pytest.fixture(scope="module")
def fp32_and_int8(tiny_qwen_dir):
    return st_jce.build_model(tiny_qwen_dir, dtype="float32"), st_jce.build_model(tiny_qwen_dir, dtype="int8")


def test_every_linear_of_the_backbone_holds_per_channel_int8_weights(fp32_and_int8):
    fp32, int8 = fp32_and_int8
    linears = {name: module for name, module in fp32[0].auto_model.named_modules()
               if isinstance(module, torch.nn.Linear)}
    quantized = dict(int8[0].auto_model.named_modules())
    assert len(linears) == 7 * fp32[0].auto_model.config.num_hidden_layers  # q, k, v, o, gate, up, down
    for name, linear in linears.items():
        assert isinstance(quantized[name], Int8Linear)
        weight = quantized[name].weight()
        assert weight.dtype == torch.qint8 and weight.qscheme() == torch.per_channel_affine
        # Symmetric, one step per output row: every weight within half a step of its fp32 value.
        step = linear.weight.detach().abs().amax(dim=1, keepdim=True) / 127.5
        assert torch.allclose(weight.q_per_channel_scales().float()[:, None], step, rtol=1e-5)
        assert ((weight.dequantize() - linear.weight.detach()).abs() <= step / 2 + 1e-7).all()
    assert is_int8(int8) and not is_int8(fp32)
    embeddings = int8[0].auto_model.get_input_embeddings().weight
    assert embeddings.dtype == torch.float32
    assert torch.equal(embeddings, fp32[0].auto_model.get_input_embeddings().weight)


def test_an_int8_layer_computes_a_hand_quantization_with_8_bit_inputs():
    torch.manual_seed(0)
    layer, x = torch.nn.Linear(64, 16), 3 * torch.randn(8, 64)
    weight, bias = layer.weight.detach(), layer.bias.detach()
    weight_step = weight.abs().amax(dim=1, keepdim=True) / 127.5
    int_weight = torch.round(weight / weight_step).clamp(-128, 127)
    low, high = min(x.min().item(), 0.0), max(x.max().item(), 0.0)

    def by_hand(bits):  # asymmetric input range over the whole tensor, as dynamic quantization takes it
        levels = 2**bits - 1
        step = (high - low) / levels
        zero = round(-low / step)
        int_x = (torch.round(x / step) + zero).clamp(0, levels)
        return ((int_x - zero) * step) @ (int_weight * weight_step).T + bias, step

    with torch.inference_mode():
        got = quantize_int8(torch.nn.Sequential(layer))[0](x)
    expected, step = by_hand(8)
    one_rounding = step * weight.abs().max()  # an input landing on the other side of a rounding boundary
    assert (got - expected).abs().max() <= one_rounding
    assert (got - by_hand(7)[0]).abs().max() > 4 * one_rounding  # not PyTorch's default 7-bit inputs


def test_int8_embeddings_stay_close_to_fp32_but_differ(fp32_and_int8):
    fp32, int8 = fp32_and_int8
    for encode in ("encode_query", "encode_document"):
        exact, quantized = (getattr(model, encode)(TEXTS, task_type="nl2code") for model in (fp32, int8))
        cosine = (exact * quantized).sum(axis=1)
        assert cosine.min() > 0.98 and np.abs(exact - quantized).max() > 1e-4


def test_int8_composes_with_the_prefix_cache_and_token_budget_batches(fp32_and_int8):
    fp32, int8 = fp32_and_int8
    exact = fp32.encode_query(TEXTS, task_type="nl2code")
    int8[0].prefix_cache.clear()
    cached = int8.encode_query(TEXTS, task_type="nl2code")
    assert len(int8[0].prefix_cache) == 1  # the cache ran on the int8 backbone
    int8[0].use_prefix_cache, int8.max_batch_tokens = False, 0  # plain forward, plain fixed-count batches
    try:
        plain = int8.encode_query(TEXTS, task_type="nl2code", batch_size=len(TEXTS))
    finally:
        int8[0].use_prefix_cache, int8.max_batch_tokens = True, None
    # Each call takes its own input range, so the two paths differ by int8 rounding, not more than from fp32.
    assert (cached * plain).sum(axis=1).min() > 0.99
    assert (cached * exact).sum(axis=1).min() > 0.98 and (plain * exact).sum(axis=1).min() > 0.98


def test_quantizing_a_loaded_fp32_model_equals_building_it_in_int8(fp32_and_int8, tmp_path):
    fp32, int8 = fp32_and_int8
    fp32.save_pretrained(str(tmp_path / "fp32"))
    loaded = quantize_int8(st_jce.load(str(tmp_path / "fp32"), device="cpu", dtype="bfloat16"))  # upcast first
    assert loaded[0].auto_model.dtype == torch.float32 and quantize_int8(loaded) is loaded
    expected = int8.encode_document(TEXTS, task_type="nl2code")
    # bf16 rounds the saved weights, so close, not equal.
    assert (loaded.encode_document(TEXTS, task_type="nl2code") * expected).sum(axis=1).min() > 0.99


def test_int8_refuses_gpus_gradients_training_and_saving(tiny_qwen_dir, fp32_and_int8, tmp_path):
    _, int8 = fp32_and_int8
    with pytest.raises(ValueError, match="CPU only"):
        st_jce.build_model(tiny_qwen_dir, dtype="int8", device="cuda")
    ids = torch.tensor([[1, 2, 3]])
    with pytest.raises(RuntimeError, match="inference only"):
        int8[0].auto_model(input_ids=ids)  # gradients on
    int8.train()
    try:
        with torch.inference_mode(), pytest.raises(RuntimeError, match="inference only"):
            int8[0].auto_model(input_ids=ids)
    finally:
        int8.eval()
    with pytest.raises(RuntimeError, match="does not save"):
        int8.save_pretrained(str(tmp_path / "int8"))
    assert not (tmp_path / "int8").exists()  # nothing half-written
    moved = st_jce.build_model(tiny_qwen_dir, dtype="int8").to("meta")
    with torch.inference_mode(), pytest.raises(RuntimeError, match="CPU only"):
        moved[0].auto_model(input_ids=ids.to("meta"))
    with pytest.raises(ValueError, match="CPU only"):
        quantize_int8(st_jce.build_model(tiny_qwen_dir, dtype="float32").to("meta"))


def test_int8_encoder_backbone(minilm_path):
    fp32 = st_jce.build_model(minilm_path, pooling="mean", dtype="float32")
    int8 = st_jce.build_model(minilm_path, pooling="mean", dtype="int8")
    cosine = (fp32.encode_query(TEXTS, task_type="nl2code") * int8.encode_query(TEXTS, task_type="nl2code")).sum(axis=1)
    assert cosine.min() > 0.97
