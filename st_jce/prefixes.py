"""The task types of jina-code-embeddings and their default query / document prefixes.

The strings are the exact ones of the paper's Table 1 (Kryvosheieva et al., 2025) and of the
released ``jinaai/jina-code-embeddings-*`` models, whose prompt names are ``{task}_{role}``.

:data:`PREFIXES` are the defaults a new model starts with, read-only. A model's own prefixes live in
one place, its ``model.prompts`` (sentence-transformers' named prompts, saved with the model), which
``encode_query(task_type=)``, ``encode(prompt_name=)``, training and evaluation all read
(:class:`st_jce.PrefixPrompt`).

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

from collections.abc import Mapping
from types import MappingProxyType

TASK_TYPES: tuple[str, ...] = ("nl2code", "qa", "code2code", "code2nl", "code2completion")
ROLES: tuple[str, ...] = ("query", "document")

# Other spellings users meet: the paper calls "qa" TechQA.
TASK_TYPE_ALIASES: dict[str, str] = {"techqa": "qa"}

# The paper's names of the task types (Table 1).
TASK_TYPE_TITLES: dict[str, str] = {
    "nl2code": "NL2Code", "qa": "TechQA", "code2code": "Code2Code", "code2nl": "Code2NL",
    "code2completion": "Code2Completion",
}
TASK_TYPE_EXAMPLES: dict[str, str] = {
    "nl2code": "natural-language query → code", "qa": "technical question → answer",
    "code2code": "code → equivalent code (e.g. another language)", "code2nl": "code → comment / docstring",
    "code2completion": "start of a snippet → its completion",
}
_PAPER_PREFIXES = {
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
# Read-only, so that editing it can never be mistaken for editing a model's prefixes (model.prompts).
PREFIXES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {task: MappingProxyType(roles) for task, roles in _PAPER_PREFIXES.items()}
)


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


def prompt_prefix(prompts: Mapping[str, str] | None, task_type: str, role: str, *,
                  paper_default: bool = False) -> str:
    """The prefix of ``role`` texts of ``task_type`` (aliases allowed) in ``prompts`` (a model's ``model.prompts``,
    where st-jce keeps a model's prefixes): the one lookup that encoding, training, evaluation and search share.

    ``paper_default`` falls back to :data:`PREFIXES` for a model without that prompt (a baseline evaluated with the
    recipe's prefixes); otherwise a missing prompt is an error that says how to put it back.

    Examples
    --------
    >>> prompt_prefix({"nl2code_query": "Q: "}, "nl2code", "query")
    'Q: '
    >>> prompt_prefix({}, "techqa", "document", paper_default=True)
    'Candidate answer:\\n'
    """
    if role not in ROLES:
        raise ValueError(
            f"task_type={task_type!r} needs a role: call model.encode_query(...) or model.encode_document(...) "
            f"(got role {role!r}), or pass prompt_name='{resolve_task_type(task_type)}_query' to encode()."
        )
    name = prompt_name(task_type, role)
    prefix = (prompts or {}).get(name)
    if isinstance(prefix, str):
        return prefix
    if paper_default:
        return PREFIXES[resolve_task_type(task_type)][role]
    raise ValueError(f"The model has no prompt {name!r}: st-jce reads its prefixes from model.prompts. "
                     "Put it back, e.g. model.prompts.update(st_jce.named_prompts()) for the paper's prefixes.")


def prefix_of(model, task_type: str, role: str, *, paper_default: bool = False) -> str:
    """The prefix ``model`` (any sentence-transformers model) applies to ``role`` texts of ``task_type``: its named
    prompt ``{task}_{role}`` (:func:`prompt_prefix`)."""
    return prompt_prefix(getattr(model, "prompts", None), task_type, role, paper_default=paper_default)


def named_prompts(prefixes: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, str]:
    """The ten ``{task}_{role}`` prompt names mapped to their prefixes (ST's ``prompts`` format).

    ``prefixes`` is ``{task_type: {"query": str, "document": str}}`` (aliases allowed); default :data:`PREFIXES`.

    Raises
    ------
    ValueError
        If an entry does not map exactly ``"query"`` and ``"document"`` to strings, or names an unknown task type.
    """
    prefixes = PREFIXES if prefixes is None else prefixes
    prompts = {}
    for task_type, roles in prefixes.items():
        if not isinstance(roles, Mapping) or set(roles) != set(ROLES) or not all(isinstance(v, str) for v in roles.values()):
            raise ValueError(f"prefixes[{task_type!r}] must map 'query' and 'document' to strings, got {roles!r}.")
        prompts.update({prompt_name(task_type, role): roles[role] for role in ROLES})
    return prompts
