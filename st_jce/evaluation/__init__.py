"""Evaluation of code embedding models through mteb: the paper's tasks with their task-type prefixes,
local BEIR folders offline, nDCG@10 at every Matryoshka dimension, and a report against the paper.

mteb comes with the ``eval`` extra (``pip install 'st-jce[eval]'``). The names below are imported on
first use, so the parts that training uses without mteb (:mod:`~st_jce.evaluation.folders`,
:mod:`~st_jce.evaluation.ndcg`, :mod:`~st_jce.evaluation.report`, :mod:`~st_jce.evaluation.tasks`) load
without it.

Examples
--------
>>> from st_jce.evaluation import evaluate
>>> summary = evaluate("path/to/model", data=["data/mbpp:nl2code"])  # doctest: +SKIP
>>> summary["tasks"]["mbpp"]["ndcg_at_10"]  # doctest: +SKIP
"""

import importlib

_NAMES_BY_MODULE = {
    "st_jce.data.beir": ("BeirData", "BeirFormatError", "read_beir_folder"),
    "st_jce.evaluation.encoder": ("PrefixedMatryoshkaEncoder", "task_prompts", "truncate_and_normalize"),
    "st_jce.evaluation.folders": ("parse_data",),
    "st_jce.evaluation.local_task": ("LocalRetrievalTask",),
    "st_jce.evaluation.ndcg": ("ndcg_at_k", "rank_documents"),
    "st_jce.evaluation.report": ("build_summary", "write_report"),
    "st_jce.evaluation.runner": ("evaluate", "resolve_tasks"),
    "st_jce.evaluation.tasks": ("PAPER_NDCG_AT_10", "PAPER_ROW_BY_TASK", "TASK_TYPE_BY_MTEB_TASK", "paper_figures",
                                "task_type_for"),
    "st_jce.loading": ("load_model",),
    "st_jce.matryoshka": ("resolve_matryoshka_dims",),
}
_MODULE_OF = {name: module for module, names in _NAMES_BY_MODULE.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'st_jce.evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
