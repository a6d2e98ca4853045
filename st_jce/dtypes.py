"""One rule for precision, everywhere: bf16 only where the hardware runs it natively, fp32 elsewhere.

Encoding (``build_model(dtype="auto")``, ``st_jce.load``), training (``bf16: auto`` in a config) and the
evaluation during training (which encodes in the training's precision) all ask :func:`native_bf16`.
bf16 is native on GPUs that support it and on CPUs with AVX-512-BF16 or AMX; on other CPUs (AVX2-only
laptops and cloud machines) PyTorch emulates it, and one MNRL training step of MiniLM took 66–80 s in bf16
against 5–8 s in fp32 on a 2-core AVX2 EPYC (~10× slower), so ``auto`` stays in fp32 there and an explicit
bf16 warns once.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

import torch

DTYPE_NAMES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
               "float16": torch.float16, "fp16": torch.float16}
# oneDNN runs PyTorch's CPU bf16 matrix products; a cap below these ISAs (ONEDNN_MAX_CPU_ISA=AVX2, say)
# makes it emulate bf16 even on a CPU that has the instructions.
ONEDNN_BF16_ISAS = ("AVX512_CORE_BF16", "AVX10_1_512", "AVX512_CORE_AMX", "AVX10_1_512_AMX",
                    "AVX512_CORE_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2", "ALL", "DEFAULT")
EMULATED_BF16_COST = "about 10x slower than fp32 (docs/experiments.md, \"Figures moved out of the code\")"


class EmulatedBF16Warning(UserWarning):
    """bf16 was asked for explicitly on hardware that only emulates it."""


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo``; empty off Linux, where there is no cheap way to tell
    (so bf16 counts as emulated: fp32 is never the slow choice)."""
    try:
        return frozenset(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return frozenset()


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512-BF16 or AMX) and oneDNN may use it."""
    if not cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        return False
    cap = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "DEFAULT").upper()
    return cap in ONEDNN_BF16_ISAS


def device_type(device: str | torch.device | None = None) -> str:
    """``"cuda"``, ``"cpu"``, ... of ``device``; ``None`` is where sentence-transformers would put a model."""
    if device is not None:
        return torch.device(device).type
    return "cuda" if torch.cuda.is_available() else "cpu"


def native_bf16(device: str | torch.device | None = None) -> bool:
    """Whether bf16 runs natively on ``device`` (see the module docstring).

    Examples
    --------
    >>> native_bf16("cpu") == cpu_has_native_bf16()
    True
    """
    kind = device_type(device)
    if kind == "cuda":
        return torch.cuda.is_bf16_supported()
    return kind == "cpu" and cpu_has_native_bf16()


def warn_if_emulated_bf16(device: str | torch.device | None = None, *, what: str = "bf16") -> None:
    """Warn (once per call site) that an explicit bf16 request runs emulated on this CPU."""
    if device_type(device) == "cpu" and not cpu_has_native_bf16():
        warnings.warn(f"{what} on a CPU without native bf16 (no AVX-512-BF16 / AMX) is emulated: "
                      f"{EMULATED_BF16_COST}. Use 'auto' to get fp32 here and bf16 where it is native.",
                      EmulatedBF16Warning, stacklevel=3)


def resolve_dtype(dtype: str | torch.dtype, device: str | torch.device | None = None) -> torch.dtype:
    """Turn ``"auto"`` / a name / a ``torch.dtype`` into a ``torch.dtype``.

    ``"auto"`` is bf16 where it is native (:func:`native_bf16`), fp16 on a GPU without bf16, fp32 elsewhere.
    An explicit bf16 on a CPU that emulates it is honoured, with an :class:`EmulatedBF16Warning`.

    Examples
    --------
    >>> resolve_dtype("fp32")
    torch.float32
    >>> resolve_dtype("auto", "cpu") == (torch.bfloat16 if cpu_has_native_bf16() else torch.float32)
    True
    """
    if dtype == "auto":
        if native_bf16(device):
            return torch.bfloat16
        return torch.float16 if device_type(device) == "cuda" else torch.float32
    if not isinstance(dtype, torch.dtype):
        try:
            dtype = DTYPE_NAMES[str(dtype).removeprefix("torch.")]
        except KeyError:
            raise ValueError(f"Unknown dtype {dtype!r}: use 'auto', one of {sorted(DTYPE_NAMES)}, "
                             "or a torch.dtype.") from None
    if dtype == torch.bfloat16:
        warn_if_emulated_bf16(device, what="dtype=bfloat16")
    return dtype


def resolve_mixed_precision(bf16: bool | str, device: str | torch.device | None = None) -> bool:
    """Whether training uses bf16 mixed precision: ``"auto"`` follows :func:`native_bf16`; an explicit
    ``True`` is honoured, with an :class:`EmulatedBF16Warning` where bf16 is emulated.

    Examples
    --------
    >>> resolve_mixed_precision("auto", "cpu") == cpu_has_native_bf16()
    True
    >>> resolve_mixed_precision(False, "cpu")
    False
    """
    value = {"auto": "auto", "true": True, "false": False}.get(str(bf16).lower())
    if value is None:
        raise ValueError(f"bf16: use auto, true or false; got {bf16!r}.")
    if value == "auto":
        return native_bf16(device)
    if value:
        warn_if_emulated_bf16(device, what="bf16 mixed precision")
    return value
