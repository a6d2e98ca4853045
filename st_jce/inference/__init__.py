"""Fast encoding: a shared-prefix key/value cache for decoder backbones and token-budget batching."""

from st_jce.inference.batching import (
    default_max_batch_tokens,
    encode_in_token_budget_batches,
    token_budget_batches,
    token_lengths,
)
from st_jce.inference.prefix_cache import PrefixKVCache, PrefixStates, supports_prefix_cache

__all__ = [
    "PrefixKVCache", "PrefixStates", "default_max_batch_tokens", "encode_in_token_budget_batches",
    "supports_prefix_cache", "token_budget_batches", "token_lengths",
]
