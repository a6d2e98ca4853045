"""The model card (``README.md``) of a published st-jce model: Hub metadata and a body for its users.

The YAML front matter carries what the Hub indexes (``library_name: sentence-transformers``,
``pipeline_tag``, tags, ``base_model``, ``license``, ``datasets``, ``language`` and the evaluation
results as ``model-index``); the body says what the model is, lists the five task types with their
exact prefixes, shows how to encode queries and documents (plain ``SentenceTransformer`` for the
portable format, ``st_jce.load`` for the native one), the Matryoshka dimensions with the quality
measured at each, the training data and hyperparameters, and how to cite the recipe's paper.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> card = build_model_card(model, base_model="Qwen/Qwen2.5-Coder-0.5B", model_id="me/jce-tiny")
>>> card.data.library_name, card.data.pipeline_tag
('sentence-transformers', 'sentence-similarity')
>>> "Candidate code snippet:\\\\n" in card.text
True
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from st_jce.prefixes import PREFIXES, TASK_TYPES, prompt_name, resolve_task_type
from st_jce.saving import atomic_write_text

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
TAGS = ["sentence-transformers", "sentence-similarity", "feature-extraction", "embeddings", "code", "code-search",
        "code-retrieval", "matryoshka", "st-jce"]
TRAINING_KEYS = ("datasets", "hyperparameters", "loss")
EXAMPLE_QUERY = "read a CSV file into a list of dicts"
EXAMPLE_DOCUMENT = "def load(path):\n    with open(path) as f:\n        return list(csv.DictReader(f))"
CARD_INPUTS_FILE = "st_jce_card.json"  # the card's inputs, so `st-jce push` can rebuild the card for any format
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

PAPER_CITATION = """@misc{kryvosheieva2025efficientcodeembeddings,
  title         = {Efficient Code Embeddings from Code Generation Models},
  author        = {Daria Kryvosheieva and Saba Sturua and Michael G{\\"u}nther and Scott Martens and Han Xiao},
  year          = {2025},
  eprint        = {2508.21290},
  archivePrefix = {arXiv},
  url           = {https://arxiv.org/abs/2508.21290},
}"""


def build_model_card(
    model,
    *,
    base_model: str | None = None,
    model_id: str | None = None,
    matryoshka_dims: list[int] | None = None,
    training: dict[str, Any] | None = None,
    eval_summary: dict[str, Any] | str | os.PathLike | None = None,
    license: str = "apache-2.0",
    portable: bool = True,
) -> ModelCard:
    """Build the Hub model card of an st-jce ``model``.

    Parameters
    ----------
    model : st_jce.CodeEmbedder
        The model the card describes (its dimension, sequence length, prefixes and architecture are read from it).
    base_model : str, optional
        Hub id of the backbone, e.g. ``"Qwen/Qwen2.5-Coder-0.5B"``; default: the backbone's id when the model was
        built from one on the Hub.
    model_id : str, optional
        The repo id the card is published under; used in the usage snippets and as the ``model-index`` name.
    matryoshka_dims : list of int, optional
        Truncation dims the model was trained for; default: ``training["loss"]["matryoshka_dims"]``, else the dims
        of ``eval_summary``.
    training : dict, optional
        ``{"datasets": [{"name", "task_type", "hub_id"?, "pairs"?}, ...] or {name: task_type},
        "hyperparameters": {name: value}, "loss": {"name": ..., **parameters}}`` (all keys optional).
    eval_summary : dict or path, optional
        The ``summary.json`` of ``st-jce eval``: ``{"tasks": {NAME: {"task_type", "ndcg_at_10", "by_dim": {dim:
        score}}}}`` with nDCG@10 as a fraction in 0..1 (the card shows percentages, as the paper does).
    license : str
        A Hub license id.
    portable : bool
        Whether the published files are the portable format (plain ``SentenceTransformer``) or st-jce's native one.

    Returns
    -------
    huggingface_hub.ModelCard

    Raises
    ------
    ValueError
        For a malformed ``training`` or ``eval_summary``, naming the key to fix.
    """
    training = _checked_training(training)
    eval_summary = _checked_eval_summary(eval_summary)
    base_model = base_model if base_model is not None else _backbone_hub_id(model)
    if base_model is not None and not HUB_ID.match(base_model):
        raise ValueError(f"base_model={base_model!r} is not a Hub id ('owner/name'); pass the backbone's Hub id, "
                         "e.g. 'Qwen/Qwen2.5-Coder-0.5B', or leave it out.")
    if matryoshka_dims is None:
        matryoshka_dims = training.get("loss", {}).get("matryoshka_dims") or _dims_of(eval_summary)
    matryoshka_dims = sorted({int(dim) for dim in matryoshka_dims or []}, reverse=True)
    dim = model.get_embedding_dimension()
    if matryoshka_dims and not 0 < matryoshka_dims[-1] <= matryoshka_dims[0] <= dim:
        raise ValueError(f"matryoshka_dims {matryoshka_dims} must lie between 1 and the model's embedding dimension "
                         f"{dim}; fix matryoshka_dims (or training['loss']['matryoshka_dims']).")
    model_name = model_id.split("/")[-1] if model_id else "st-jce-model"
    card_data = ModelCardData(
        language=["en", "code"],
        license=license,
        library_name="sentence-transformers",
        pipeline_tag="sentence-similarity",
        tags=TAGS,
        base_model=base_model,
        datasets=[entry["hub_id"] for entry in training.get("datasets", []) if entry.get("hub_id")] or None,
        model_name=model_name,
        eval_results=_eval_results(eval_summary) or None,
    )
    sections = [
        _overview(model, model_name, base_model, matryoshka_dims, portable),
        _task_types_section(model),
        _usage_section(model_id or "REPO_ID", portable, matryoshka_dims),
        _matryoshka_section(matryoshka_dims, eval_summary),
        _evaluation_section(eval_summary),
        _training_section(training),
        _architecture_section(model),
        _citation_section(),
    ]
    body = "\n\n".join(section for section in sections if section)
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}\n")


def write_model_card(model_dir: str | os.PathLike, *, model=None, **card_inputs) -> Path:
    """Write ``README.md`` into ``model_dir`` atomically; keep the inputs in ``st_jce_card.json`` beside it.

    ``card_inputs`` are the keyword arguments of :func:`build_model_card`. ``model`` defaults to the model in
    ``model_dir`` (loaded with :func:`st_jce.load`). The inputs file lets ``st-jce push`` rebuild the card for
    the format and repo id it publishes.

    Examples
    --------
    >>> import tempfile, st_jce
    >>> from st_jce.testing import random_qwen2
    >>> folder = tempfile.mkdtemp()
    >>> st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32").save_pretrained(folder)
    >>> write_model_card(folder, license="mit").name
    'README.md'
    """
    import st_jce

    model_dir = Path(model_dir)
    model = model if model is not None else st_jce.load(model_dir)
    card_inputs["eval_summary"] = _checked_eval_summary(card_inputs.get("eval_summary"))
    # Known now (the backbone's Hub id), perhaps not once the model is reloaded from a local folder for `push`.
    card_inputs["base_model"] = card_inputs.get("base_model") or _backbone_hub_id(model)
    card = build_model_card(model, **card_inputs)
    atomic_write_text(model_dir / CARD_INPUTS_FILE, json.dumps(card_inputs, indent=2, default=str))
    return atomic_write_text(model_dir / "README.md", str(card))


def read_card_inputs(model_dir: str | os.PathLike) -> dict[str, Any]:
    """The :func:`build_model_card` keyword arguments saved by :func:`write_model_card` (``{}`` if none)."""
    file = Path(model_dir) / CARD_INPUTS_FILE
    return json.loads(file.read_text()) if file.is_file() else {}


# -- input checks ---------------------------------------------------------------------------------------------
def _checked_training(training: dict[str, Any] | None) -> dict[str, Any]:
    if training is None:
        return {}
    unknown = sorted(set(training) - set(TRAINING_KEYS))
    if unknown:
        raise ValueError(f"training has unknown keys {unknown}; use only {list(TRAINING_KEYS)}.")
    datasets = training.get("datasets") or []
    if isinstance(datasets, dict):
        datasets = [{"name": name, "task_type": task_type} for name, task_type in datasets.items()]
    checked = []
    for entry in datasets:
        if not isinstance(entry, dict) or "name" not in entry or "task_type" not in entry:
            raise ValueError(f"training['datasets'] entry {entry!r} needs 'name' and 'task_type' keys "
                             "(and optionally 'hub_id', 'pairs').")
        checked.append({**entry, "task_type": resolve_task_type(entry["task_type"])})
    loss = training.get("loss") or {}
    if loss and "name" not in loss:
        raise ValueError(f"training['loss'] = {loss!r} needs a 'name' (e.g. 'MatryoshkaLoss'); other keys are its "
                         "parameters.")
    return {"datasets": checked, "hyperparameters": dict(training.get("hyperparameters") or {}), "loss": dict(loss)}


def _checked_eval_summary(eval_summary: dict[str, Any] | str | os.PathLike | None) -> dict[str, Any] | None:
    if eval_summary is None:
        return None
    if not isinstance(eval_summary, dict):
        eval_summary = json.loads(Path(eval_summary).read_text())
    tasks = eval_summary.get("tasks")
    if not isinstance(tasks, dict):
        raise ValueError("eval_summary needs a 'tasks' mapping (the summary.json written by `st-jce eval`), got keys "
                         f"{sorted(eval_summary)}.")
    for name, result in tasks.items():
        scores = [result.get("ndcg_at_10"), *(result.get("by_dim") or {}).values()]
        if any(not isinstance(score, (int, float)) or not 0 <= score <= 1 for score in scores if score is not None):
            raise ValueError(f"eval_summary['tasks'][{name!r}]: nDCG@10 scores must be fractions in 0..1 "
                             f"(summary.json's convention), got {result}.")
    return eval_summary


def _backbone_hub_id(model) -> str | None:
    candidates = [getattr(getattr(model, "model_card_data", None), "base_model", None)]
    backbone = getattr(model[0], "auto_model", None)
    candidates.append(getattr(getattr(backbone, "config", None), "_name_or_path", None))
    for candidate in candidates:
        if isinstance(candidate, str) and HUB_ID.match(candidate) and not Path(candidate).exists():
            return candidate
    return None


def _dims_of(eval_summary: dict[str, Any] | None) -> list[int]:
    tasks = (eval_summary or {}).get("tasks", {})
    return sorted({int(dim) for result in tasks.values() for dim in (result.get("by_dim") or {})})


def _eval_results(eval_summary: dict[str, Any] | None) -> list[EvalResult]:
    results = []
    for name, result in ((eval_summary or {}).get("tasks") or {}).items():
        if result.get("ndcg_at_10") is None:
            continue
        results.append(EvalResult(
            task_type="Retrieval",
            task_name=f"{_task_title(result.get('task_type'))} retrieval" if result.get("task_type") else "Retrieval",
            dataset_type=name, dataset_name=name,
            metric_type="ndcg_at_10", metric_name="nDCG@10", metric_value=_percent(result["ndcg_at_10"]),
        ))
    return results


def _percent(score: float) -> float:
    return round(100 * float(score), 2)


def _task_title(task_type: str | None) -> str:
    return TASK_TYPE_TITLES[resolve_task_type(task_type)] if task_type else "—"


def _visible(prefix: str) -> str:
    return "`" + prefix.replace("\n", "\\n") + "`"


# -- sections --------------------------------------------------------------------------------------------------
def _overview(model, model_name, base_model, matryoshka_dims, portable) -> str:
    backbone = f"[{base_model}](https://huggingface.co/{base_model})" if base_model else "a code-generation LLM"
    rows = [
        ("Base model", f"`{base_model}`" if base_model else "—"),
        ("Embedding dimension", str(model.get_embedding_dimension())),
        ("Matryoshka dimensions", ", ".join(map(str, matryoshka_dims)) if matryoshka_dims else "—"),
        ("Max sequence length", f"{model.max_seq_length} tokens"),
        ("Pooling", _pooling_name(model)),
        ("Similarity", "cosine (embeddings are L2-normalized)"),
        ("Format", "portable: built-in sentence-transformers modules" if portable
         else "native st-jce modules (`pip install st-jce`)"),
    ]
    table = "\n".join(["| | |", "|---|---|", *(f"| {key} | {value} |" for key, value in rows)])
    return (f"# {model_name}\n\n"
            f"A code embedding model built from {backbone} with "
            "[st-jce](https://pypi.org/project/st-jce/), following the jina-code-embeddings recipe "
            "(Kryvosheieva et al., 2025): the final hidden state of the last token, task-specific instruction "
            "prefixes for queries and documents, and contrastive InfoNCE training with Matryoshka "
            "representation learning. It embeds natural language and code in one space for code search, "
            "technical question answering, code-to-code retrieval, code summarization and completion retrieval."
            f"\n\n{table}")


def _pooling_name(model) -> str:
    pooling = model[1]
    mode = getattr(pooling, "pooling_mode", None)
    if type(pooling).__name__ == "LastTokenPooling" or mode == "lasttoken":
        return "last token"
    return str(mode or type(pooling).__name__)


def _task_types_section(model) -> str:
    prompts = getattr(model, "prompts", None) or {}
    rows = []
    for task in TASK_TYPES:
        query = prompts.get(prompt_name(task, "query"), PREFIXES[task]["query"])
        document = prompts.get(prompt_name(task, "document"), PREFIXES[task]["document"])
        rows.append(f"| {TASK_TYPE_TITLES[task]} (`{task}`) | {TASK_TYPE_EXAMPLES[task]} | {_visible(query)} | "
                    f"{_visible(document)} |")
    return ("## Task types and prefixes\n\n"
            "Every input starts with an instruction prefix that depends on the task type and on whether the text "
            "is a query or a document (`\\n` is a newline). The model adds it for you: pick the task type with "
            "`task_type=` (native) or the prompt name `{task}_query` / `{task}_document` (both formats).\n\n"
            "| task type | use it for | query prefix | document prefix |\n|---|---|---|---|\n" + "\n".join(rows))


def _usage_section(model_id: str, portable: bool, matryoshka_dims: list[int]) -> str:
    if portable:
        install = "pip install -U sentence-transformers"
        loading = f'from sentence_transformers import SentenceTransformer\n\nmodel = SentenceTransformer("{model_id}")'
        query_choice, document_choice = 'prompt_name="nl2code_query"', 'prompt_name="nl2code_document"'
        note = ("The repository holds built-in sentence-transformers modules only, so it loads with a plain "
                "`SentenceTransformer` — no `trust_remote_code`, no st-jce. With st-jce installed, "
                f'`st_jce.from_portable("{model_id}")` gives the native model with `task_type=` encoding.')
    else:
        install = "pip install st-jce"
        loading = f'import st_jce\n\nmodel = st_jce.load("{model_id}")'
        query_choice, document_choice = 'task_type="nl2code"', 'task_type="nl2code"'
        note = ("The repository holds st-jce's own modules: install `st-jce` and load it with `st_jce.load`, which "
                "checks that the repository runs no code and needs no `trust_remote_code`. "
                '`model.encode(texts, prompt_name="nl2code_query")` works too.')
    code = (f"{loading}\n\n"
            f"queries = model.encode_query([{EXAMPLE_QUERY!r}], {query_choice})\n"
            f"documents = model.encode_document([{EXAMPLE_DOCUMENT!r}], {document_choice})\n"
            "print(model.similarity(queries, documents))")
    text = f"## Usage\n\n```bash\n{install}\n```\n\n```python\n{code}\n```\n\n{note}"
    if matryoshka_dims:
        text += ("\n\nFor smaller vectors, truncate them: "
                 f"`model.encode_query(..., truncate_dim={matryoshka_dims[-1]})` (see Matryoshka dimensions below).")
    return text


def _matryoshka_section(dims: list[int], eval_summary: dict[str, Any] | None) -> str:
    if not dims:
        return ""
    text = ("## Matryoshka dimensions\n\nThe model was trained so that the first *d* components of an embedding are "
            f"an embedding on their own, for d in {', '.join(map(str, dims))}: pass `truncate_dim=d` to `encode_*`.")
    tasks = (eval_summary or {}).get("tasks") or {}
    measured = {name: {int(dim): score for dim, score in (result.get("by_dim") or {}).items()}
                for name, result in tasks.items()}
    if not any(measured.values()):
        return text
    header = "| task | " + " | ".join(f"dim {dim}" for dim in dims) + " |"
    rule = "|---|" + "---|" * len(dims)
    rows = [f"| {name} | " + " | ".join(_cell(scores.get(dim)) for dim in dims) + " |"
            for name, scores in measured.items() if scores]
    # An average over a subset of the tasks would not compare across dims: only where every task was measured.
    averages = [_mean([scores.get(dim) for scores in measured.values() if scores], complete=True) for dim in dims]
    rows.append("| **average** | " + " | ".join(_cell(value) for value in averages) + " |")
    return text + "\n\nnDCG@10 (%) at each dimension:\n\n" + "\n".join([header, rule, *rows])


def _mean(values: list[float | None], complete: bool = False) -> float | None:
    present = [value for value in values if value is not None]
    if not present or (complete and len(present) < len(values)):
        return None
    return sum(present) / len(present)


def _cell(score: float | None) -> str:
    return "—" if score is None else f"{_percent(score):.2f}"


def _evaluation_section(eval_summary: dict[str, Any] | None) -> str:
    tasks = (eval_summary or {}).get("tasks") or {}
    if not tasks:
        return ""
    rows = [f"| {name} | {_task_title(result.get('task_type'))} | {_cell(result.get('ndcg_at_10'))} |"
            for name, result in tasks.items()]
    average = _mean([result.get("ndcg_at_10") for result in tasks.values()])
    rows.append(f"| **average** | | {_cell(average)} |")
    return ("## Evaluation\n\nnDCG@10 (%) measured with `st-jce eval` (mteb retrieval; each task encoded with the "
            "prefixes of its task type):\n\n| task | task type | nDCG@10 |\n|---|---|---|\n" + "\n".join(rows))


def _training_section(training: dict[str, Any]) -> str:
    if not any(training.values()):
        return ""
    parts = ["## Training"]
    if training["datasets"]:
        rows = []
        for entry in training["datasets"]:
            source = f"[{entry['hub_id']}](https://huggingface.co/datasets/{entry['hub_id']})" if entry.get("hub_id") \
                else "—"
            pairs = f"{entry['pairs']:,}" if isinstance(entry.get("pairs"), int) else "—"
            rows.append(f"| {entry['name']} | {TASK_TYPE_TITLES[entry['task_type']]} | {source} | {pairs} |")
        parts.append("Query–document pairs, each dataset tagged with the task type whose prefixes its pairs get:\n\n"
                     "| dataset | task type | source | pairs |\n|---|---|---|---|\n" + "\n".join(rows))
    if training["loss"]:
        loss = dict(training["loss"])
        name = loss.pop("name")
        parameters = ", ".join(f"`{key}={value!r}`" for key, value in loss.items())
        parts.append(f"Loss: `{name}`" + (f" with {parameters}." if parameters else "."))
    if training["hyperparameters"]:
        rows = [f"| `{key}` | `{value!r}` |" for key, value in training["hyperparameters"].items()]
        parts.append("Hyperparameters:\n\n| name | value |\n|---|---|\n" + "\n".join(rows))
    return "\n\n".join(parts)


def _architecture_section(model) -> str:
    return f"## Architecture\n\nThe sentence-transformers modules of the published files:\n\n```\n{model!r}\n```"


def _citation_section() -> str:
    return ("## Citation\n\nThe training recipe and the task prefixes are those of:\n\n"
            f"```bibtex\n{PAPER_CITATION}\n```")
