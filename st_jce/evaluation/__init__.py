"""Evaluation of code embedding models through mteb: the paper's tasks with their task-type prefixes,
local BEIR folders offline, nDCG@10 at every Matryoshka dimension, and a report against the paper.

mteb comes with the ``eval`` extra (``pip install 'st-jce[eval]'``). The names below are imported on
first use, so the parts that training uses without mteb (:mod:`~st_jce.evaluation.folder_entries`,
:mod:`~st_jce.evaluation.ndcg`, :mod:`~st_jce.evaluation.report`, :mod:`~st_jce.evaluation.tasks`) load
without it.

Examples
--------
>>> from st_jce.evaluation import evaluate
>>> summary = evaluate("path/to/model", data=["data/mbpp:nl2code"])  # doctest: +SKIP
>>> summary["tasks"]["mbpp"]["ndcg_at_10"]  # doctest: +SKIP
"""

from st_jce.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "st_jce.evaluation.encoder": ("PrefixedMatryoshkaEncoder", "task_prompts"),
    "st_jce.evaluation.folder_entries": ("parse_data",),
    "st_jce.evaluation.local_task": ("LocalRetrievalTask",),
    "st_jce.evaluation.ndcg": ("ndcg_at_k", "rank_documents"),
    "st_jce.evaluation.report": ("build_summary", "write_report"),
    "st_jce.evaluation.runner": ("evaluate", "resolve_tasks"),
    "st_jce.evaluation.tasks": ("PAPER_NDCG_AT_10", "PAPER_ROW_BY_TASK", "TASK_TYPE_BY_MTEB_TASK", "paper_figures",
                                "task_type_for"),
})
