"""What a backbone's attention is, and the pooling that follows from it.

A causal decoder (Qwen2.5-Coder, SmolLM2, Llama, ...) lets each token see only the tokens before it, so only
the last token has read the whole text: its state is the embedding (the paper, Table 5; e5-mistral,
Qwen3-Embedding). A bidirectional encoder (BERT, MiniLM) lets every token see every other, and such models are
pre-trained for the mean over token states (Reimers & Gurevych, 2019). ``pooling="auto"`` picks by that.
"""

from __future__ import annotations

from transformers import PretrainedConfig
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES

POOLINGS = ("auto", "last_token", "mean")


def is_causal_decoder(config: PretrainedConfig) -> bool:
    """Whether ``config`` describes a decoder-only model with causal attention (not an encoder, which also
    appears among causal-LM heads, e.g. ``BertLMHeadModel``, nor an encoder-decoder).

    Examples
    --------
    >>> from transformers import BertConfig, Qwen2Config
    >>> is_causal_decoder(Qwen2Config()), is_causal_decoder(BertConfig())
    (True, False)
    """
    model_type = getattr(config, "model_type", None)
    return (model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
            and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
            and not getattr(config, "is_encoder_decoder", False)
            and getattr(config, "is_causal", True))


def resolve_pooling(pooling: str, config: PretrainedConfig) -> str:
    """``"last_token"`` or ``"mean"``: ``"auto"`` follows the attention (:func:`is_causal_decoder`).

    Examples
    --------
    >>> from transformers import BertConfig, Qwen2Config
    >>> resolve_pooling("auto", Qwen2Config()), resolve_pooling("auto", BertConfig()), resolve_pooling("mean", Qwen2Config())
    ('last_token', 'mean', 'mean')
    """
    if pooling not in POOLINGS:
        raise ValueError(f"Unknown pooling {pooling!r}: use 'auto' (last token for causal decoders, mean for "
                         "bidirectional encoders), 'last_token' (the recipe) or 'mean' (the paper's ablation).")
    if pooling != "auto":
        return pooling
    return "last_token" if is_causal_decoder(config) else "mean"
