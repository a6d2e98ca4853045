"""st-jce: code embeddings from code-generation LLMs (the jina-code-embeddings recipe), as a
sentence-transformers plugin.

Examples
--------
>>> import st_jce
>>> model = st_jce.build_model("Qwen/Qwen2.5-Coder-0.5B")  # doctest: +SKIP
>>> model.encode_query(["read a csv file"], task_type="nl2code")  # doctest: +SKIP
"""

from st_jce.loading import load
from st_jce.model import DEFAULT_BACKBONE, CodeEmbedder, build_model
from st_jce.modules import LastTokenPooling, MissingPrefixWarning, PrefixPrompt
from st_jce.portable import export_portable, from_portable
from st_jce.prefixes import PREFIXES, TASK_TYPES, named_prompts, prefix_for, prompt_name, resolve_task_type

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BACKBONE", "PREFIXES", "TASK_TYPES", "CodeEmbedder", "LastTokenPooling", "MissingPrefixWarning",
    "PrefixPrompt", "build_model", "export_portable", "from_portable", "load", "named_prompts", "prefix_for",
    "prompt_name", "resolve_task_type",
]
