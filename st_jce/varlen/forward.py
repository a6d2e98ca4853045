"""Unpadded backbone forwards: a padded batch runs as one row of its real tokens, and comes back padded.

Padding is pure waste: a batch of 512 mined (docstring, function) pairs computes five padded tokens for each
real one when every text is padded to its batch's longest. :func:`unpadded_forward` takes the padded
``(input_ids, attention_mask)`` that every sentence-transformers collator and ``encode`` produce, runs the
backbone on the real tokens alone (one flattened row, position ids restarting at 0 for each text, varlen
attention: :mod:`st_jce.varlen.attention`), and scatters the hidden states back into the padded layout.
Whatever reads token embeddings afterwards (last-token or mean pooling, the loss, GradCache, DDP's gathers)
sees the same tensors as after a padded forward, up to float rounding, and gradients flow through the scatter.

Examples
--------
>>> import tempfile, torch
>>> from transformers import AutoModel, AutoTokenizer
>>> from st_jce.testing import random_qwen2
>>> folder = random_qwen2(tempfile.mkdtemp(), "tiny")
>>> model = AutoModel.from_pretrained(folder, dtype=torch.float32)
>>> enable_varlen_attention(model)
True
>>> batch = AutoTokenizer.from_pretrained(folder)(["def f(): pass", "x = 1 + 2 + 3 + 4"], padding=True, return_tensors="pt")
>>> unpadded = unpadded_forward(model, batch["input_ids"], batch["attention_mask"])
>>> padded = model(**batch).last_hidden_state
>>> real = batch["attention_mask"].bool()
>>> unpadded.shape == padded.shape, bool(torch.allclose(unpadded[real], padded[real], atol=1e-5))
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from st_jce.pooling import is_causal_decoder
from st_jce.varlen.attention import NATIVE_VARLEN_ATTENTION, VARLEN_ATTENTION


def enable_varlen_attention(model: PreTrainedModel) -> bool:
    """Let ``model`` run unpadded batches, and say whether it can.

    A causal decoder with full attention in every layer and transformers' ``sdpa`` attention is switched to
    :data:`~st_jce.varlen.attention.VARLEN_ATTENTION`, which is ``sdpa`` on padded batches (same masks, same
    kernels) and varlen on flattened ones; flash-attention backbones need no switch. Encoders (bidirectional,
    absolute positions), ``eager`` attention (chosen to inspect attention weights) and sliding-window layers
    are left as they are.
    """
    if model.config._attn_implementation == "sdpa" and _flattenable(model.config):
        model.set_attn_implementation(VARLEN_ATTENTION)
    return supports_unpadded_forward(model)


def supports_unpadded_forward(model: PreTrainedModel) -> bool:
    """Whether :func:`unpadded_forward` can run ``model`` (see :func:`enable_varlen_attention`)."""
    attention = model.config._attn_implementation
    return _flattenable(model.config) and (attention == VARLEN_ATTENTION or attention in NATIVE_VARLEN_ATTENTION)


def _flattenable(config) -> bool:
    layer_types = getattr(config, "layer_types", None) or ["full_attention"]
    return is_causal_decoder(config) and all(layer_type == "full_attention" for layer_type in layer_types)


@dataclass
class UnpaddedBatch:
    """The real tokens of a padded batch as one flattened row, and where they sit in the padded layout.

    ``input_ids`` / ``position_ids`` are ``(1, real tokens)``; ``cu_seq_lens`` (int32, ``rows + 1``) marks where
    each text starts; ``token_index`` is each real token's index in the flattened ``(rows * width)`` layout.
    """

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    cu_seq_lens: torch.Tensor
    max_length: int
    token_index: torch.Tensor
    padded_shape: tuple[int, int]

    @classmethod
    def from_padded(cls, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> UnpaddedBatch | None:
        """The batch without its padding; None where there is nothing to gain or it would change the result:
        no padding at all, a row without real tokens, or a row whose real tokens are not one run (left or
        right padding are; a mask with holes is not).

        Examples
        --------
        >>> batch = UnpaddedBatch.from_padded(torch.tensor([[5, 6, 0], [0, 7, 8]]), torch.tensor([[1, 1, 0], [0, 1, 1]]))
        >>> batch.input_ids.tolist(), batch.position_ids.tolist(), batch.cu_seq_lens.tolist(), batch.token_index.tolist()
        ([[5, 6, 7, 8]], [[0, 1, 0, 1]], [0, 2, 4], [0, 1, 4, 5])
        """
        mask = attention_mask.bool()
        lengths = mask.sum(dim=1)
        width = mask.shape[1]
        first = mask.int().argmax(dim=1)
        last = width - 1 - mask.flip(1).int().argmax(dim=1)
        one_run = ((last - first + 1) == lengths) & (lengths > 0)
        # One device sync for all the checks and the longest text (which the varlen kernels take as a number).
        max_length, runs, padded = torch.stack([lengths.max(), one_run.all(), (lengths < width).any()]).tolist()
        if not (runs and padded):
            return None
        token_index = mask.flatten().nonzero().squeeze(1)
        positions = (mask.cumsum(dim=1) - 1).flatten()
        return cls(
            input_ids=input_ids.flatten()[token_index][None],
            position_ids=positions[token_index][None],
            cu_seq_lens=F.pad(lengths.cumsum(dim=0, dtype=torch.int32), (1, 0)),
            max_length=int(max_length),
            token_index=token_index,
            padded_shape=(mask.shape[0], width),
        )

    def model_inputs(self) -> dict:
        """Keyword arguments of a transformers decoder's ``forward``: the flattened row, its positions, the
        varlen boundaries, and a prepared (empty) mask mapping, so no mask is built."""
        return {"input_ids": self.input_ids, "position_ids": self.position_ids,
                "attention_mask": {"full_attention": None},
                "cu_seq_lens_q": self.cu_seq_lens, "cu_seq_lens_k": self.cu_seq_lens,
                "max_length_q": self.max_length, "max_length_k": self.max_length}

    def repad(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``(1, real tokens, dim)`` -> ``(rows, width, dim)``, zeros at the padding; differentiable."""
        rows, width = self.padded_shape
        flat = hidden_states[0]
        return flat.new_zeros(rows * width, flat.shape[-1]).index_copy(0, self.token_index, flat).view(rows, width, -1)


def unpadded_forward(model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor | None:
    """``model(input_ids, attention_mask).last_hidden_state`` computed on the real tokens only, in the padded
    layout (zeros at padding positions); None where :meth:`UnpaddedBatch.from_padded` says no, so the caller
    runs its padded forward. ``model`` must support it (:func:`supports_unpadded_forward`)."""
    batch = UnpaddedBatch.from_padded(input_ids, attention_mask)
    if batch is None:
        return None
    return batch.repad(model(**batch.model_inputs()).last_hidden_state)


def unpads(model: PreTrainedModel, device: torch.device, *, requested: bool | None, training: bool) -> bool:
    """The one rule for when a forward runs unpadded: never where ``requested`` is False or the backbone cannot
    (:func:`supports_unpadded_forward`); always where it is True; by default whenever gradients flow or the
    module trains (a training batch's padding is its biggest waste) and on every accelerator. CPU inference
    stays padded: there the shared-prefix cache over token-budget batches, which are almost free of padding,
    is faster (benchmarks/README.md)."""
    if requested is False or not supports_unpadded_forward(model):
        return False
    return bool(requested) or training or torch.is_grad_enabled() or device.type != "cpu"
