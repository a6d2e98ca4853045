"""Shared-prefix key/value cache: run a batch's common task prefix once, not once per text.

Every text of a batch starts with the same task prefix (e.g. ``"Candidate code snippet:\\n"``), and a
decoder's attention is causal, so the prefix's hidden states and keys/values do not depend on the
text after it. :class:`PrefixKVCache` computes them once (batch of one), keeps them, and for each
batch runs only the text tokens on top of them, with position ids offset by the prefix length.
The result equals the plain ``model(input_ids, attention_mask).last_hidden_state`` up to float
rounding, at every real token of the input.

Both padding sides are handled: right padding ``[prefix][text][pad]`` runs the suffix ``[text][pad]``;
left padding ``[pad][prefix][text]`` runs ``[pad][text]``, whose pads the attention mask hides and
whose text tokens get the positions ``prefix_length + index in the text``. Since rotary position
embeddings only see position differences, the shift this makes against the plain left-padded run
(which counts the pads as positions) leaves the attention unchanged.

What it saves is the prefix's share of the tokens: a forward costs nearly in proportion to its tokens,
and the cache's own work (expanding the prefix, concatenating its keys/values, the longer attention)
is small against a forward. What it cannot save is the fixed cost of each operator, the same for every
forward; it is small unless torch runs more threads than there are free cores, when each operator waits
for a descheduled thread (fewer threads, ``torch.set_num_threads``, are faster then anyway). Figures for
both: docs/experiments.md ("Figures moved out of the code"). A long batch without padding is the
exception: there the plain forward's unmasked causal attention outruns the cache
(:data:`UNPADDED_PLAIN_FROM`), so the cache steps aside.

Examples
--------
>>> import tempfile, torch
>>> from transformers import AutoModel, AutoTokenizer
>>> from st_jce.inference import PrefixKVCache
>>> from st_jce.testing import random_qwen2
>>> folder = random_qwen2(tempfile.mkdtemp(), "tiny")
>>> model, tokenizer = AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
>>> prefix = "Candidate code snippet:\\n"
>>> batch = tokenizer([prefix + "def f(): pass", prefix + "x = 1"], padding=True, return_tensors="pt")
>>> prefix_length = len(tokenizer(prefix)["input_ids"])
>>> cache = PrefixKVCache()
>>> with torch.inference_mode():
...     cached = cache(model, batch["input_ids"], batch["attention_mask"], prefix_length)
...     plain = model(**batch).last_hidden_state
>>> bool(torch.allclose(cached[0], plain[0], atol=1e-4)), len(cache)
(True, 1)
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

import torch
from transformers import DynamicCache, PreTrainedModel

from st_jce.pooling import is_causal_decoder
from st_jce.varlen import VARLEN_ATTENTION

# Attention implementations whose masks transformers builds from a 2D padding mask plus a cache
# (checked by the equivalence tests); st-jce's varlen attention is sdpa on padded batches. Flash-attention
# with flattened batches carries no padding mask; the cache steps aside there.
SDPA_ATTENTION = ("sdpa", VARLEN_ATTENTION)
CACHEABLE_ATTENTION = (*SDPA_ATTENTION, "eager")
# From this many text tokens on, a batch without padding runs faster without the cache under sdpa: with no
# padding the plain forward needs no attention mask, so torch runs its causal kernel, which skips the masked
# half of the scores, while the cached run always needs a mask (its queries sit after the prefix's keys).
# The prefix's share of the work shrinks as the text grows; the mask's cost grows with it. The crossing was
# measured with benchmarks/prefix_cache_length.py (figures: benchmarks/README.md).
UNPADDED_PLAIN_FROM = 1024


def supports_prefix_cache(model: PreTrainedModel) -> bool:
    """Whether ``model`` is a causal decoder whose prefix states can be cached and reused.

    True for decoder-only language-model backbones (Qwen2, Llama, ...) with full attention in every
    layer and the ``sdpa`` or ``eager`` attention; False for encoders (BERT-like models, whose
    attention is bidirectional), encoder-decoders, sliding-window layers and other attention kernels.

    Examples
    --------
    >>> from transformers import AutoModel
    >>> from st_jce.backbones import minilm_dir
    >>> supports_prefix_cache(AutoModel.from_pretrained(minilm_dir()))
    False
    """
    config = model.config
    layer_types = getattr(config, "layer_types", None) or ["full_attention"]
    return (
        is_causal_decoder(config)
        and all(layer_type == "full_attention" for layer_type in layer_types)
        and getattr(config, "_attn_implementation", None) in CACHEABLE_ATTENTION
    )


@dataclass
class PrefixStates:
    """What one prefix leaves behind: per-layer keys and values, each ``(1, kv_heads, prefix_length,
    head_dim)``, and the final hidden states ``(1, prefix_length, hidden)``."""

    key_values: list[tuple[torch.Tensor, torch.Tensor]]
    hidden_states: torch.Tensor


class PrefixKVCache:
    """Keys/values and hidden states of task prefixes, reused across batches of a decoder backbone.

    Held by the module that runs the backbone; it is not saved with the model. Entries are keyed by
    the prefix token ids, dtype and device; all of them are dropped as soon as the backbone's
    weights change (a parameter is replaced or modified in place) and can be dropped explicitly
    with :meth:`clear` (e.g. when the module goes to training mode).

    Parameters
    ----------
    max_entries : int
        How many prefixes to keep; the least recently used one is dropped beyond that. The ten task
        prefixes of :data:`st_jce.PREFIXES` fit in the default.
    unpadded_plain_from : int or None
        Text tokens from which a batch without padding runs the plain forward under ``sdpa``
        (default :data:`UNPADDED_PLAIN_FROM`); None: the cache runs at every length.

    Examples
    --------
    >>> cache = PrefixKVCache(max_entries=4)
    >>> len(cache)
    0
    """

    def __init__(self, max_entries: int = 16, unpadded_plain_from: int | None = UNPADDED_PLAIN_FROM) -> None:
        self.max_entries = max_entries
        self.unpadded_plain_from = unpadded_plain_from
        self.entries: OrderedDict[tuple, PrefixStates] = OrderedDict()
        self.weights_fingerprint: tuple | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        """Drop every cached prefix."""
        self.entries.clear()
        self.weights_fingerprint = None

    def __call__(
        self,
        model: PreTrainedModel,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        prefix_length: int | None,
    ) -> torch.Tensor | None:
        """The final hidden states of ``model`` for a padded batch whose rows share their first tokens.

        Parameters
        ----------
        model : PreTrainedModel
            The backbone without head (``AutoModel``), in eval mode.
        input_ids, attention_mask : torch.Tensor
            ``(batch, seq)``, left or right padded; may be truncated and may end in an EOS token.
        prefix_length : int or None
            How many leading real tokens of every row are the shared prefix.

        Returns
        -------
        torch.Tensor or None
            ``(batch, seq, hidden)`` in the layout of ``input_ids``, equal to
            ``model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state`` at
            every position whose ``attention_mask`` is 1 (padding positions hold unspecified
            finite values). None where the cache does not apply, so the caller runs the plain
            forward: no prefix, gradients enabled or training mode, a backbone for which
            :func:`supports_prefix_cache` is False, rows whose first ``prefix_length`` real
            tokens differ (e.g. tokenization merged the prefix with a text) or are cut short, a batch on
            an accelerator, or a long batch without padding under ``sdpa``, which the plain forward runs
            faster (``unpadded_plain_from``).
        """
        if not prefix_length or model.training or torch.is_grad_enabled() or not supports_prefix_cache(model):
            return None
        if self._plain_is_faster(model, attention_mask, prefix_length):
            return None
        prefix_slots = _prefix_slots(attention_mask, prefix_length)
        if prefix_slots is None:
            return None
        batch_size, seq_length = input_ids.shape
        prefix_ids = input_ids[prefix_slots].view(batch_size, prefix_length)
        if not bool((prefix_ids == prefix_ids[:1]).all()):
            return None

        states = self.prefix_states(model, prefix_ids[0])
        hidden_size = states.hidden_states.shape[-1]
        token_embeddings = states.hidden_states.new_empty(batch_size, seq_length, hidden_size)
        token_embeddings[prefix_slots] = states.hidden_states.expand(batch_size, -1, -1).reshape(-1, hidden_size)
        if seq_length > prefix_length:
            suffix_slots = ~prefix_slots
            suffix_shape = (batch_size, seq_length - prefix_length)
            suffix_ids = input_ids[suffix_slots].view(suffix_shape)
            suffix_hidden = _run_suffix(model, states, suffix_ids, attention_mask[suffix_slots].view(suffix_shape))
            token_embeddings[suffix_slots] = suffix_hidden.reshape(-1, hidden_size)
        return token_embeddings

    def _plain_is_faster(self, model: PreTrainedModel, attention_mask: torch.Tensor, prefix_length: int) -> bool:
        """Whether the plain forward runs this batch faster than the cache: on an accelerator, where the plain
        forward was the faster in every measurement (benchmarks/README.md), and for long batches without
        padding under sdpa (see :data:`UNPADDED_PLAIN_FROM`)."""
        if attention_mask.device.type != "cpu":
            return True
        if self.unpadded_plain_from is None or attention_mask.shape[1] - prefix_length < self.unpadded_plain_from:
            return False
        return model.config._attn_implementation in SDPA_ATTENTION and bool(attention_mask.bool().all())

    def prefix_states(self, model: PreTrainedModel, prefix_ids: torch.Tensor) -> PrefixStates:
        """The cached :class:`PrefixStates` of the 1D ``prefix_ids``, computed on a miss."""
        fingerprint = _weights_fingerprint(model)
        if fingerprint != self.weights_fingerprint:
            self.clear()
            self.weights_fingerprint = fingerprint
        key = (tuple(prefix_ids.tolist()), model.dtype, prefix_ids.device)
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        output = model(input_ids=prefix_ids[None], use_cache=True)
        states = PrefixStates(
            key_values=[(keys, values) for keys, values, *_ in getattr(output, _cache_argument(model))],
            hidden_states=output.last_hidden_state,
        )
        self.entries[key] = states
        if len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)
        return states


def _prefix_slots(attention_mask: torch.Tensor, prefix_length: int) -> torch.Tensor | None:
    """Boolean ``(batch, seq)``: the first ``prefix_length`` real tokens of each row, or None where a
    row has fewer than that many consecutive real tokens from its first one."""
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    first_real = attention_mask.int().argmax(dim=1, keepdim=True)  # 0 under right padding
    slots = (positions >= first_real) & (positions < first_real + prefix_length)
    complete = (slots.sum(dim=1) == prefix_length).all() and attention_mask[slots].bool().all()
    return slots if bool(complete) else None


def _run_suffix(
    model: PreTrainedModel, states: PrefixStates, suffix_ids: torch.Tensor, suffix_mask: torch.Tensor
) -> torch.Tensor:
    """Final hidden states ``(batch, suffix, hidden)`` of the tokens after the prefix, which attend to the
    cached prefix."""
    batch_size = suffix_ids.shape[0]
    prefix_length = states.hidden_states.shape[1]
    # DynamicCache concatenates new keys onto these, so the batch-1 prefix is only expanded (no copy) here.
    past = DynamicCache([(keys.expand(batch_size, -1, -1, -1), values.expand(batch_size, -1, -1, -1))
                         for keys, values in states.key_values])
    # Text tokens continue the prefix's positions; pads (left or right) do not count.
    position_ids = prefix_length + (suffix_mask.long().cumsum(dim=1) - 1).clamp(min=0)
    attention_mask = torch.cat([suffix_mask.new_ones(batch_size, prefix_length), suffix_mask], dim=1)
    output = model(input_ids=suffix_ids, attention_mask=attention_mask, position_ids=position_ids,
                   use_cache=True, **{_cache_argument(model): past})
    return output.last_hidden_state


def _cache_argument(model: PreTrainedModel) -> str:
    """The name under which ``model.forward`` takes (and its output returns) the key/value cache:
    ``cache`` from transformers 5.24 on, ``past_key_values`` before."""
    return _cache_argument_of(type(model))


@cache
def _cache_argument_of(model_class: type) -> str:
    # Looked up once per model class: it runs for every batch.
    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def _weights_fingerprint(model: torch.nn.Module) -> tuple:
    """Changes whenever a parameter is replaced (new storage) or modified in place (version counter)."""
    return tuple((parameter.data_ptr(), parameter._version) for parameter in model.parameters())
