"""st-jce: code embeddings from code-generation LLMs (the jina-code-embeddings recipe), as a
sentence-transformers plugin.

Examples
--------
>>> import st_jce
>>> model = st_jce.build_model("Qwen/Qwen2.5-Coder-0.5B")  # doctest: +SKIP
>>> model.encode_query(["read a csv file"], task_type="nl2code")  # doctest: +SKIP
"""

from st_jce._version import __version__
from st_jce.model import DEFAULT_BACKBONE, CodeEmbedder, build_model, export_portable, from_portable, load
from st_jce.modules import LastTokenPooling, MissingPrefixWarning, PrefixPrompt
from st_jce.prefixes import PREFIXES, TASK_TYPES, named_prompts, prompt_name, resolve_task_type

__all__ = [
    "__version__", "DEFAULT_BACKBONE", "PREFIXES", "TASK_TYPES", "CodeEmbedder", "LastTokenPooling", "MissingPrefixWarning",
    "PrefixPrompt", "build_model", "evaluate", "export_portable", "from_portable", "load", "named_prompts",
    "prompt_name", "resolve_task_type",
]


def __getattr__(name: str):
    # st_jce.evaluate needs mteb (the `eval` extra): imported on first use, so `import st_jce` does not.
    if name == "evaluate":
        from st_jce.evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'st_jce' has no attribute {name!r}")
