"""summary.json, report.md and the plot, from hand-made scores."""

from __future__ import annotations

import json

import pytest

from st_jce.evaluation import build_summary, write_report
from st_jce.evaluation.report import render_report

SCORES = {
    "MBPPRetrieval": {"task_type": "nl2code", "by_dim": {896: 0.80, 64: 0.60, 128: 0.70}},
    "my-folder": {"task_type": "code2code", "by_dim": {896: 0.50, 64: 0.30, 128: 0.40, 256: 0.45}},
}


def test_summary_averages_and_paper_rows():
    summary = build_summary("org/model", SCORES, {"batch_size": 8})
    assert summary["tasks"]["MBPPRetrieval"]["ndcg_at_10"] == 0.80
    assert summary["tasks"]["MBPPRetrieval"]["paper"] == {"row": "MBPP", "jce_0.5b": 89.01, "jce_1.5b": 90.13}
    assert summary["tasks"]["my-folder"]["paper"] is None
    assert summary["average"]["ndcg_at_10"] == pytest.approx((0.80 + 0.50) / 2)
    # only dims that every task was measured at are averaged
    assert summary["average"]["by_dim"] == pytest.approx({64: 0.45, 128: 0.55, 896: 0.65})
    assert summary["settings"] == {"batch_size": 8}


def test_written_files(tmp_path):
    paths = write_report(build_summary("org/model", SCORES), tmp_path)
    assert json.loads(paths["summary"].read_text())["tasks"]["my-folder"]["by_dim"]["256"] == 0.45
    report = paths["report"].read_text()
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    assert "| MBPPRetrieval [MBPP] | nl2code | 80.00 | 89.01 | 90.13 |" in rows
    assert "| my-folder | code2code | 50.00 | – | – |" in rows
    # Averages only over complete columns: the paper has no row for my-folder.
    assert "| **average** | | 65.00 | – | – |" in rows
    assert "| MBPPRetrieval | 60.00 | 70.00 | 80.00 |" in rows  # Matryoshka table over the common dims
    assert "| **average** | 45.00 | 55.00 | 65.00 |" in rows
    assert f"]({paths['plot'].name})" in report
    assert paths["plot"].read_bytes().startswith(b"\x89PNG")


def test_paper_averages_when_every_task_has_a_paper_row():
    scores = {"MBPPRetrieval": SCORES["MBPPRetrieval"],
              "CosQA": {"task_type": "nl2code", "by_dim": {896: 0.25, 64: 0.2}}}
    summary = build_summary("org/model", scores)
    rows = render_report(summary).splitlines()
    paper = [summary["tasks"][name]["paper"] for name in scores]
    small, large = (sum(row[column] for row in paper) / 2 for column in ("jce_0.5b", "jce_1.5b"))
    assert f"| **average** | | {100 * (0.80 + 0.25) / 2:.2f} | {small:.2f} | {large:.2f} |" in rows
