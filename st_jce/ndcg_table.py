"""nDCG@10 tables in Markdown, as the training report, ``st-jce eval``'s report and the model card show them.

Scores are fractions in 0..1 (``summary.json``'s convention) and are shown in %, as in the paper.

Examples
--------
>>> print(ndcg_table({"mbpp": [0.7, 0.81], "cosqa": [0.3, None]}, ["before", "after"],
...                  task_types={"mbpp": "nl2code", "cosqa": "nl2code"}, gain=True))
| task | task type | before | after | after − before |
|---|---|---:|---:|---:|
| mbpp | nl2code | 70.00 | 81.00 | +11.00 |
| cosqa | nl2code | 30.00 | – | – |
| **average** | | 50.00 | – | – |

:func:`comparison_table` is the before / after table that training prints, from ``summary.json`` dicts:

>>> before = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.70}}}
>>> after = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.81}}}
>>> print(comparison_table({"before": before, "after": after}))
| task | task type | before | after | after − before |
|---|---|---:|---:|---:|
| mbpp | nl2code | 70.00 | 81.00 | +11.00 |
| **average** | | 70.00 | 81.00 | +11.00 |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import mean

MISSING = "–"


def ndcg_table(scores: Mapping[str, Sequence[float | None]], columns: Sequence[str], *,
               task_types: Mapping[str, str] | None = None, gain: bool = False) -> str:
    """A row per task, one cell per column, then the average of each column over the tasks.

    Parameters
    ----------
    scores : mapping
        Task name -> one nDCG@10 (a fraction, or ``None`` where not measured) per column.
    columns : sequence of str
        The column headers.
    task_types : mapping, optional
        Task name -> task type, shown in a column after the task.
    gain : bool
        Add a column: the last column minus the first.

    Returns
    -------
    str
        The table; an average is shown only where every task has a score, so that averages compare
        across columns.
    """
    labels = ["task", *(["task type"] if task_types is not None else [])]
    rows = {name: list(values) + ([_difference(values[-1], values[0])] if gain else [])
            for name, values in scores.items()}
    averages = [mean(column) if None not in column else None for column in zip(*rows.values())]
    header = [*labels, *columns, *([f"{columns[-1]} − {columns[0]}"] if gain else [])]
    lines = [_line(header), "|" + "---|" * len(labels) + "---:|" * (len(header) - len(labels))]
    for name, values in rows.items():
        lines.append(_line([name, *([task_types.get(name, "")] if task_types is not None else []),
                            *_cells(values, gain)]))
    if rows:
        lines.append(_line(["**average**", *[""] * (len(labels) - 1), *_cells(averages, gain)]))
    return "\n".join(lines)


def comparison_table(columns: dict[str, dict]) -> str:
    """A Markdown table of nDCG@10 in % (rows: the tasks of the last summary and their average; columns: the
    summaries in ``columns``, each a ``summary.json``), with the gain of the last summary over the first."""
    summaries = [summary["tasks"] for summary in columns.values()]
    tasks = summaries[-1]
    scores = {task: [summary.get(task, {}).get("ndcg_at_10") for summary in summaries] for task in tasks}
    return ndcg_table(scores, list(columns), task_types={task: tasks[task]["task_type"] for task in tasks},
                      gain=len(columns) > 1)


def percent(score: float | None) -> str:
    """A fraction in % with two decimals, or ``–`` for a missing score.

    Examples
    --------
    >>> percent(0.8123), percent(None)
    ('81.23', '–')
    """
    return MISSING if score is None else f"{100 * score:.2f}"


def _difference(last: float | None, first: float | None) -> float | None:
    return None if last is None or first is None else last - first


def _cells(values: list[float | None], gain: bool) -> list[str]:
    cells = [percent(value) for value in values]
    if gain and values[-1] is not None and values[-1] >= 0:
        cells[-1] = "+" + cells[-1]
    return cells


def _line(cells: list[str]) -> str:
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"
