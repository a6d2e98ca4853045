"""The task types of jina-code-embeddings and their query / document prefixes.

The strings are the exact ones of the paper's Table 1 (Kryvosheieva et al., 2025) and of the
released ``jinaai/jina-code-embeddings-*`` models, whose prompt names are ``{task}_{role}``.

Examples
--------
>>> from st_jce import PREFIXES, resolve_task_type
>>> PREFIXES["nl2code"]["document"]
'Candidate code snippet:\\n'
>>> resolve_task_type("techqa")
'qa'
>>> prompt_name("code2nl", "query")
'code2nl_query'
"""

from __future__ import annotations

from typing import Literal

Role = Literal["query", "document"]

TASK_TYPES: tuple[str, ...] = ("nl2code", "qa", "code2code", "code2nl", "code2completion")
ROLES: tuple[str, ...] = ("query", "document")

# Other spellings users meet: the paper calls "qa" TechQA.
TASK_TYPE_ALIASES: dict[str, str] = {"techqa": "qa"}

PREFIXES: dict[str, dict[str, str]] = {
    "nl2code": {
        "query": "Find the most relevant code snippet given the following query:\n",
        "document": "Candidate code snippet:\n",
    },
    "qa": {
        "query": "Find the most relevant answer given the following question:\n",
        "document": "Candidate answer:\n",
    },
    "code2code": {
        "query": "Find an equivalent code snippet given the following code snippet:\n",
        "document": "Candidate code snippet:\n",
    },
    "code2nl": {
        "query": "Find the most relevant comment given the following code snippet:\n",
        "document": "Candidate comment:\n",
    },
    "code2completion": {
        "query": "Find the most relevant completion given the following start of code snippet:\n",
        "document": "Candidate completion:\n",
    },
}


def resolve_task_type(task_type: str) -> str:
    """Return the canonical name of ``task_type`` (case-insensitive, aliases allowed).

    Raises
    ------
    ValueError
        If ``task_type`` is not one of :data:`TASK_TYPES` or their aliases; the message lists them.
    """
    if not isinstance(task_type, str):
        raise ValueError(f"task_type must be a string, one of {list(TASK_TYPES)}; got {task_type!r}.")
    name = task_type.strip().lower()
    name = TASK_TYPE_ALIASES.get(name, name)
    if name not in PREFIXES:
        aliases = ", ".join(f"{alias!r} (= {target!r})" for alias, target in TASK_TYPE_ALIASES.items())
        raise ValueError(
            f"Unknown task type {task_type!r}. Valid task types: {list(TASK_TYPES)}; aliases: {aliases}."
        )
    return name


def resolve_role(role: str) -> str:
    """Return ``role`` if it is ``"query"`` or ``"document"``, else raise a ``ValueError``."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: use 'query' or 'document'.")
    return role


def prompt_name(task_type: str, role: str) -> str:
    """The released models' prompt name for a (task type, role) pair, e.g. ``"nl2code_query"``."""
    return f"{resolve_task_type(task_type)}_{resolve_role(role)}"


def prefix_for(task_type: str, role: str) -> str:
    """The exact prefix text for a (task type, role) pair."""
    return PREFIXES[resolve_task_type(task_type)][resolve_role(role)]


def named_prompts(prefixes: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
    """The ten ``{task}_{role}`` prompt names mapped to their prefixes (ST's ``prompts`` format)."""
    prefixes = PREFIXES if prefixes is None else prefixes
    return {f"{task}_{role}": text for task, roles in prefixes.items() for role, text in roles.items()}
