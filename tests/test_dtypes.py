"""The precision rule (st_jce.dtypes), with the CPU's capability mocked both ways."""

from __future__ import annotations

import warnings

import pytest
import torch

from st_jce import dtypes
from st_jce.dtypes import EmulatedBF16Warning, resolve_dtype, resolve_mixed_precision
from st_jce.training.arguments import CodeEmbedderTrainingArguments

AMX_FLAGS = frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
AVX2_FLAGS = frozenset({"avx", "avx2", "fma", "f16c"})


@pytest.fixture(params=[AMX_FLAGS, AVX2_FLAGS], ids=["amx-cpu", "avx2-cpu"])
def cpu(request, monkeypatch):
    """A CPU of each kind: the flags as /proc/cpuinfo would list them; returns whether bf16 is native."""
    monkeypatch.setattr(dtypes, "cpu_flags", lambda: request.param)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    return "amx_bf16" in request.param


def test_auto_dtype_is_bf16_only_where_native(cpu):
    assert resolve_dtype("auto", "cpu") == (torch.bfloat16 if cpu else torch.float32)


def test_auto_mixed_precision_is_bf16_only_where_native(cpu):
    assert resolve_mixed_precision("auto", "cpu") is cpu
    assert CodeEmbedderTrainingArguments(output_dir="out", use_cpu=True).bf16 is cpu


def test_explicit_bf16_on_emulating_cpu_warns_with_the_cost(cpu):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert resolve_dtype("bfloat16", "cpu") == torch.bfloat16
        assert resolve_mixed_precision(True, "cpu") is True
        assert CodeEmbedderTrainingArguments(output_dir="out", use_cpu=True, bf16="true").bf16 is True
    emulated = [w for w in caught if issubclass(w.category, EmulatedBF16Warning)]
    assert len(emulated) == (0 if cpu else 3)
    assert all("10x slower" in str(w.message) and "'auto'" in str(w.message) for w in emulated)


def test_explicit_off_and_fp32_never_warn(cpu):
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmulatedBF16Warning)
        assert resolve_dtype("float32", "cpu") == torch.float32
        assert resolve_mixed_precision("false", "cpu") is False


@pytest.mark.parametrize("cap, native", [("AVX2", False), ("avx512_core", False), ("AVX512_CORE_AMX", True),
                                         ("ALL", True)])
def test_onednn_isa_cap_turns_native_bf16_off(monkeypatch, cap, native):
    monkeypatch.setattr(dtypes, "cpu_flags", lambda: AMX_FLAGS)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert dtypes.cpu_has_native_bf16() is native


def test_fp16_turns_auto_bf16_off(cpu):
    args = CodeEmbedderTrainingArguments(output_dir="out", use_cpu=True, fp16=True)
    assert (args.bf16, args.fp16, args.mixed_precision) == (False, True, "fp16")


@pytest.mark.parametrize("value", ["yes", "bf16", "2"])
def test_unknown_mixed_precision_value_names_the_choices(value):
    with pytest.raises(ValueError, match="auto, true or false"):
        resolve_mixed_precision(value, "cpu")


def test_auto_stays_fp32_on_a_cpu_without_use_cpu(cpu, monkeypatch):
    # transformers refuses bf16 on a CPU unless use_cpu is set; auto must not walk into that error.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert CodeEmbedderTrainingArguments(output_dir="out").bf16 is False
