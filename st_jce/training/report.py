"""The before / after table that ``train_st.py`` prints: nDCG@10 per evaluation folder, one column per model.

Examples
--------
>>> before = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.70}}}
>>> after = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.81}}}
>>> print(comparison_table({"before": before, "after": after}))
| task | task type | before | after | after − before |
|---|---|---:|---:|---:|
| mbpp | nl2code | 70.00 | 81.00 | +11.00 |
| **average** | | 70.00 | 81.00 | +11.00 |
"""

from __future__ import annotations

from st_jce.ndcg_table import ndcg_table


def comparison_table(columns: dict[str, dict]) -> str:
    """A Markdown table of nDCG@10 in % (rows: the tasks of the last summary and their average; columns: the
    summaries in ``columns``, each a ``summary.json``), with the gain of the last summary over the first."""
    summaries = [summary["tasks"] for summary in columns.values()]
    tasks = summaries[-1]
    scores = {task: [summary.get(task, {}).get("ndcg_at_10") for summary in summaries] for task in tasks}
    return ndcg_table(scores, list(columns), task_types={task: tasks[task]["task_type"] for task in tasks},
                      gain=len(columns) > 1)
