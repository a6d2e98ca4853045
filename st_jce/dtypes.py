"""Choosing the compute dtype: ``dtype="auto"`` means the fastest dtype that keeps quality."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch

DTYPE_NAMES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
               "float16": torch.float16, "fp16": torch.float16}


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512-BF16 or AMX), where bf16 is ~3x faster than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no cheap way to tell, so stay on the safe side
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_dtype(dtype: str | torch.dtype, device: str | torch.device | None = None) -> torch.dtype:
    """Turn ``"auto"`` / a name / a ``torch.dtype`` into a ``torch.dtype``.

    ``"auto"`` is bf16 on a CUDA GPU that supports it and on CPUs with native bf16, fp32 elsewhere
    (emulated bf16 on older CPUs is slower than fp32).

    Examples
    --------
    >>> resolve_dtype("fp32")
    torch.float32
    >>> resolve_dtype(torch.bfloat16)
    torch.bfloat16
    """
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        device_type = torch.device(device).type if device is not None else ("cuda" if torch.cuda.is_available() else "cpu")
        if device_type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if device_type == "cpu" and cpu_has_native_bf16() else torch.float32
    try:
        return DTYPE_NAMES[str(dtype).removeprefix("torch.")]
    except KeyError:
        raise ValueError(f"Unknown dtype {dtype!r}: use 'auto', one of {sorted(DTYPE_NAMES)}, or a torch.dtype.") from None
