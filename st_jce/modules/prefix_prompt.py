"""The input module of st-jce: the backbone ``Transformer`` plus the task-type prefixes."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from sentence_transformers.base.modules import Transformer

from st_jce.inference.prefix_cache import PrefixKVCache
from st_jce.prefixes import ROLES, TASK_TYPES, named_prompts, prompt_prefix
from st_jce.varlen import enable_varlen_attention, unpadded_forward, unpads


class MissingPrefixWarning(UserWarning):
    """Raised (once per call site) when texts are encoded without any task prefix."""


class PrefixPrompt(Transformer):
    """A sentence-transformers ``Transformer`` that owns the ten task prefixes and applies the right one.

    jina-code-embeddings models are trained with a query / document prefix per task type
    (defaults: :data:`st_jce.PREFIXES`). Sentence-transformers only lets the first module tokenize, so the
    prefix logic lives in the input module, which is the backbone ``Transformer`` itself (this class
    extends it; everything it saves and loads stays in ST's format).

    A text gets its prefix in one of two equivalent ways:

    - ``model.encode_query(texts, task_type="nl2code")`` / ``model.encode_document(texts, task_type=...)``
      (the role comes from the method, the task type from the keyword);
    - ``model.encode(texts, prompt_name="nl2code_query")`` (the ten named prompts of the released models).

    Both read the same strings: once the module is in a model, its prefixes *are* the model's
    ``model.prompts`` entries ``{task}_{role}`` (the module keeps a reference to that dict, not a copy), so
    editing either ``model.prompts["nl2code_query"]`` or ``module.prefixes`` changes both paths, and what
    is saved. Without a prefix, texts are encoded as they are, with a one-time :class:`MissingPrefixWarning`.

    Parameters
    ----------
    model_name_or_path : str
        Hub id or local directory of a ``transformers`` backbone.
    prefixes : dict, optional
        ``{task_type: {"query": str, "document": str}}``; defaults to :data:`st_jce.PREFIXES`.
    append_eos : bool, optional
        End every input with the tokenizer's EOS token (kept even when the text is truncated to
        ``max_seq_length``). ``None`` chooses: on when the tokenizer does not already close texts with a
        special token (decoders such as Qwen2.5, whose last token is then always ``<|endoftext|>``, a fixed
        "summary" position for last-token pooling, as in Qwen3-Embedding / e5-mistral), off for encoders
        such as BERT, which already end with ``[SEP]``. Saved in the module config and in the tokenizer.
    padding_side : {"left", "right"}, optional
        Padding side of batches; pooling is correct for both. ``None`` keeps ``"right"``: real tokens then
        sit at positions ``0..n-1`` exactly as when encoded alone, and under causal attention they never
        see a pad. Saved in ``processing_kwargs``.
    use_prefix_cache : bool
        At inference, compute each task prefix's keys/values once and run only the text tokens on top
        of them (:class:`st_jce.inference.PrefixKVCache`); same embeddings up to float rounding. Applies
        to causal decoders with ``sdpa`` / ``eager`` attention and steps aside elsewhere (encoders,
        training, gradients enabled, unpadded batches). On by default.
    unpad_inputs : bool, optional
        Run padded batches as one row of their real tokens (:mod:`st_jce.varlen`: each text keeps its
        positions and attends to itself alone; same embeddings, loss and gradients up to float rounding).
        ``None`` (the default) decides per batch (:func:`st_jce.varlen.unpads`): training and every
        accelerator run unpadded, CPU inference keeps the prefix cache. ``False`` never, ``True`` wherever the
        backbone allows it (causal decoders with ``sdpa`` or flash attention; sentence-transformers' own name
        and meaning, though st-jce flattens inside the forward, for any attention kernel, rather than in
        the collator, so only flash-attention could).
    **kwargs
        Passed to :class:`sentence_transformers.base.modules.Transformer` (``max_seq_length``,
        ``model_kwargs``, ``processor_kwargs``, ...).

    Examples
    --------
    >>> from sentence_transformers import SentenceTransformer
    >>> from st_jce import PrefixPrompt, LastTokenPooling
    >>> from st_jce.testing import random_qwen2
    >>> import tempfile
    >>> backbone = PrefixPrompt(str(random_qwen2(tempfile.mkdtemp())), max_seq_length=64)
    >>> model = SentenceTransformer(modules=[backbone, LastTokenPooling(backbone.get_embedding_dimension())])
    >>> model.encode_query(["sort a list"], task_type="nl2code").shape
    (1, 64)
    """

    __module__ = "st_jce"  # modules.json records the stable public path "st_jce.PrefixPrompt"
    # The prefixes are saved once, as the model's prompts (config_sentence_transformers.json); `prefixes` is still
    # accepted on load, from models saved before that.
    config_keys: list[str] = [*Transformer.config_keys, "append_eos", "use_prefix_cache"]
    forward_kwargs: set[str] = {"task_type"}

    def __init__(
        self,
        model_name_or_path: str,
        *,
        prefixes: dict[str, dict[str, str]] | None = None,
        append_eos: bool | None = None,
        padding_side: str | None = None,
        use_prefix_cache: bool = True,
        unpad_inputs: bool | None = None,
        **kwargs,
    ) -> None:
        super().__init__(model_name_or_path, unpad_inputs=unpad_inputs, **kwargs)
        enable_varlen_attention(self.auto_model)
        # A tokenizer with a chat template (Qwen2.5-Coder's, SmolLM2's) makes sentence-transformers render every
        # text as a chat message; the recipe embeds prefix + text + EOS, so the text modality is the only one.
        self.modality_config.pop("message", None)
        self.input_formatter.supported_modalities = list(self.modality_config)
        self._prompt_lengths: dict[str, int] = {}
        self.use_prefix_cache = use_prefix_cache
        self.prefix_cache = PrefixKVCache()
        # The one store of the prefixes, as ST named prompts; on_model_ready swaps in the model's own dict.
        self._prompts: dict[str, str] = named_prompts(prefixes)
        self.append_eos = _default_append_eos(self.tokenizer) if append_eos is None else append_eos
        if padding_side is not None:
            self.padding_side = padding_side

    @property
    def append_eos(self) -> bool:
        """Whether every input ends with the tokenizer's EOS token, even after truncation."""
        return self._append_eos

    @append_eos.setter
    def append_eos(self, value: bool) -> None:
        value = bool(value)
        if value and self.tokenizer.eos_token is None:
            raise ValueError(f"append_eos=True, but the tokenizer of {type(self.auto_model).__name__} has no EOS "
                             "token: set append_eos=False, or set tokenizer.eos_token first.")
        if value != _appends_eos(self.tokenizer):
            # The tokenizer's own post-processor appends it, so truncation keeps room for it and a plain
            # sentence-transformers Transformer loading the saved tokenizer appends it too. Only touched
            # when it must change: rebuilding the post-processor would drop other special tokens it adds.
            self.tokenizer.add_eos_token = value
        self._append_eos = value

    @property
    def unpad_inputs(self) -> bool | None:
        """Whether padded batches run as one row of their real tokens: None decides per batch, see the class."""
        return self._unpad_inputs

    @unpad_inputs.setter
    def unpad_inputs(self, value: bool | None) -> None:
        if value not in (None, True, False):
            raise ValueError(f"unpad_inputs must be None (decide per batch), True or False; got {value!r}.")
        self._unpad_inputs = value
        # sentence-transformers' collator-side flattening (flash-attention only) stays off: the forward unpads.
        self.can_flatten_inputs = False

    @property
    def padding_side(self) -> str:
        """The side on which batches are padded (``"left"`` or ``"right"``)."""
        return self.processing_kwargs.get("text", {}).get("padding_side", self.tokenizer.padding_side)

    @padding_side.setter
    def padding_side(self, value: str) -> None:
        if value not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {value!r}.")
        self.processing_kwargs = {**self.processing_kwargs,
                                  "text": {**self.processing_kwargs.get("text", {}), "padding_side": value}}
        self.tokenizer.padding_side = value

    @property
    def prefixes(self) -> Mapping[str, Mapping[str, str]]:
        """``{task_type: {"query": str, "document": str}}``, read-only; assign a whole mapping to change it."""
        return MappingProxyType({task: MappingProxyType({role: self.prefix(task, role) for role in ROLES})
                                 for task in TASK_TYPES})

    @prefixes.setter
    def prefixes(self, prefixes: Mapping[str, Mapping[str, str]]) -> None:
        self._prompts.update(named_prompts(prefixes))

    def prefix(self, task_type: str, role: str) -> str:
        """The prefix this module applies for ``task_type`` (aliases allowed) and ``role``: its model's
        ``model.prompts`` entry (:func:`st_jce.prefixes.prompt_prefix`)."""
        return prompt_prefix(self._prompts, task_type, role)

    def preprocess(
        self,
        inputs: Sequence[str],
        prompt: str | None = None,
        task: str | None = None,
        task_type: str | None = None,
        **kwargs,
    ) -> dict[str, Any]:
        """Apply the task prefix to a batch: check the texts, put the prefix (of ``task_type`` + ``task``, or
        ``prompt``) before each one, and tokenize.

        The features carry ``prompt_length``, the number of leading tokens the prefix takes, under
        sentence-transformers' own name and meaning: its ``Pooling(include_prompt=False)`` reads it, and
        so does the shared-prefix cache.
        """
        check_texts(inputs, "of the batch")
        if task_type is not None:
            prefix = self.prefix(task_type, task)
            if prompt and prompt != prefix:
                raise ValueError(f"Both a prompt ({prompt!r}) and task_type={task_type!r} were given: pass one "
                                 "of them (prompt_name / prompt, or task_type).")
        else:
            prefix = prompt or ""
            if not prefix:
                warnings.warn(
                    "Encoding without a task prefix: st-jce models expect one. Use model.encode_query(texts, "
                    "task_type=...) / model.encode_document(texts, task_type=...), or encode(texts, "
                    f"prompt_name='nl2code_query'); task types: {list(TASK_TYPES)}.",
                    MissingPrefixWarning,
                    stacklevel=2,
                )
        # The prefix is prepended here rather than handed to Transformer as a prompt: Transformer would
        # measure the prompt by calling this very method again, which would warn of a missing prefix.
        features = super().preprocess([prefix + text for text in inputs], task=task, **kwargs)
        if prefix:
            features["prompt_length"] = self.prompt_length(prefix)
        return features

    def prompt_length(self, prefix: str) -> int:
        """Number of leading tokens ``prefix`` takes in a tokenized input: any tokens the tokenizer puts
        before the text (a BOS) plus the prefix's own, without the closing special token, as
        sentence-transformers counts a prompt."""
        if prefix not in self._prompt_lengths:
            ids = self.tokenizer(prefix, add_special_tokens=True)["input_ids"]
            closing = bool(ids) and ids[-1] in self.tokenizer.all_special_ids
            self._prompt_lengths[prefix] = len(ids) - closing
        return self._prompt_lengths[prefix]

    def forward(self, features: dict[str, Any], task_type: str | None = None, **kwargs) -> dict[str, Any]:
        # task_type only chose the prefix during preprocess, and prompt_length is bookkeeping: the backbone
        # sees neither.
        prompt_length = features.pop("prompt_length", None)
        token_embeddings = None
        # Every layer's states (output_hidden_states) exist only in the plain forward.
        wants_all_layers = getattr(self.auto_model.config, "output_hidden_states", False)
        text_only = features.get("modality", "text") == "text"
        if not kwargs and not wants_all_layers and text_only:
            input_ids, attention_mask = features["input_ids"], features["attention_mask"]
            if unpads(self.auto_model, input_ids.device, requested=self.unpad_inputs, training=self.training):
                # None for a batch without padding, which the padded forward runs as fast.
                token_embeddings = unpadded_forward(self.auto_model, input_ids, attention_mask)
            if token_embeddings is None and self.use_prefix_cache:
                # None whenever the cache does not apply (training, gradients, encoders, ...).
                token_embeddings = self.prefix_cache(self.auto_model, input_ids, attention_mask, prompt_length)
        if token_embeddings is None:
            features = super().forward(features, **kwargs)
        else:
            features[self.module_output_name] = token_embeddings
        if prompt_length is not None:
            features["prompt_length"] = prompt_length
        return features

    def train(self, mode: bool = True) -> PrefixPrompt:
        # Training changes the weights; the cache also checks them, but there is no reason to hold it.
        if mode:
            self.prefix_cache.clear()
        return super().train(mode)

    def on_model_ready(self, model) -> None:
        # Prompts the model already has (saved with it, or passed by the user) win; ones it lacks (a model
        # saved by another tool) come from this module's config. From now on model.prompts is the one store.
        for name, text in self._prompts.items():
            if model.prompts.get(name) is None:
                model.prompts[name] = text
        self._prompts = model.prompts

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "append_eos": self.append_eos, "use_prefix_cache": self.use_prefix_cache}


