"""Evaluation of code embedding models through mteb: the paper's tasks with their task-type prefixes,
local BEIR folders offline, nDCG@10 at every Matryoshka dimension, and a report against the paper.

Examples
--------
>>> from st_jce.evaluation import evaluate
>>> summary = evaluate("path/to/model", data=["../shared/data/mbpp:nl2code"])  # doctest: +SKIP
>>> summary["tasks"]["mbpp"]["ndcg_at_10"]  # doctest: +SKIP
"""

from st_jce.evaluation.beir import BeirFolder, BeirFormatError, read_beir_folder
from st_jce.evaluation.encoder import PrefixedMatryoshkaEncoder, task_prompts, truncate_and_normalize
from st_jce.evaluation.local_task import LocalRetrievalTask
from st_jce.evaluation.report import build_summary, write_report
from st_jce.evaluation.runner import evaluate, load_model, parse_data, resolve_matryoshka_dims, resolve_tasks
from st_jce.evaluation.tasks import (
    PAPER_NDCG_AT_10, PAPER_ROW_BY_TASK, TASK_TYPE_BY_MTEB_TASK, paper_figures, task_type_for,
)

__all__ = [
    "PAPER_NDCG_AT_10", "PAPER_ROW_BY_TASK", "TASK_TYPE_BY_MTEB_TASK", "BeirFolder", "BeirFormatError",
    "LocalRetrievalTask", "PrefixedMatryoshkaEncoder", "build_summary", "evaluate", "load_model", "paper_figures",
    "parse_data", "read_beir_folder", "resolve_matryoshka_dims", "resolve_tasks", "task_prompts", "task_type_for",
    "truncate_and_normalize", "write_report",
]
