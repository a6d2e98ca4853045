"""What ``st-jce eval`` leaves behind besides mteb's result files: ``summary.json``, ``report.md`` and the
plot of nDCG@10 against Matryoshka dimension that the report embeds.

Examples
--------
>>> import tempfile
>>> from st_jce.evaluation.report import build_summary, write_report
>>> scores = {"MBPPRetrieval": {"task_type": "nl2code", "by_dim": {384: 0.75, 64: 0.61}}}
>>> summary = build_summary("my-model", scores)
>>> summary["tasks"]["MBPPRetrieval"]["ndcg_at_10"], summary["tasks"]["MBPPRetrieval"]["paper"]["jce_0.5b"]
(0.75, 89.01)
>>> sorted(path.name for path in write_report(summary, tempfile.mkdtemp()).values())
['ndcg_by_dim.png', 'report.md', 'summary.json']
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from statistics import mean
from typing import Any

from st_jce.evaluation.tasks import paper_figures
from st_jce.ndcg_table import ndcg_table

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.md"
PLOT_FILE = "ndcg_by_dim.png"


def build_summary(model_name: str, scores: dict[str, dict[str, Any]], settings: dict[str, Any] | None = None) -> dict:
    """The summary of an evaluation.

    Parameters
    ----------
    model_name : str
        Name of the evaluated model.
    scores : dict
        Task name -> ``{"task_type": str, "by_dim": {dim: nDCG@10}}`` (fractions in 0..1); the largest
        dim is the full embedding.
    settings : dict, optional
        How the evaluation ran (batch size, max length, prefixes, ...), recorded as is.

    Returns
    -------
    dict
        ``{"model", "settings", "tasks": {name: {"task_type", "ndcg_at_10", "by_dim", "paper"}}, "average"}``;
        ``paper`` is the matching Table 2 row (nDCG@10 in %) or None; ``average`` holds the mean nDCG@10
        over tasks, at full dimension and by dim (for the dims every task has).
    """
    tasks = {}
    for name, task in scores.items():
        by_dim = {int(dim): float(score) for dim, score in task["by_dim"].items()}
        by_dim = dict(sorted(by_dim.items()))
        tasks[name] = {"task_type": task["task_type"], "ndcg_at_10": by_dim[max(by_dim)], "by_dim": by_dim,
                       "paper": paper_figures(name)}
    common_dims = sorted(set.intersection(*(set(task["by_dim"]) for task in tasks.values()))) if tasks else []
    average = {
        "ndcg_at_10": mean(task["ndcg_at_10"] for task in tasks.values()) if tasks else None,
        "by_dim": {dim: mean(task["by_dim"][dim] for task in tasks.values()) for dim in common_dims},
    }
    return {"model": model_name, "settings": dict(settings or {}), "tasks": tasks, "average": average}


def write_report(summary: dict, output_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``summary.json``, ``report.md`` and ``ndcg_by_dim.png`` into ``output_dir``; return their paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {"summary": output_dir / SUMMARY_FILE, "report": output_dir / REPORT_FILE, "plot": output_dir / PLOT_FILE}
    paths["summary"].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    plot_ndcg_by_dim(summary, paths["plot"])
    paths["report"].write_text(render_report(summary, plot_file=PLOT_FILE), encoding="utf-8")
    return paths


def render_report(summary: dict, plot_file: str = PLOT_FILE) -> str:
    """``report.md``: one row per task (this model, the paper's JCE-0.5B / JCE-1.5B), the average, and the
    Matryoshka table and plot. nDCG@10 is shown in %, as in the paper."""
    tasks = summary["tasks"]
    settings = summary.get("settings", {})
    lines = [f"# st-jce eval: {summary['model']}", ""]
    if settings:
        lines += ["Settings: " + ", ".join(f"{key} = {value}" for key, value in settings.items()), ""]
    # The paper's figures are in %; the table takes fractions, as summary.json holds them.
    scores = {_label(name, task["paper"]): [task["ndcg_at_10"], *_paper_fractions(task["paper"])]
              for name, task in tasks.items()}
    lines += [
        "nDCG@10 in % at the full embedding dimension. Paper columns: Table 2 of Kryvosheieva et al. (2025), "
        "where the task matches one of its rows (row name in brackets).",
        "",
        ndcg_table(scores, ["this model", "JCE-0.5B (paper)", "JCE-1.5B (paper)"],
                   task_types={_label(name, task["paper"]): task["task_type"] for name, task in tasks.items()}),
    ]
    dims = sorted(summary["average"]["by_dim"])
    if len(dims) > 1:
        lines += ["", "## nDCG@10 by Matryoshka dimension", "",
                  "Embeddings truncated to the first *d* components and re-normalized.", "",
                  ndcg_table({name: [task["by_dim"].get(dim) for dim in dims] for name, task in tasks.items()},
                             [str(dim) for dim in dims]),
                  "", f"![nDCG@10 against Matryoshka dimension]({plot_file})"]
    return "\n".join(lines) + "\n"


def plot_ndcg_by_dim(summary: dict, path: str | os.PathLike) -> Path:
    """Save a PNG of nDCG@10 (%) against Matryoshka dimension: one line per task, the average in black."""
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, task in summary["tasks"].items():
        dims = sorted(task["by_dim"])
        axes.plot(dims, [100 * task["by_dim"][dim] for dim in dims], marker="o", label=name)
    average = summary["average"]["by_dim"]
    if len(summary["tasks"]) > 1:
        dims = sorted(average)
        axes.plot(dims, [100 * average[dim] for dim in dims], marker="s", color="black", linewidth=2.5,
                  linestyle="--", label="average")
    all_dims = sorted({dim for task in summary["tasks"].values() for dim in task["by_dim"]})
    if all_dims:
        axes.set_xscale("log", base=2)
        axes.set_xticks(all_dims, [str(dim) for dim in all_dims])
    axes.set_xlabel("embedding dimension (Matryoshka truncation)")
    axes.set_ylabel("nDCG@10 (%)")
    axes.set_title(f"{summary['model']}: nDCG@10 against dimension")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))  # never over the data
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)


def _label(name: str, paper: dict | None) -> str:
    return f"{name} [{paper['row']}]" if paper else name


def _paper_fractions(paper: dict | None) -> list[float | None]:
    return [paper[column] / 100 for column in ("jce_0.5b", "jce_1.5b")] if paper else [None, None]
