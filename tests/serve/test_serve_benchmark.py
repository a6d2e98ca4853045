"""benchmarks/serve.py on the tiny model: every side embeds every text, and the server's vectors are the in-process
ones."""

from __future__ import annotations

import json

import pytest
import serve  # benchmarks/serve.py


@pytest.mark.slow  # a server subprocess and three timed sides: about 40 s on 2 cores
def test_the_benchmark_runs_and_its_sides_agree(tiny_qwen_dir, tmp_path):
    output = tmp_path / "serve.json"
    assert serve.main(["--model", tiny_qwen_dir, "--n-texts", "24", "--texts-per-request", "4", "--clients", "3",
                       "--repeats", "1", "--work-dir", str(tmp_path / "work"), "--output", str(output)]) == 0
    figures = json.loads(output.read_text())
    assert figures["texts"] == 24 and set(figures["sides"]) == {"in_process", "server_batched", "server_single"}
    for side, row in figures["sides"].items():
        assert row["cosine_min"] >= 0.9999 and row["texts_per_s"] > 0, side
    assert figures["sides"]["server_single"]["p99_ms"] >= figures["sides"]["server_single"]["p50_ms"] > 0
    assert figures["sides"]["in_process"]["p50_ms"] is None
