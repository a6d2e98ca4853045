"""The README's main job, ``python train_st.py configs/cpu-demo.yaml``, end to end: training lifts the recipe's
pipeline (prefixes + last-token pooling) well above where it starts on evaluation sets it never saw, to within
0.03 nDCG@10 of zero-shot MiniLM on MBPP, and the zero-shot MiniLM it is compared with scores what the issue
measured. Slow: the full demo (~9 minutes on 2 cores).

Not asserted, because it does not hold yet: the trained model beating zero-shot MiniLM (mean pooling) on MBPP
(0.730 against 0.748; see README, "The CPU demo")."""

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


def test_cpu_demo_trains_the_recipe_well_past_its_start(minilm_path, shared_data, tmp_path):
    output_dir = tmp_path / "cpu-demo"
    subprocess.run([sys.executable, "train_st.py", "configs/cpu-demo.yaml", "--output_dir", str(output_dir)],
                   cwd=ROOT, check=True, timeout=1800)
    zero_shot = ndcg(output_dir / "eval" / "baseline" / "final" / "summary.json")
    before = ndcg(output_dir / "eval" / "step-0" / "summary.json")
    steps = sorted(int(folder.name.removeprefix("step-")) for folder in (output_dir / "eval").glob("step-*"))
    assert steps[0] == 0 and len(steps) == 2  # before and after training
    after = ndcg(output_dir / "eval" / f"step-{steps[-1]}" / "summary.json")
    assert zero_shot["mbpp"] == pytest.approx(0.748, abs=0.01)  # the figure the issue measured (0.746 at length 512)
    assert set(after) == {"mbpp", "spider-dev", "mlquestions", "codexglue-java2cs"}
    assert all(after[task] > before[task] for task in after)
    assert after["mbpp"] > before["mbpp"] + 0.1
    # Without the teacher and the mined libraries the gap was 0.032 (0.716 against 0.748).
    assert after["mbpp"] > zero_shot["mbpp"] - 0.03
    assert after["codexglue-java2cs"] > zero_shot["codexglue-java2cs"] - 0.01
    model = st_jce.load(output_dir / "final")
    assert model.encode_query(["sort a list"], task_type="nl2code").shape == (1, 384)
