"""The README's main job, ``python train_st.py configs/cpu-demo.yaml``, end to end: MiniLM with mean pooling
(``pooling: auto`` for an encoder) trained by the recipe beats zero-shot MiniLM on the code sets it never saw
(MBPP, Spider, Java -> C#), and the zero-shot MiniLM it is compared with scores what the issue measured.
Slow: the full demo (~15 minutes on 2 cores).

Not asserted, because it does not hold: beating zero-shot MiniLM on MLQuestions (~0.615 against 0.625: the
task prefix costs what training does not win back; MLQuestions' dev queries are the one shared set that chose
the demo's defaults; see docs/experiments.md, "Training that transfers")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import st_jce

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def ndcg(summary_file: Path) -> dict[str, float]:
    return {task: scores["ndcg_at_10"] for task, scores in json.loads(summary_file.read_text())["tasks"].items()}


def test_cpu_demo_beats_zero_shot_minilm_on_code(minilm_path, shared_data, tmp_path):
    output_dir = tmp_path / "cpu-demo"
    subprocess.run([sys.executable, "train_st.py", "configs/cpu-demo.yaml", "--output_dir", str(output_dir)],
                   cwd=ROOT, check=True, timeout=2400)
    zero_shot = ndcg(output_dir / "eval" / "baseline" / "final" / "summary.json")
    steps = sorted(int(folder.name.removeprefix("step-")) for folder in (output_dir / "eval").glob("step-*"))
    assert len(steps) == 1  # after training only (eval_before: false)
    after = ndcg(output_dir / "eval" / f"step-{steps[-1]}" / "summary.json")
    assert zero_shot["mbpp"] == pytest.approx(0.746, abs=0.01)  # the figure the issue measured
    assert set(after) == {"mbpp", "spider-dev", "mlquestions", "codexglue-java2cs"}
    for task in ("mbpp", "spider-dev", "codexglue-java2cs"):
        assert after[task] > zero_shot[task], (task, after[task], zero_shot[task])
    assert after["mlquestions"] > zero_shot["mlquestions"] - 0.03
    model = st_jce.load(output_dir / "final")
    assert type(model[1]).__name__ == "Pooling" and model[1].pooling_mode == "mean"  # pooling: auto on an encoder
    assert model.encode_query(["sort a list"], task_type="nl2code").shape == (1, 384)
