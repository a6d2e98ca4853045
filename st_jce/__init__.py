"""st-jce: code embeddings from code-generation LLMs, as a sentence-transformers plugin."""

from st_jce.prefixes import PREFIXES, TASK_TYPES, named_prompts, prefix_for, prompt_name, resolve_task_type

__version__ = "0.1.0"
