"""Per-step time and peak memory of the recipe's loss, plain vs cached (GradCache), at several batch sizes.

One training step = forward + backward of ``MatryoshkaLoss(MultipleNegativesRankingLoss)`` (plain) or
``MatryoshkaLoss(CachedMultipleNegativesRankingLoss)`` (cached, ``--mini-batch-size`` texts per pass) on
``batch`` (query, document) pairs of ``--max-seq-length`` tokens each, on the tiny random-weight Qwen2
with the real tokenizer (``st_jce.testing.random_qwen2``). Every measurement runs in a fresh process so
peak memory is its own: on a GPU ``torch.cuda.max_memory_allocated`` above what the model and inputs
hold before the step, on CPU the peak resident set (``VmHWM``) above the resident set before the step.

Printed: one row per (loss, batch) with its best step time, its peak memory, and both as ratios to the
baseline measured in the same run, the plain loss at the smallest batch.

Usage::

    python benchmarks/train.py                       # batches 32 128 512, length 128, tiny model
    python benchmarks/train.py --batch-sizes 32 512 --max-seq-length 512 --output train.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

WORDS = ("value", "index", "result", "items", "count", "total", "name", "data", "parse", "merge", "sort", "key")


def texts_of_length(tokenizer, count: int, tokens: int, seed: int) -> list[str]:
    """``count`` distinct texts that each tokenize to at least ``tokens`` tokens (truncation cuts them)."""
    generator = torch.Generator().manual_seed(seed)
    texts = []
    for index in range(count):
        picks = torch.randint(len(WORDS), (tokens,), generator=generator).tolist()
        texts.append(f"def f{index}(x):\n    return " + " + ".join(WORDS[pick] for pick in picks))
    assert all(len(tokenizer(text)["input_ids"]) >= tokens for text in texts[:4])
    return texts


def resident_kib(field: str) -> int:
    """``VmRSS`` / ``VmHWM`` of this process in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status: CPU memory is measured on Linux only.")


def measure(model_dir: str, loss_kind: str, batch: int, max_seq_length: int, mini_batch_size: int,
            steps: int, device: str) -> dict:
    """Best step time (s) and peak extra memory (MiB) of ``steps`` forward+backward steps, in this process."""
    import st_jce
    from st_jce.training import LossArguments, build_loss

    model = st_jce.build_model(model_dir, dtype="float32", max_seq_length=max_seq_length, device=device)
    loss_fn = build_loss(model, LossArguments(cached=loss_kind == "cached", mini_batch_size=mini_batch_size,
                                              gather_across_devices=False))
    tokenizer = model.tokenizer
    prefixes = st_jce.PREFIXES["nl2code"]
    features = [model.preprocess(texts_of_length(tokenizer, batch, max_seq_length, seed), prompt=prefixes[role])
                for seed, role in enumerate(("query", "document"))]
    features = [{key: value.to(device) if torch.is_tensor(value) else value for key, value in feature.items()}
                for feature in features]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set
        before = resident_kib("VmRSS") * 1024
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = loss_fn([dict(feature) for feature in features], None)
        loss.backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=False)  # keep the gradient buffers: both losses hold the same ones
    peak = torch.cuda.max_memory_allocated() if device.startswith("cuda") else resident_kib("VmHWM") * 1024
    tokens = sum(int(feature["attention_mask"].sum()) for feature in features)
    return {"loss": loss_kind, "batch": batch, "seconds_per_step": min(times), "peak_mib": (peak - before) / 2**20,
            "tokens_per_step": tokens, "loss_value": float(loss.detach())}


def run_in_fresh_process(arguments: argparse.Namespace, model_dir: str, loss_kind: str, batch: int) -> dict:
    command = [sys.executable, __file__, "--measure", model_dir, loss_kind, str(batch),
               "--max-seq-length", str(arguments.max_seq_length), "--mini-batch-size", str(arguments.mini_batch_size),
               "--steps", str(arguments.steps), "--device", arguments.device]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{loss_kind} batch {batch} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--mini-batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2, help="steps per measurement; the fastest counts")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--output", type=Path, help="also write the results as JSON")
    parser.add_argument("--measure", nargs=3, metavar=("MODEL_DIR", "LOSS", "BATCH"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.measure:
        model_dir, loss_kind, batch = arguments.measure
        print(json.dumps(measure(model_dir, loss_kind, int(batch), arguments.max_seq_length,
                                 arguments.mini_batch_size, arguments.steps, arguments.device)))
        return

    from st_jce.testing import random_qwen2

    with tempfile.TemporaryDirectory() as work_dir:
        model_dir = str(random_qwen2(Path(work_dir) / "tiny-qwen2", "tiny"))
        batches = sorted(arguments.batch_sizes)
        rows = [run_in_fresh_process(arguments, model_dir, kind, batch) for batch in batches for kind in ("plain", "cached")]
    baseline = next(row for row in rows if row["loss"] == "plain" and row["batch"] == batches[0])
    for row in rows:
        row["time_ratio"] = row["seconds_per_step"] / baseline["seconds_per_step"]
        row["memory_ratio"] = row["peak_mib"] / baseline["peak_mib"]

    print(f"tiny Qwen2, {arguments.device} ({platform.processor() or platform.machine()}, torch "
          f"{torch.get_num_threads()} threads), length {arguments.max_seq_length}, cached mini-batch "
          f"{arguments.mini_batch_size}; baseline = plain loss at batch {batches[0]}")
    print(f"{'loss':<7}{'batch':>6}{'s/step':>10}{'x base':>8}{'peak MiB':>11}{'x base':>8}{'loss':>9}")
    for row in rows:
        print(f"{row['loss']:<7}{row['batch']:>6}{row['seconds_per_step']:>10.3f}{row['time_ratio']:>8.2f}"
              f"{row['peak_mib']:>11.1f}{row['memory_ratio']:>8.2f}{row['loss_value']:>9.4f}")
    for batch in batches:
        plain, cached = (next(r for r in rows if r["loss"] == kind and r["batch"] == batch) for kind in ("plain", "cached"))
        print(f"batch {batch}: cached / plain  time {cached['seconds_per_step'] / plain['seconds_per_step']:.2f}x, "
              f"peak memory {cached['peak_mib'] / plain['peak_mib']:.2f}x, loss difference "
              f"{abs(cached['loss_value'] - plain['loss_value']):.1e}")
    if arguments.output:
        arguments.output.write_text(json.dumps({"settings": vars(arguments) | {"output": str(arguments.output)},
                                                "rows": rows}, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