def check_texts(inputs: Sequence[Any], where: str = "") -> None:
    """Raise a ``TypeError`` / ``ValueError`` naming the first input that is not a non-blank string.

    ``where`` follows the index in the message (e.g. ``"of the batch"``), for callers that see a slice.
    """
    for index, text in enumerate(inputs):
        position = f"{index} {where}".strip()
        if not isinstance(text, str):
            raise TypeError(f"Input {position} is {type(text).__name__} ({text!r:.40}), not str: st-jce encodes "
                            "texts only; convert or drop it before encoding.")
        if not text.strip():
            raise ValueError(f"Input {position} is empty or whitespace only: its embedding would be the prefix's "
                             "alone; drop it or replace it with real text before encoding.")


def _appends_eos(tokenizer) -> bool:
    ids = tokenizer("x", add_special_tokens=True)["input_ids"]
    return tokenizer.eos_token_id is not None and bool(ids) and ids[-1] == tokenizer.eos_token_id


def _default_append_eos(tokenizer) -> bool:
    """On unless the tokenizer closes texts with another special token already (BERT's [SEP], say)."""
    if _appends_eos(tokenizer):
        return True
    ids = tokenizer("x", add_special_tokens=True)["input_ids"]
    return tokenizer.eos_token is not None and not (ids and ids[-1] in set(tokenizer.all_special_ids))
