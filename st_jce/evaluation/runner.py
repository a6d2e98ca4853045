"""``evaluate``: mteb tasks, benchmarks and local BEIR folders, each with its task type's prefixes, at every
Matryoshka dimension; writes mteb's result files, ``summary.json``, ``report.md`` and a plot."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import mteb
import torch
from sentence_transformers import SentenceTransformer

from st_jce.evaluation.encoder import PrefixedMatryoshkaEncoder, task_prompts
from st_jce.evaluation.folder_entries import parse_data
from st_jce.evaluation.local_task import LocalRetrievalTask
from st_jce.evaluation.report import build_summary, write_report
from st_jce.evaluation.tasks import TASK_TYPE_BY_MTEB_TASK, task_type_for
from st_jce.matryoshka import resolve_matryoshka_dims
from st_jce.model.loading import load_model
from st_jce.prefixes import TASK_TYPES, resolve_task_type

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT_DIR = "st-jce-eval"
RETRIEVAL_TASK_TYPES = ("Retrieval", "Reranking")


def evaluate(
    model: str | os.PathLike | SentenceTransformer,
    *,
    tasks: Sequence[str] | None = None,
    benchmark: str | None = None,
    data: Iterable[str | tuple[str | os.PathLike, str]] | None = None,
    task_type: str | None = None,
    matryoshka_dims: Sequence[int] | None = None,
    output_dir: str | os.PathLike = DEFAULT_OUTPUT_DIR,
    batch_size: int = 8,
    max_seq_length: int | None = 8192,
    use_prefixes: bool = True,
    show_progress_bar: bool = True,
    dtype: str | torch.dtype | None = "auto",
) -> dict:
    """Evaluate ``model`` on retrieval tasks through mteb and write the results into ``output_dir``.

    Parameters
    ----------
    model : str, PathLike or SentenceTransformer
        An st-jce model directory or Hub id (loaded with :func:`st_jce.load`), any other
        sentence-transformers directory or Hub id (e.g. the portable ``jinaai/jina-code-embeddings-0.5b``
        or a baseline), or a loaded ``SentenceTransformer``.
    tasks : sequence of str, optional
        mteb task names, e.g. ``["MBPPRetrieval", "CosQA"]``.
    benchmark : str, optional
        An mteb benchmark name, e.g. ``"MTEB(Code, v1)"`` or ``"CoIR"``.
    data : iterable, optional
        Local BEIR folders, each ``"PATH:TASK_TYPE"``, ``"PATH"`` (then ``task_type`` applies) or
        ``(path, task_type)``; the folder name is the task name.
    task_type : str, optional
        Task type for the tasks the mapping of paper tasks does not know and for ``data`` without one.
    matryoshka_dims : sequence of int, optional
        Dims at which to measure nDCG@10 (the full dim is always added). Default: the model's recorded
        dims (``matryoshka_dimensions`` in its backbone config), else the full dim and the powers of two
        from 64 below it (896 -> 896, 512, 256, 128, 64): :func:`st_jce.matryoshka.resolve_matryoshka_dims`.
    output_dir : str or PathLike
        Where mteb's result JSONs (under ``results/``), ``summary.json``, ``report.md`` and the plot go.
    batch_size : int
        Encoding batch size (the paper: 8).
    max_seq_length : int, optional
        Token limit for queries and documents (the paper: 8192), lowered to what the model's position
        embeddings allow; ``None`` keeps the model's own.
    use_prefixes : bool
        Give every task its task type's query / document prefixes (the model's own named prompts if it
        has them, else :data:`st_jce.PREFIXES`). ``False``: no st-jce prefixes; the model's own
        ``"query"`` / ``"document"`` prompts apply if it has any (zero-shot baselines).
    show_progress_bar : bool
        Show encoding progress bars.
    dtype : "auto", str, torch.dtype or None
        Compute dtype of a model given by name: ``"auto"`` (bf16 where it is native, fp32 elsewhere;
        :mod:`st_jce.dtypes`), a dtype, or ``None`` for the dtype its weights were saved in. A loaded
        ``SentenceTransformer`` is evaluated as it is.

    Returns
    -------
    dict
        The summary written to ``summary.json`` (see :func:`st_jce.evaluation.report.build_summary`):
        ``summary["tasks"][name]["ndcg_at_10"]`` and ``["by_dim"][dim]`` are fractions in 0..1.

    Examples
    --------
    >>> from st_jce.evaluation import evaluate
    >>> from st_jce.backbones import minilm_dir
    >>> summary = evaluate(str(minilm_dir()), data=["data/mbpp:nl2code"],
    ...                    use_prefixes=False, output_dir="eval-minilm")  # doctest: +SKIP
    >>> summary["tasks"]["mbpp"]["ndcg_at_10"]  # doctest: +SKIP
    0.746...
    """
    selected = resolve_tasks(tasks=tasks, benchmark=benchmark, data=data, task_type=task_type)
    model_name = _model_name(model)
    if not isinstance(model, SentenceTransformer):
        model = load_model(model, dtype=dtype)
    dims = resolve_matryoshka_dims(model, matryoshka_dims)
    prompts = task_prompts(model, {task.metadata.name: kind for task, kind in selected}) if use_prefixes else {}
    encoder = PrefixedMatryoshkaEncoder(model, prompts, name=model_name, revision=_revision(model))
    results_cache = mteb.ResultCache(Path(output_dir))
    encode_kwargs = {"batch_size": batch_size, "show_progress_bar": show_progress_bar}

    scores = {}
    own_length = getattr(model[0], "max_seq_length", None)
    effective_length = set_max_seq_length(model, max_seq_length)
    try:
        for task, kind in selected:
            name = task.metadata.name
            _load_task_data(task)
            by_dim = {}
            for dim in dims:  # largest first: the full-dim run encodes, the truncated runs reuse its embeddings
                logger.info("Evaluating %s (%s) at dim %d", name, kind, dim)
                result = mteb.evaluate(encoder.at_dim(dim), task, cache=results_cache, overwrite_strategy="always",
                                       encode_kwargs=dict(encode_kwargs), co2_tracker=False, show_progress_bar=False)
                by_dim[dim] = result.task_results[0].get_score(getter=lambda split_scores: split_scores["ndcg_at_10"])
            encoder.clear_embeddings()
            task.unload_data()
            scores[name] = {"task_type": kind, "by_dim": by_dim}
    finally:
        if own_length is not None:  # a model handed in (e.g. during training) keeps its own limit
            model.max_seq_length = own_length

    settings = {"batch_size": batch_size, "max_seq_length": effective_length,
                "prefixes": "task-type prefixes" if use_prefixes else "none (model's own prompts only)",
                "matryoshka_dims": sorted(dims)}
    summary = build_summary(model_name, scores, settings)
    write_report(summary, output_dir)
    return summary


def resolve_tasks(*, tasks: Sequence[str] | None = None, benchmark: str | None = None,
                  data: Iterable[str | tuple[str | os.PathLike, str]] | None = None,
                  task_type: str | None = None) -> list[tuple]:
    """The ``(mteb task, task type)`` pairs to evaluate, checked before any model work starts.

    Raises
    ------
    ValueError
        If nothing is selected, a task name or benchmark is unknown, a task is not a retrieval task, a
        task has no known task type and ``task_type`` is not given, or two tasks share a name.
    """
    default_type = resolve_task_type(task_type) if task_type is not None else None
    mteb_tasks = []
    if tasks:
        try:
            mteb_tasks += list(mteb.get_tasks(tasks=list(tasks)))
        except KeyError as error:
            raise ValueError(f"Unknown mteb task in {list(tasks)}: {error}. Task names are case-sensitive, e.g. "
                             "MBPPRetrieval, CosQA, CodeTransOceanContest.") from None
    if benchmark:
        try:
            mteb_tasks += list(mteb.get_benchmark(benchmark).tasks)
        except (KeyError, ValueError) as error:
            raise ValueError(f"Unknown mteb benchmark {benchmark!r}: {error}. "
                             "Examples: 'MTEB(Code, v1)', 'CoIR'.") from None
    selected = []
    unknown = [task.metadata.name for task in mteb_tasks if task.metadata.name not in TASK_TYPE_BY_MTEB_TASK]
    if unknown and default_type is None:
        raise ValueError(f"No task type is known for {unknown}, so their prefixes are unknown: pass --task-type "
                         f"(task_type=) with one of {list(TASK_TYPES)}, or leave these tasks out.")
    for task in mteb_tasks:
        if task.metadata.type not in RETRIEVAL_TASK_TYPES:
            raise ValueError(f"{task.metadata.name} is a {task.metadata.type} task; st-jce eval measures retrieval "
                             "(nDCG@10): choose retrieval tasks.")
        selected.append((task, task_type_for(task.metadata.name, default_type)))
    for folder, kind in parse_data(data, default_type):
        local_task = LocalRetrievalTask(folder, task_type=kind)
        local_task.load_data()  # reads and checks the folder now, so a bad line fails before the model loads
        selected.append((local_task, kind))
    if not selected:
        raise ValueError("Nothing to evaluate: give mteb tasks (--tasks), a benchmark (--benchmark) or local BEIR "
                         "folders (--data PATH:TASK_TYPE).")
    names = [task.metadata.name for task, _ in selected]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Tasks {duplicates} are selected twice (local folders are named after their directory): "
                         "select each once, or rename one of the folders.")
    return selected


def set_max_seq_length(model: SentenceTransformer, max_seq_length: int | None) -> int | None:
    """Set the model's token limit to ``max_seq_length``, capped by its position embeddings; returns it."""
    first = model[0]
    if not hasattr(first, "max_seq_length"):
        return None
    if max_seq_length is not None:
        config = getattr(getattr(first, "auto_model", None), "config", None)
        positions = getattr(config, "max_position_embeddings", None)
        if positions and max_seq_length > positions:
            logger.info("max_seq_length %d exceeds the model's %d positions; using %d", max_seq_length, positions,
                        positions)
        model.max_seq_length = min(max_seq_length, positions) if positions else max_seq_length
    return model.max_seq_length


def _load_task_data(task) -> None:
    if task.data_loaded:  # local folders were read when the tasks were resolved
        return
    try:
        task.load_data()
    except Exception as error:  # datasets / huggingface_hub raise many types when the Hub is unreachable
        raise RuntimeError(
            f"Could not load the data of mteb task {task.metadata.name} ({task.metadata.dataset['path']}): {error}. "
            "mteb tasks need the Hugging Face Hub or its local cache; offline, evaluate local BEIR folders with "
            "--data PATH:TASK_TYPE."
        ) from error


def _model_name(model: str | os.PathLike | SentenceTransformer) -> str:
    if isinstance(model, SentenceTransformer):
        card = model.model_card_data
        return card.model_name or card.model_id or card.base_model or "sentence-transformers-model"
    path = Path(model)
    if not path.exists():
        return str(model)  # a Hub id
    path = path.resolve()
    return f"{path.parent.name}/{path.name}"  # "owner/name", like a Hub id


def _revision(model: SentenceTransformer) -> str:
    return model.model_card_data.base_model_revision or "no_revision_available"
