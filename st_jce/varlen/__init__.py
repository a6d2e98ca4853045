"""Forwards without padding: flattened batches and the varlen attention that keeps each text to itself."""

from st_jce.varlen.attention import KERNELS, VARLEN_ATTENTION, varlen_attention_forward, varlen_kernel
from st_jce.varlen.forward import (
    UnpaddedBatch,
    enable_varlen_attention,
    supports_unpadded_forward,
    unpadded_forward,
    unpads,
)

__all__ = [
    "KERNELS", "VARLEN_ATTENTION", "UnpaddedBatch", "enable_varlen_attention", "supports_unpadded_forward",
    "unpadded_forward", "unpads", "varlen_attention_forward", "varlen_kernel",
]
