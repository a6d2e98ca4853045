"""Where the shared-prefix KV cache stops paying: cached against plain forwards of batches without padding.

A batch without padding needs no attention mask in the plain forward, so ``sdpa`` runs torch's causal
kernel; the cached run always needs a mask (its queries sit after the prefix's keys). This script times
both on the same batches (13 prefix tokens, random text ids, one and four rows) at several text lengths
and dtypes and prints plain/cached time ratios: below 1, the cache is faster. It is what
``st_jce.inference.prefix_cache.UNPADDED_PLAIN_FROM`` is set from.

Usage (``pip install -e .`` and ``../shared`` for the Qwen2.5 tokenizer; ~6 minutes on 2 CPU cores)::

    python benchmarks/prefix_cache_length.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoModel
from workspace import real_qwen2

from st_jce.inference import PrefixKVCache
from st_jce.testing import QWEN2_SHAPES

PREFIX_LENGTH = 13  # "Candidate code snippet:\n" and the query prefixes are 5-13 tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="0.5b", choices=sorted(QWEN2_SHAPES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lengths", default="16,64,256,1024,2048", help="text tokens after the prefix")
    parser.add_argument("--rows", default="1,4")
    parser.add_argument("--dtypes", default="bfloat16,float32")
    parser.add_argument("--tokens", type=int, default=2048, help="tokens timed per measurement (at least one batch)")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        real_qwen2(folder, args.shape)  # the timing of a forward does not depend on the weights
        rows = []
        for dtype in args.dtypes.split(","):
            model = AutoModel.from_pretrained(folder, dtype=getattr(torch, dtype), attn_implementation="sdpa").eval()
            for batch_rows in map(int, args.rows.split(",")):
                for length in map(int, args.lengths.split(",")):
                    cached, plain = time_both(model, batch_rows, length, args.tokens)
                    rows.append({"dtype": dtype, "rows": batch_rows, "text_tokens": length, "cached_s": cached,
                                 "plain_s": plain, "plain_over_cached": cached / plain})
                    print(f"{dtype:9} rows {batch_rows}  text {length:5}: cached {1000 * cached:8.1f} ms  "
                          f"plain {1000 * plain:8.1f} ms  plain/cached {cached / plain:5.2f}", flush=True)
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2))
    return 0


def time_both(model, rows: int, length: int, tokens: int) -> tuple[float, float]:
    """Best seconds per forward of the cached and of the plain run (alternating, three rounds)."""
    input_ids = torch.randint(300, 100_000, (rows, PREFIX_LENGTH + length))
    input_ids[:, :PREFIX_LENGTH] = input_ids[0, :PREFIX_LENGTH].clone()
    attention_mask = torch.ones_like(input_ids)
    cache = PrefixKVCache(unpadded_plain_from=None)  # cached at every length
    runs = {"cached": lambda: cache(model, input_ids, attention_mask, PREFIX_LENGTH),
            "plain": lambda: model(input_ids=input_ids, attention_mask=attention_mask)}
    repeats = max(1, tokens // (rows * length))
    best = dict.fromkeys(runs, float("inf"))
    with torch.inference_mode():
        for run in runs.values():  # first-call costs and the prefix's own forward off the clock
            run()
        for _ in range(3):
            for name, run in runs.items():
                started = time.perf_counter()
                for _ in range(repeats):
                    run()
                best[name] = min(best[name], (time.perf_counter() - started) / repeats)
    return best["cached"], best["plain"]


if __name__ == "__main__":
    sys.exit(main())
