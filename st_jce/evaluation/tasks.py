"""Which task type (and so which prefixes) each evaluation task gets, and the paper's figures for it.

:data:`TASK_TYPE_BY_MTEB_TASK` covers every evaluation task of the paper's Table 4b that mteb 2.26 has.
Table 4b tasks missing from mteb (CodeChef, CodeChefXLang, CommitPackFT, CoSQA+, Doc2Code, LeetCode,
Spider) can be evaluated from local folders with ``--data PATH:TASK_TYPE``.

:data:`PAPER_NDCG_AT_10` is Table 2 (nDCG@10 in %, JCE-0.5B and JCE-1.5B) keyed by the paper's row
names; :data:`PAPER_ROW_BY_TASK` says which row an mteb task reports (a local folder has none: its data is
not known to be the paper's).

Examples
--------
>>> from st_jce.evaluation.tasks import task_type_for, paper_figures
>>> task_type_for("CodeTransOceanContest")
'code2code'
>>> paper_figures("MBPPRetrieval")
{'row': 'MBPP', 'jce_0.5b': 89.01, 'jce_1.5b': 90.13}
"""

from __future__ import annotations

from st_jce.prefixes import resolve_task_type

TASK_TYPE_BY_MTEB_TASK: dict[str, str] = {
    # NL2Code
    "AppsRetrieval": "nl2code",
    "CodeEditSearchRetrieval": "nl2code",
    "CodeSearchNetRetrieval": "nl2code",
    "CosQA": "nl2code",
    "HumanEvalRetrieval": "nl2code",
    "MBPPRetrieval": "nl2code",
    "SWEbenchCodeRetrieval": "nl2code",
    "SyntheticText2SQL": "nl2code",
    "WikiSQLRetrieval": "nl2code",
    # TechQA
    "CodeFeedbackMT": "qa",
    "CodeFeedbackST": "qa",
    "DS1000Retrieval": "qa",
    "MLQuestions": "qa",
    "StackOverflowQA": "qa",
    # Code2Code
    "CodeTransOceanContest": "code2code",
    "CodeTransOceanDL": "code2code",
    # Code2NL
    "COIRCodeSearchNetRetrieval": "code2nl",
    # Code2Completion
    "CodeSearchNetCCRetrieval": "code2completion",
}

# Paper Table 2: nDCG@10 (%) of (JCE-0.5B, JCE-1.5B), rows in the paper's order and spelling (no "*").
PAPER_NDCG_AT_10: dict[str, tuple[float, float]] = {
    "CoSQA+": (15.42, 16.38),
    "CoSQA": (39.25, 35.10),
    "MBPP": (89.01, 90.13),
    "COIR-CSN": (85.73, 86.45),
    "CSN": (90.68, 91.38),
    "Doc2Code": (95.98, 96.34),
    "SWE-Bench": (83.00, 86.33),
    "CES": (83.25, 84.43),
    "CP-FT": (63.00, 65.06),
    "AppsR": (84.17, 86.63),
    "LeetCode": (57.86, 59.075),
    "CodeChef": (94.03, 96.89),
    "SynText2SQL": (72.80, 73.91),
    "Spider": (81.65, 82.18),
    "WikiSQL": (98.31, 98.02),
    "CF-MT": (89.56, 89.91),
    "CF-ST": (85.73, 86.18),
    "StackOQA": (91.04, 92.37),
    "DS-1000": (59.77, 62.88),
    "MLQuestions": (81.05, 77.46),
    "CTOC": (90.37, 92.54),
    "CTODL": (41.69, 37.319),
    "CodeChefXLang": (99.70, 99.44),
    "CSN-CC": (90.41, 91.12),
    "HumanEval": (96.77, 98.41),
}

PAPER_ROW_BY_TASK: dict[str, str] = {
    "AppsRetrieval": "AppsR",
    "CodeEditSearchRetrieval": "CES",
    "CodeSearchNetRetrieval": "CSN",
    "CosQA": "CoSQA",
    "HumanEvalRetrieval": "HumanEval",
    "MBPPRetrieval": "MBPP",
    "SWEbenchCodeRetrieval": "SWE-Bench",
    "SyntheticText2SQL": "SynText2SQL",
    "WikiSQLRetrieval": "WikiSQL",
    "CodeFeedbackMT": "CF-MT",
    "CodeFeedbackST": "CF-ST",
    "DS1000Retrieval": "DS-1000",
    "MLQuestions": "MLQuestions",
    "StackOverflowQA": "StackOQA",
    "CodeTransOceanContest": "CTOC",
    "CodeTransOceanDL": "CTODL",
    "COIRCodeSearchNetRetrieval": "COIR-CSN",
    "CodeSearchNetCCRetrieval": "CSN-CC",
}


def task_type_for(task_name: str, default: str | None = None) -> str:
    """The task type of the mteb task ``task_name``, else ``default``.

    Raises
    ------
    ValueError
        If the task is not in :data:`TASK_TYPE_BY_MTEB_TASK` and no ``default`` is given; the message says
        to pass a task type.
    """
    if task_name in TASK_TYPE_BY_MTEB_TASK:
        return TASK_TYPE_BY_MTEB_TASK[task_name]
    if default is None:
        raise ValueError(
            f"Task {task_name!r} is not one of the paper's evaluation tasks, so its prefixes are unknown: pass its "
            "task type (--task-type / task_type=, one of nl2code, qa, code2code, code2nl, code2completion). "
            f"Known tasks: {sorted(TASK_TYPE_BY_MTEB_TASK)}."
        )
    return resolve_task_type(default)


def paper_figures(task_name: str) -> dict[str, str | float] | None:
    """The paper's Table 2 row for ``task_name`` as ``{"row", "jce_0.5b", "jce_1.5b"}`` (nDCG@10 in %), or None."""
    row = PAPER_ROW_BY_TASK.get(task_name)
    if row is None:
        return None
    small, large = PAPER_NDCG_AT_10[row]
    return {"row": row, "jce_0.5b": small, "jce_1.5b": large}
