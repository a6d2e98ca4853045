"""The README's main job, ``python train_st.py configs/cpu-demo.yaml``, end to end: the trained MiniLM beats
zero-shot MiniLM on MBPP, which it never saw. Slow: the full demo (~10 minutes on 2 cores)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import st_jce

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_cpu_demo_beats_zero_shot_minilm_on_mbpp(minilm_path, shared_data, tmp_path):
    output_dir = tmp_path / "cpu-demo"
    subprocess.run([sys.executable, "train_st.py", "configs/cpu-demo.yaml", "--output_dir", str(output_dir)],
                   cwd=ROOT, check=True, timeout=1800)
    baseline = json.loads((output_dir / "eval" / "baseline" / "final" / "summary.json").read_text())
    trained = json.loads((output_dir / "final" / "st_jce_card.json").read_text())["eval_summary"]
    zero_shot, after = (summary["tasks"]["mbpp"]["ndcg_at_10"] for summary in (baseline, trained))
    assert zero_shot == pytest.approx(0.746, abs=0.01)  # the zero-shot figure the demo is measured against
    assert after > zero_shot
    model = st_jce.load(output_dir / "final")
    assert model.encode_query(["sort a list"], task_type="nl2code").shape == (1, 384)
