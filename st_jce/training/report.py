"""The before / after table that ``train_st.py`` prints: nDCG@10 per evaluation folder, one column per model.

Examples
--------
>>> before = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.70}}}
>>> after = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.81}}}
>>> print(comparison_table({"before": before, "after": after}))
| task | task type | before | after | after − before |
|---|---|---:|---:|---:|
| mbpp | nl2code | 0.7000 | 0.8100 | +0.1100 |
| mean |  | 0.7000 | 0.8100 | +0.1100 |
"""

from __future__ import annotations

from statistics import mean


def comparison_table(columns: dict[str, dict]) -> str:
    """A Markdown table of nDCG@10 (rows: tasks and their mean; columns: the summaries in ``columns``).

    The last column is the gain of the last summary over the first one.
    """
    names = list(columns)
    summaries = [columns[name]["tasks"] for name in names]
    tasks = list(summaries[-1])
    header = ["task", "task type", *names, f"{names[-1]} − {names[0]}"] if len(names) > 1 else ["task", "task type",
                                                                                               *names]
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]

    def row(label: str, task_type: str, scores: list[float | None]) -> str:
        cells = [f"{score:.4f}" if score is not None else "–" for score in scores]
        if len(scores) > 1:
            gain = scores[-1] - scores[0] if None not in (scores[0], scores[-1]) else None
            cells.append(f"{gain:+.4f}" if gain is not None else "–")
        return "| " + " | ".join([label, task_type, *cells]) + " |"

    for task in tasks:
        scores = [summary[task]["ndcg_at_10"] if task in summary else None for summary in summaries]
        lines.append(row(task, summaries[-1][task]["task_type"], scores))
    means = [mean(summary[task]["ndcg_at_10"] for task in tasks) if all(task in summary for task in tasks) else None
             for summary in summaries]
    lines.append(row("mean", "", means))
    return "\n".join(lines)
