"""The model card (``README.md``) that every st-jce model directory carries: Hub metadata and a body for users.

``model.save_pretrained``, :func:`st_jce.export_portable`, ``train_st.py`` (its ``final/`` directory and
the trainer's checkpoints) and ``st-jce push`` all write it through :func:`write_model_card`. The YAML
front matter carries what the Hub indexes (``library_name: sentence-transformers``, ``pipeline_tag``, tags,
``base_model``, ``license``, ``datasets``, ``language`` and the evaluation results as ``model-index``); the
body says what the model is, lists the five task types with the model's own prefixes, shows how to load
*that* format (plain ``SentenceTransformer`` for the portable one, st-jce for the native one) and to
encode queries and documents, the Matryoshka dimensions with the quality measured at each, and, where
known, the training data, loss and hyperparameters. Nothing is encoded to write it.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> card = build_model_card(model, base_model="Qwen/Qwen2.5-Coder-0.5B", model_id="me/jce-tiny")
>>> card.data.library_name, card.data.pipeline_tag
('sentence-transformers', 'sentence-similarity')
>>> "`Candidate code snippet:\\\\n`" in card.text, 'st_jce.load("me/jce-tiny")' in card.text
(True, True)
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from st_jce.atomic import atomic_write_text
from st_jce.matryoshka import recorded_matryoshka_dims, resolve_matryoshka_dims
from st_jce.model.directory import NATIVE, model_format, module_type
from st_jce.ndcg_table import MISSING, ndcg_table
from st_jce.prefixes import TASK_TYPE_EXAMPLES, TASK_TYPE_TITLES, TASK_TYPES, prompt_name, resolve_task_type

TAGS = ["sentence-transformers", "sentence-similarity", "feature-extraction", "embeddings", "code", "code-search",
        "code-retrieval", "matryoshka", "st-jce"]
TRAINING_KEYS = ("datasets", "hyperparameters", "loss")
# The facts a card is built from beyond the model itself, kept beside the card so that a reload, a re-save,
# an export or `st-jce push` writes the same facts again.
CARD_INPUT_KEYS = ("base_model", "matryoshka_dims", "training", "eval_summary", "license")
CARD_INPUTS_FILE = "st_jce_card.json"
EXAMPLE_QUERY = "read a CSV file into a list of dicts"
EXAMPLE_DOCUMENT = "def load(path):\n    with open(path) as f:\n        return list(csv.DictReader(f))"
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
    model_id: str | None = None,
    portable: bool | None = None,
    base_model: str | None = None,
    matryoshka_dims: list[int] | None = None,
    training: dict[str, Any] | None = None,
    eval_summary: dict[str, Any] | str | os.PathLike | None = None,
    license: str = "apache-2.0",
) -> ModelCard:
    """Build the model card of an st-jce ``model``.

    Parameters
    ----------
    model : SentenceTransformer
        The model the card describes: an st-jce model, or the plain ``SentenceTransformer`` of a portable one.
        Its dimension, sequence length, pooling and named prompts (``model.prompts``, the prefixes it encodes
        with) are read from it.
    model_id : str, optional
        Where users load the model from, a Hub repo id or a path: the usage snippets load it, and a repo id
        names the card. Default: ``model.model_card_data.model_id``, else ``"path/to/model"``.
    portable : bool, optional
        Whether the card is for the portable format (plain ``SentenceTransformer``) or st-jce's native one.
        Default: the format of ``model`` (:func:`st_jce.model.directory.model_format`).
    base_model : str, optional
        Hub id of the backbone, e.g. ``"Qwen/Qwen2.5-Coder-0.5B"``; default: the backbone's id when the model was
        built from one on the Hub.
    matryoshka_dims : list of int, optional
        Truncation dims the model was trained for; default: ``training["loss"]["matryoshka_dims"]``, else the
        dims recorded in the model's config (:func:`st_jce.matryoshka.recorded_matryoshka_dims`).
    training : dict, optional
        ``{"datasets": [{"name", "task_type", "hub_id"?, "pairs"?}, ...] or {name: task_type},
        "hyperparameters": {name: value}, "loss": {"name": ..., **parameters}}`` (all keys optional).
    eval_summary : dict or path, optional
        The ``summary.json`` of ``st-jce eval``: ``{"tasks": {NAME: {"task_type", "ndcg_at_10", "by_dim": {dim:
        score}}}}`` with nDCG@10 as a fraction in 0..1 (the card shows percentages, as the paper does).
    license : str
        A Hub license id.

    Returns
    -------
    huggingface_hub.ModelCard

    Raises
    ------
    ValueError
        For a malformed ``training``, ``eval_summary``, ``base_model`` or ``matryoshka_dims``, naming what to fix.
    """
    training = _checked_training(training)
    eval_summary = _checked_eval_summary(eval_summary)
    base_model = base_model if base_model is not None else _backbone_hub_id(model)
    if base_model is not None and not HUB_ID.match(base_model):
        raise ValueError(f"base_model={base_model!r} is not a Hub id ('owner/name'); pass the backbone's Hub id, "
                         "e.g. 'Qwen/Qwen2.5-Coder-0.5B', or leave it out.")
    dims = matryoshka_dims or training.get("loss", {}).get("matryoshka_dims") or recorded_matryoshka_dims(model)
    dims = resolve_matryoshka_dims(model, dims) if dims else []
    portable = portable if portable is not None else _format(model) != NATIVE
    model_id = model_id or model.model_card_data.model_id
    model_name = model_id.rstrip("/").split("/")[-1] if model_id and HUB_ID.match(model_id) else "st-jce-model"
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
        _overview(model, model_name, base_model, dims, portable),
        _task_types_section(model),
        _usage_section(model_id or "path/to/model", portable, dims),
        _matryoshka_section(model, dims, eval_summary),
        _evaluation_section(eval_summary),
        _training_section(training),
        _citation_section(),
    ]
    body = "\n\n".join(section for section in sections if section)
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}\n")


def write_model_card(model_dir: str | os.PathLike, *, model, model_id: str | None = None,
                     portable: bool | None = None, **card_inputs) -> Path:
    """Write the card of ``model`` into ``model_dir`` as ``README.md``, and its inputs as ``st_jce_card.json``.

    ``card_inputs`` (keyword arguments of :func:`build_model_card`: ``base_model``, ``matryoshka_dims``,
    ``training``, ``eval_summary``, ``license``) are added to the model's own ``model.card_inputs`` (those an
    st-jce model was loaded with, or that training set). To add facts to a saved model's card (e.g. after
    ``st-jce eval``), pass the model loaded from it: the card never loads one itself. Both files are replaced
    atomically.

    Examples
    --------
    >>> import tempfile, st_jce
    >>> from st_jce.testing import random_qwen2
    >>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
    >>> folder = tempfile.mkdtemp()
    >>> model.save_pretrained(folder)  # writes the card already
    >>> summary = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.5}}}  # e.g. st-jce eval's
    >>> card = ModelCard.load(write_model_card(folder, model=model, eval_summary=summary, license="mit"))
    >>> [result.metric_value for result in card.data.eval_results], read_card_inputs(folder)["license"]
    ([50.0], 'mit')
    """
    model_dir = Path(model_dir)
    inputs = {**getattr(model, "card_inputs", {}), **card_inputs}
    unknown = sorted(set(inputs) - set(CARD_INPUT_KEYS))
    if unknown:
        raise ValueError(f"Card inputs {unknown} are unknown; use only {list(CARD_INPUT_KEYS)} (in model.card_inputs, "
                         f"{CARD_INPUTS_FILE} or as keyword arguments).")
    inputs["eval_summary"] = _checked_eval_summary(inputs.get("eval_summary"))
    # Known now (the backbone's Hub id), perhaps not once the model is reloaded from a local folder.
    inputs["base_model"] = inputs.get("base_model") or _backbone_hub_id(model)
    # Through JSON first, so that the card is the one its saved inputs give (tuples become lists, ...).
    saved_inputs = json.dumps({key: value for key, value in inputs.items() if value is not None}, indent=2, default=str)
    card = build_model_card(model, model_id=model_id, portable=portable, **json.loads(saved_inputs))
    atomic_write_text(model_dir / CARD_INPUTS_FILE, saved_inputs)
    return atomic_write_text(model_dir / "README.md", str(card))


def read_card_inputs(model_dir: str | os.PathLike) -> dict[str, Any]:
    """The card inputs that :func:`write_model_card` saved in ``model_dir`` (``{}`` if none)."""
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
    return TASK_TYPE_TITLES[resolve_task_type(task_type)] if task_type else MISSING


def _visible(prefix: str | None) -> str:
    return MISSING if prefix is None else "`" + prefix.replace("\n", "\\n") + "`"


def _format(model) -> str:
    return model_format((module_type(module) for module in model), model.prompts)


# -- sections --------------------------------------------------------------------------------------------------
def _overview(model, model_name, base_model, matryoshka_dims, portable) -> str:
    backbone = f"[{base_model}](https://huggingface.co/{base_model})" if base_model else "a code-generation LLM"
    rows = [
        ("Base model", f"`{base_model}`" if base_model else MISSING),
        ("Embedding dimension", str(model.get_embedding_dimension())),
        ("Matryoshka dimensions", ", ".join(map(str, matryoshka_dims)) if matryoshka_dims else MISSING),
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
            f"(Kryvosheieva et al., 2025): task-specific instruction prefixes for queries and documents, and "
            f"{_pooling_name(model)} pooling of the backbone's final hidden states. It embeds natural language and "
            "code in one space for code search, technical question answering, code-to-code retrieval, code "
            f"summarization and completion retrieval.\n\n{table}")


def _pooling_name(model) -> str:
    pooling = model[1]
    mode = getattr(pooling, "pooling_mode", None)
    if type(pooling).__name__ == "LastTokenPooling" or mode == "lasttoken":
        return "last token"
    return str(mode or type(pooling).__name__)


def _task_types_section(model) -> str:
    rows = []
    for task in TASK_TYPES:  # the model's own prefixes: the named prompts it encodes with
        query, document = (model.prompts.get(prompt_name(task, role)) for role in ("query", "document"))
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
        note = ("The model is saved with built-in sentence-transformers modules only, so it loads with a plain "
                "`SentenceTransformer` — no `trust_remote_code`, no st-jce. With st-jce installed, "
                f'`st_jce.from_portable("{model_id}")` gives the native model with `task_type=` encoding.')
    else:
        install = "pip install st-jce"
        loading = f'import st_jce\n\nmodel = st_jce.load("{model_id}")'
        query_choice, document_choice = 'task_type="nl2code"', 'task_type="nl2code"'
        note = ("The model is saved with st-jce's own modules: install `st-jce` and load it with `st_jce.load`, "
                "which checks that the files run no code and needs no `trust_remote_code`. With st-jce installed, "
                f'`SentenceTransformer("{model_id}", trust_remote_code=True)` loads it too (the flag lets '
                "sentence-transformers import st-jce's module classes). "
                '`model.encode(texts, prompt_name="nl2code_query")` works as well.')
    code = (f"{loading}\n\n"
            f"queries = model.encode_query([{EXAMPLE_QUERY!r}], {query_choice})\n"
            f"documents = model.encode_document([{EXAMPLE_DOCUMENT!r}], {document_choice})\n"
            "print(model.similarity(queries, documents))")
    text = f"## Usage\n\n```bash\n{install}\n```\n\n```python\n{code}\n```\n\n{note}"
    if matryoshka_dims:
        text += ("\n\nFor smaller vectors, truncate them: "
                 f"`model.encode_query(..., truncate_dim={matryoshka_dims[-1]})` (see Matryoshka dimensions below).")
    return text


def _matryoshka_section(model, dims: list[int], eval_summary: dict[str, Any] | None) -> str:
    if not dims:
        return ("## Matryoshka dimensions\n\nNo Matryoshka dimensions are recorded for this model "
                "(`matryoshka_dimensions` in its `config.json`): it was not trained for truncation, so use the full "
                f"{model.get_embedding_dimension()} dimensions.")
    text = ("## Matryoshka dimensions\n\nThe model was trained so that the first *d* components of an embedding are "
            f"an embedding on their own, for d in {', '.join(map(str, dims))}: pass `truncate_dim=d` to `encode_*`.")
    measured = {name: {int(dim): score for dim, score in (result.get("by_dim") or {}).items()}
                for name, result in ((eval_summary or {}).get("tasks") or {}).items()}
    measured = {name: scores for name, scores in measured.items() if scores}
    if not measured:
        return text
    measured_dims = sorted({dim for scores in measured.values() for dim in scores}, reverse=True)
    table = ndcg_table({name: [scores.get(dim) for dim in measured_dims] for name, scores in measured.items()},
                       [f"dim {dim}" for dim in measured_dims])
    return f"{text}\n\nnDCG@10 (%) at each dimension:\n\n{table}"


def _evaluation_section(eval_summary: dict[str, Any] | None) -> str:
    tasks = (eval_summary or {}).get("tasks") or {}
    if not tasks:
        return ""
    table = ndcg_table({name: [result.get("ndcg_at_10")] for name, result in tasks.items()}, ["nDCG@10"],
                       task_types={name: _task_title(result.get("task_type")) for name, result in tasks.items()})
    return ("## Evaluation\n\nnDCG@10 (%) measured with `st-jce eval` (each task encoded with the prefixes of its "
            f"task type):\n\n{table}")


def _training_section(training: dict[str, Any]) -> str:
    if not any(training.values()):
        return ""
    parts = ["## Training"]
    if training["datasets"]:
        rows = []
        for entry in training["datasets"]:
            source = f"[{entry['hub_id']}](https://huggingface.co/datasets/{entry['hub_id']})" if entry.get("hub_id") \
                else MISSING
            pairs = f"{entry['pairs']:,}" if isinstance(entry.get("pairs"), int) else MISSING
            rows.append(f"| {entry['name']} | {TASK_TYPE_TITLES[entry['task_type']]} | {source} | {pairs} |")
        parts.append("Query–document pairs, each dataset tagged with the task type whose prefixes its pairs get:\n\n"
                     "| dataset | task type | source | pairs |\n|---|---|---|---|\n" + "\n".join(rows))
    if training["loss"]:
        loss = dict(training["loss"])
        name, inner = loss.pop("name"), loss.pop("inner_loss", None)
        parameters = ", ".join(f"`{key}={value!r}`" for key, value in loss.items())
        parts.append(f"Loss: `{name}`" + (f" around `{inner}`" if inner else "")
                     + (f" with {parameters}" if parameters else "")
                     + (" (scale = 1/temperature)." if {"scale", "temperature"} <= set(loss) else "."))
    if training["hyperparameters"]:
        rows = [f"| `{key}` | `{value!r}` |" for key, value in training["hyperparameters"].items()]
        parts.append("Hyperparameters:\n\n| name | value |\n|---|---|\n" + "\n".join(rows))
    return "\n\n".join(parts)


def _citation_section() -> str:
    return ("## Citation\n\nThe training recipe and the task prefixes are those of:\n\n"
            f"```bibtex\n{PAPER_CITATION}\n```")
