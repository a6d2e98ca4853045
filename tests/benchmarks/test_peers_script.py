"""benchmarks/peers.py on the tiny model: every side embeds the same tokens through its own pipeline, so
each agrees with plain sentence-transformers fp32."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def peers():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import peers
        yield peers
    finally:
        sys.path.remove(str(BENCHMARKS))


def run_peers(peers, model_dir, data, work: Path, sides: str) -> dict:
    output = work / "peers.json"
    assert peers.main(["--model", str(model_dir), "--limit", "12", "--work-dir", str(work / "files"),
                       "--data", str(data / "mbpp"), "--sides", sides, "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_sides_embed_what_plain_fp32_embeds(peers, tiny_qwen_dir, shared_data, tmp_path):
    report = run_peers(peers, tiny_qwen_dir, shared_data, tmp_path, "plain_st_bf16,st_jce_int8")
    sides = report["sides"]
    assert set(sides) == {"st_jce_default", "plain_st_fp32", "plain_st_bf16", "st_jce_int8"}  # only what was asked
    for name, figures in sides.items():
        for role in ("documents", "queries"):
            assert figures[role]["texts"] == 12
            assert figures[role]["cosine_min"] > 0.99, (name, role)
    assert abs(sides["st_jce_default"]["ndcg_at_10"] - sides["plain_st_fp32"]["ndcg_at_10"]) < 0.05


@pytest.mark.skipif(not os.environ.get("LLAMA_CPP_CONVERT"),
                    reason="llama.cpp side: set LLAMA_CPP_CONVERT to llama.cpp's convert_hf_to_gguf.py")
def test_llama_cpp_embeds_the_same_tokens(peers, tiny_qwen_dir, shared_data, tmp_path):
    pytest.importorskip("llama_cpp", reason="pip install llama-cpp-python")
    report = run_peers(peers, tiny_qwen_dir, shared_data, tmp_path, "llama_cpp_f16,llama_cpp_q8_0")
    for name, least in (("llama_cpp_f16", 0.999), ("llama_cpp_q8_0", 0.99)):
        for role in ("documents", "queries"):
            assert report["sides"][name][role]["cosine_min"] > least, (name, role)


def test_onnx_runtime_embeds_the_same_tokens(peers, tiny_qwen_dir, shared_data, tmp_path):
    for module in ("onnxruntime", "onnx", "onnxscript"):
        pytest.importorskip(module, reason="ONNX Runtime side: pip install onnxruntime onnx onnxscript")
    report = run_peers(peers, tiny_qwen_dir, shared_data, tmp_path, "onnxruntime_fp32,onnxruntime_int8")
    for name, least in (("onnxruntime_fp32", 0.9999), ("onnxruntime_int8", 0.99)):
        for role in ("documents", "queries"):
            assert report["sides"][name][role]["cosine_min"] > least, (name, role)
