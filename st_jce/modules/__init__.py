"""The sentence-transformers modules of st-jce."""

from st_jce.modules.last_token_pooling import LastTokenPooling
from st_jce.modules.prefix_prompt import MissingPrefixWarning, PrefixPrompt

__all__ = ["LastTokenPooling", "MissingPrefixWarning", "PrefixPrompt"]
