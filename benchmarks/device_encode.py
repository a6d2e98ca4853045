"""Encoding on one device: st-jce against the plain sentence-transformers pipeline and the bare backbone forward.

Three sides, every one in the same run, alternating, each on the same texts and weights (a random-weight Qwen2 of
``--shape`` with the real tokenizer, at st-jce's default dtype for the device: bf16 on a GPU):

- ``st_jce``: ``encode_query`` / ``encode_document`` as a user calls them (on an accelerator, batches run
  unpadded: ``st_jce.varlen``);
- ``plain``: ``st_jce.export_portable`` of the same model loaded with a plain ``SentenceTransformer`` and called
  with the same prompt, the pipeline users run instead;
- ``bare``: the backbone alone (``AutoModel``, no tokenizer, no pooling) on the same token ids, sorted by length
  and cut into batches of st-jce's token budget, so it computes little padding: the device's ceiling.

Cases: ``queries`` (MBPP queries), ``documents`` (MBPP code), ``long`` (standard-library source cut at 2,048
tokens). Printed per case: tokens/s of each side, st-jce / plain, st-jce / bare, and the smallest cosine between
st-jce's and plain's vectors.

Usage::

    python benchmarks/device_encode.py --device cuda --output encode-gpu.json     # 0.5B shape, 512 texts per case
    python benchmarks/device_encode.py --smoke                                    # tiny shape on the CPU, seconds
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from encode import read_mbpp, token_count
from scaling import stdlib_tokens
from sentence_transformers import SentenceTransformer
from workspace import real_qwen2

import st_jce
from st_jce.inference import default_max_batch_tokens, token_budget_batches

SMOKE = {"shape": "tiny", "device": "cpu", "n": 16, "long_n": 2, "repeats": 1}
CASES = {"queries": ("query", 512), "documents": ("document", 512), "long": ("document", 2048)}


def case_texts(tokenizer, n: int, long_n: int, data: Path | None) -> dict[str, list[str]]:
    beir = read_mbpp(data)
    if beir is None:
        raise SystemExit("MBPP data is needed: pass --data or set ST_JCE_SHARED.")
    ids = stdlib_tokens(tokenizer, long_n * 2048)
    # Decoded and encoded again a cut can come back a few tokens longer; truncation takes them off.
    long = [tokenizer.decode(ids[start * 2048:(start + 1) * 2048]) for start in range(long_n)]
    documents = [document["text"] for document in beir.corpus.values()]
    return {"queries": list(beir.queries.values())[:n], "documents": documents[:n], "long": long}


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bare_forward(model, texts: list[str], prefix: str, max_length: int, device: str):
    """The backbone over the texts' token ids in length-sorted token-budget batches, already on the device."""
    tokenizer = model.tokenizer
    ids = [encoded[:max_length] for encoded in tokenizer([prefix + text for text in texts], verbose=False)["input_ids"]]
    batches = []
    for batch in token_budget_batches([len(row) for row in ids], default_max_batch_tokens(device)):
        encoded = tokenizer.pad({"input_ids": [ids[index] for index in batch]}, return_tensors="pt")
        batches.append({key: value.to(device) for key, value in encoded.items()})
    backbone = model[0].auto_model

    def run() -> None:
        with torch.inference_mode():
            for batch in batches:
                backbone(**batch)
        synchronize(device)
    return run


def best_seconds(run, repeats: int, device: str) -> tuple[float, object]:
    best, output = math.inf, None
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        output = run()
        synchronize(device)
        best = min(best, time.perf_counter() - started)
    return best, output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="0.5b")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--n", type=int, default=512, help="MBPP queries and documents per case")
    parser.add_argument("--long-n", type=int, default=64, help="texts of 2,048 tokens in the long case")
    parser.add_argument("--batch-size", type=int, default=64, help="encode batch_size of both pipelines")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="MBPP folder (default: ../shared/data/mbpp)")
    parser.add_argument("--smoke", action="store_true", help=f"a quick check of the script: {SMOKE}")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)

    work = Path(tempfile.mkdtemp())
    model = st_jce.build_model(str(real_qwen2(work / "backbone", args.shape)), device=args.device,
                               max_seq_length=2048)
    dtype = model[0].auto_model.dtype
    portable = st_jce.export_portable(model, work / "portable")
    plain = SentenceTransformer(str(portable), device=args.device, model_kwargs={"dtype": dtype})
    texts = case_texts(model.tokenizer, args.n, args.long_n, args.data)
    report = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device,
              "torch": torch.__version__, "dtype": str(dtype), "shape": args.shape, "cases": {}}
    for case, (role, max_length) in CASES.items():
        model.max_seq_length = plain.max_seq_length = max_length
        prefix = model.prompts[f"nl2code_{role}"]
        encode = model.encode_query if role == "query" else model.encode_document
        sides = {
            "st_jce": partial(encode, texts[case], task_type="nl2code", batch_size=args.batch_size),
            "plain": partial(plain.encode, texts[case], prompt=prefix, batch_size=args.batch_size,
                             normalize_embeddings=True),
            "bare": bare_forward(model, texts[case], prefix, max_length, args.device),
        }
        for run in sides.values():  # warm-up: kernels, allocator, caches
            run()
        seconds, outputs = {side: math.inf for side in sides}, {}
        for repeat in range(args.repeats):
            for side in list(sides) if repeat % 2 == 0 else list(sides)[::-1]:
                elapsed, outputs[side] = best_seconds(sides[side], 1, args.device)
                seconds[side] = min(seconds[side], elapsed)
        tokens = token_count(model.tokenizer, prefix, texts[case], max_length)
        fast, slow = (np.asarray(outputs[side], dtype=np.float32) for side in ("st_jce", "plain"))
        row = {"texts": len(texts[case]), "tokens": tokens,
               **{f"{side}_tok_s": tokens / seconds[side] for side in sides},
               "st_jce_vs_plain": seconds["plain"] / seconds["st_jce"],
               "st_jce_vs_bare": seconds["bare"] / seconds["st_jce"],
               "cosine_min": float(np.min(np.sum(fast * slow, axis=1)))}
        report["cases"][case] = row
        print(f"{case:<10} st-jce {row['st_jce_tok_s']:>10,.0f} tok/s  plain {row['plain_tok_s']:>10,.0f}  bare "
              f"{row['bare_tok_s']:>10,.0f}  st-jce/plain {row['st_jce_vs_plain']:.2f}x  st-jce/bare "
              f"{row['st_jce_vs_bare']:.2f}  cosine min {row['cosine_min']:.5f}", flush=True)
    if args.device.startswith("cuda"):
        report["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    if args.output:
        args.output.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
