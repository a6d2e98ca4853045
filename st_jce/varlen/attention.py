"""Variable-length attention: every text of a flattened batch attends to itself alone.

An unpadded batch is one row of all the texts' real tokens, one after the other, with ``cu_seq_lens_q``
(cumulative lengths, ``[0, n_0, n_0 + n_1, ...]``) marking where each text starts; each text keeps its own
position ids. The attention then has to stay inside each text, causal within it. :data:`VARLEN_ATTENTION`
is a ``transformers`` attention implementation that does this with the fastest kernel the device offers
(:func:`varlen_kernel`), and is plain ``sdpa`` for ordinary padded batches, masks included, so a backbone
switched to it (:func:`st_jce.varlen.enable_varlen_attention`) computes every padded batch exactly as before.

Never a dense block-diagonal mask over the flattened row: it would cost ``(sum of lengths)²`` scores and
force SDPA off its fast kernels.
"""

from __future__ import annotations

import inspect
from functools import cache

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

VARLEN_ATTENTION = "st_jce_varlen"
# Kernels that take flattened batches as they are: transformers runs them from ``cu_seq_lens_q`` itself.
NATIVE_VARLEN_ATTENTION = ("flash_attention_2", "flash_attention_3")
KERNELS = ("flash_attn", "torch_varlen", "sdpa_per_text")


def varlen_kernel(device: torch.device, dtype: torch.dtype, dropout: float = 0.0) -> str:
    """The kernel :data:`VARLEN_ATTENTION` runs a flattened batch with, among :data:`KERNELS`.

    ``"flash_attn"`` (the flash-attn package's varlen kernel) where it is installed, else
    ``"torch_varlen"`` (torch's own flash kernel, ``torch.nn.attention.varlen``), both on CUDA in half
    precision without dropout; ``"sdpa_per_text"`` (one causal SDPA call per text: no mask, no padding)
    everywhere else, the CPU included.

    Examples
    --------
    >>> varlen_kernel(torch.device("cpu"), torch.bfloat16)
    'sdpa_per_text'
    """
    if device.type == "cuda" and dtype in (torch.float16, torch.bfloat16) and dropout == 0.0:
        if _flash_attn_varlen() is not None:
            return "flash_attn"
        if _torch_varlen() is not None:
            return "torch_varlen"
    return "sdpa_per_text"


def varlen_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """A ``transformers`` attention function: ``query`` ``(batch, heads, seq, head_dim)``, ``key`` / ``value``
    ``(batch, kv_heads, seq, head_dim)``; returns ``(batch, seq, heads, head_dim)``.

    With ``cu_seq_lens_q`` among the keyword arguments the batch is one flattened row and each text
    attends causally to itself alone; without, this is transformers' ``sdpa`` attention."""
    cu_seq_lens = kwargs.get("cu_seq_lens_q")
    if cu_seq_lens is None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    if query.shape[0] != 1 or attention_mask is not None:
        raise ValueError("A flattened batch is one row without an attention mask: got a batch of "
                         f"{query.shape[0]} rows{' with a mask' if attention_mask is not None else ''}.")
    kernel = varlen_kernel(query.device, query.dtype, dropout)
    # (1, heads, tokens, head_dim) -> (tokens, heads, head_dim), the layout of the varlen kernels.
    query, key, value = (tensor[0].transpose(0, 1) for tensor in (query, key, value))
    max_length = int(kwargs["max_length_q"])
    if kernel == "flash_attn":
        output = _flash_attn_varlen()(query, key, value, cu_seq_lens, cu_seq_lens, max_length, max_length,
                                      softmax_scale=scaling, causal=True)
    elif kernel == "torch_varlen":
        output = _torch_varlen()(query, key, value, cu_seq_lens, max_length, scaling)
    else:
        output = _sdpa_per_text(query, key, value, cu_seq_lens, dropout, scaling)
    return output[None], None


def _sdpa_per_text(query, key, value, cu_seq_lens, dropout, scaling) -> torch.Tensor:
    bounds = cu_seq_lens.tolist()
    # (heads, tokens, head_dim) views per text: each call is an unmasked causal SDPA over real tokens only.
    query, key, value = (tensor.transpose(0, 1) for tensor in (query, key, value))
    outputs = [
        F.scaled_dot_product_attention(query[:, start:end], key[:, start:end], value[:, start:end],
                                       dropout_p=dropout, is_causal=True, scale=scaling,
                                       enable_gqa=query.shape[0] != key.shape[0])
        for start, end in zip(bounds[:-1], bounds[1:])
    ]
    return torch.cat(outputs, dim=1).transpose(0, 1)


@cache
def _flash_attn_varlen():
    try:
        from flash_attn import flash_attn_varlen_func
    except ImportError:
        return None
    return flash_attn_varlen_func


@cache
def _torch_varlen():
    """torch's ``varlen_attn`` as ``(q, k, v, cu_seq_lens, max_length, scale) -> out``, causal; None before torch 2.10."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    parameters = inspect.signature(varlen_attn).parameters
    # torch 2.10 spells causality is_causal=True; later versions a (-1, 0) window.
    causal = {"window_size": (-1, 0)} if "window_size" in parameters else {"is_causal": True}
    native_gqa, takes_scale = "enable_gqa" in parameters, "scale" in parameters

    def run(query, key, value, cu_seq_lens, max_length, scale):
        options = dict(causal)
        groups = query.shape[1] // key.shape[1]
        if groups > 1 and native_gqa:
            options["enable_gqa"] = True
        elif groups > 1:
            key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
        if takes_scale:
            options["scale"] = scale
        elif scale is not None:  # the kernel's own scale is 1/sqrt(head_dim): fold the difference into the query
            query = query * (scale * query.shape[-1] ** 0.5)
        return varlen_attn(query, key, value, cu_seq_lens, cu_seq_lens, max_length, max_length, **options)

    return run


AttentionInterface.register(VARLEN_ATTENTION, varlen_attention_forward)
# Padded batches get sdpa's masks; flattened ones are passed no mask at all (st_jce.varlen.forward).
AttentionMaskInterface.register(VARLEN_ATTENTION, sdpa_mask)
