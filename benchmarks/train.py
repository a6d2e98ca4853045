"""A training step of the recipe: padded against unpadded (``st_jce.varlen``), plain loss against cached (GradCache).

One step = forward + backward of ``MatryoshkaLoss(MultipleNegativesRankingLoss)`` (plain) or
``MatryoshkaLoss(CachedMultipleNegativesRankingLoss)`` (cached, ``--mini-batch-size`` texts per pass) on ``batch``
(query, document) pairs, each column padded to its longest text as sentence-transformers' collator pads it, on a
random-weight Qwen2 of ``--shape`` with the real tokenizer (``workspace.real_qwen2``). Padded runs set
``unpad_inputs=False``, unpadded ones ``True`` (the default during training).

Texts (``--texts``): ``mined`` (default), (docstring, function) pairs mined from the installed standard library,
whose spread of lengths is what training pays padding for; ``fixed``, every text cut to ``--max-seq-length``
tokens (no padding at all: what memory does at the full length).

Every measurement runs in a fresh process so peak memory is its own: on a GPU ``torch.cuda.max_memory_allocated``
above what the model and inputs hold before the step, on CPU the peak resident set (``VmHWM``) above the resident
set before the step. Printed per row: best step time, real tokens per second (the batch's non-padding tokens per
step time), computed / real tokens (counted at every backbone forward, so GradCache's two passes count twice
on both sides), peak memory, and time and memory as ratios to the baseline measured in the same run: the padded
plain loss at the smallest batch.

Usage::

    python benchmarks/train.py                                 # tiny Qwen2, batches 32 and 512, mined pairs, CPU
    python benchmarks/train.py --batch-sizes 512 --losses plain --output train.json
    python benchmarks/train.py --shape 0.5b --device cuda --bf16 --activation-checkpointing \\
        --batch-sizes 512 --mini-batch-size 128 --max-seq-length 512            # the recipe's step on a GPU
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

WORDS = ("value", "index", "result", "items", "count", "total", "name", "data", "parse", "merge", "sort", "key")
UNPAD = {"padded": False, "unpadded": True}


def texts_of_length(tokenizer, count: int, tokens: int, seed: int) -> list[str]:
    """``count`` distinct texts that each tokenize to at least ``tokens`` tokens (truncation cuts them)."""
    generator = torch.Generator().manual_seed(seed)
    texts = []
    for index in range(count):
        picks = torch.randint(len(WORDS), (tokens,), generator=generator).tolist()
        texts.append(f"def f{index}(x):\n    return " + " + ".join(WORDS[pick] for pick in picks))
    assert all(len(tokenizer(text)["input_ids"]) >= tokens for text in texts[:4])
    return texts


def mined_texts(count: int, seed: int = 0) -> dict[str, list[str]]:
    """``count`` (docstring, function) pairs of the installed standard library, a fixed-seed sample, by column."""
    from st_jce.data.mining import mine_pairs

    pairs = mine_pairs("nl2code")
    rows = random.Random(seed).sample(range(len(pairs)), count)
    return {column: [pairs[row][column] for row in rows] for column in ("query", "document")}


def resident_kib(field: str) -> int:
    """``VmRSS`` / ``VmHWM`` of this process in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status: CPU memory is measured on Linux only.")


def count_tokens(model) -> dict[str, int]:
    """Counters of the tokens every backbone forward computes and of the real (non-padding) ones among them."""
    counts = {"computed": 0, "real": 0}

    def real(module, args):
        counts["real"] += int(args[0]["attention_mask"].sum())

    def computed(module, args, output):
        counts["computed"] += args[0].numel()

    model[0].register_forward_pre_hook(real)
    # sentence-transformers calls the backbone's forward itself, past its hooks; its token embedding sees every call.
    model[0].auto_model.get_input_embeddings().register_forward_hook(computed)
    return counts


def measure(model_dir: str, loss_kind: str, padding: str, batch: int, settings: argparse.Namespace) -> dict:
    """Best step time, peak extra memory and token counts of ``settings.steps`` forward+backward steps."""
    import st_jce
    from st_jce.training import LossArguments, build_loss

    device = settings.device
    model = st_jce.build_model(model_dir, dtype="float32", max_seq_length=settings.max_seq_length, device=device)
    model[0].unpad_inputs = UNPAD[padding]
    if settings.activation_checkpointing:
        model[0].auto_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    loss_fn = build_loss(model, LossArguments(cached=loss_kind == "cached", mini_batch_size=settings.mini_batch_size,
                                              gather_across_devices=False))
    prefixes = st_jce.PREFIXES["nl2code"]
    if settings.texts == "mined":  # mined once by the parent process: the first `batch` pairs of its sample
        columns = {role: texts[:batch] for role, texts in json.loads(Path(settings.texts_file).read_text()).items()}
    else:
        columns = {role: texts_of_length(model.tokenizer, batch, settings.max_seq_length, seed)
                   for seed, role in enumerate(("query", "document"))}
    features = [model.preprocess(columns[role], prompt=prefixes[role]) for role in ("query", "document")]
    features = [{key: value.to(device) if torch.is_tensor(value) else value for key, value in feature.items()}
                for feature in features]
    real_tokens = sum(int(feature["attention_mask"].sum()) for feature in features)
    counts = count_tokens(model)
    autocast = (torch.autocast(torch.device(device).type, dtype=torch.bfloat16) if settings.bf16
                else contextlib.nullcontext())
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set
        before = resident_kib("VmRSS") * 1024
    times = []
    for _ in range(settings.steps):
        counts.update(computed=0, real=0)
        start = time.perf_counter()
        with autocast:
            loss = loss_fn([dict(feature) for feature in features], None)
        loss.backward()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=False)  # keep the gradient buffers: every side holds the same ones
    peak = torch.cuda.max_memory_allocated() if cuda else resident_kib("VmHWM") * 1024
    seconds = min(times)
    return {"loss": loss_kind, "padding": padding, "batch": batch, "seconds_per_step": seconds,
            "real_tokens_per_second": real_tokens / seconds, "computed_per_real": counts["computed"] / counts["real"],
            "peak_mib": (peak - before) / 2**20, "real_tokens_per_step": real_tokens,
            "loss_value": float(loss.detach())}


def run_in_fresh_process(settings: argparse.Namespace, model_dir: str, loss_kind: str, padding: str, batch: int) -> dict:
    command = [sys.executable, __file__, "--measure", model_dir, loss_kind, padding, str(batch),
               *(f"--{key.replace('_', '-')}={value}" for key, value in vars(settings).items()
                 if key in ("max_seq_length", "mini_batch_size", "steps", "device", "texts", "texts_file")),
               *(f"--{flag.replace('_', '-')}" for flag in ("bf16", "activation_checkpointing") if getattr(settings, flag))]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{loss_kind} {padding} batch {batch} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 512])
    parser.add_argument("--losses", nargs="+", choices=("plain", "cached"), default=["plain", "cached"])
    parser.add_argument("--paddings", nargs="+", choices=tuple(UNPAD), default=list(UNPAD))
    parser.add_argument("--texts", choices=("mined", "fixed"), default="mined")
    parser.add_argument("--shape", default="tiny", help="random-weight Qwen2 shape: tiny, 0.5b, 1.5b")
    parser.add_argument("--max-seq-length", type=int, default=512)
    parser.add_argument("--mini-batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2, help="steps per measurement; the fastest counts")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast over float32 weights, as the trainer")
    parser.add_argument("--activation-checkpointing", action="store_true")
    parser.add_argument("--output", type=Path, help="also write the results as JSON")
    parser.add_argument("--texts-file", help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=4, metavar=("MODEL_DIR", "LOSS", "PADDING", "BATCH"), help=argparse.SUPPRESS)
    settings = parser.parse_args()

    if settings.measure:
        model_dir, loss_kind, padding, batch = settings.measure
        print(json.dumps(measure(model_dir, loss_kind, padding, int(batch), settings)))
        return

    from workspace import real_qwen2

    with tempfile.TemporaryDirectory() as work_dir:
        model_dir = str(real_qwen2(Path(work_dir) / "qwen2", settings.shape))
        batches = sorted(settings.batch_sizes)
        if settings.texts == "mined":
            settings.texts_file = str(Path(work_dir) / "texts.json")
            Path(settings.texts_file).write_text(json.dumps(mined_texts(batches[-1])))
        rows = [run_in_fresh_process(settings, model_dir, kind, padding, batch)
                for batch in batches for kind in settings.losses for padding in settings.paddings]
    baseline = rows[0]
    for row in rows:
        row["time_ratio"] = row["seconds_per_step"] / baseline["seconds_per_step"]
        row["memory_ratio"] = row["peak_mib"] / baseline["peak_mib"] if baseline["peak_mib"] > 0 else float("nan")

    print(f"Qwen2 {settings.shape} (random weights), {settings.device} ({platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads), {settings.texts} texts up to "
          f"{settings.max_seq_length} tokens, cached mini-batch {settings.mini_batch_size}, "
          f"{'bf16 autocast' if settings.bf16 else 'float32'}; baseline = {baseline['loss']} {baseline['padding']} "
          f"at batch {baseline['batch']}")
    print(f"{'loss':<7}{'padding':<10}{'batch':>6}{'s/step':>9}{'x base':>8}{'real tok/s':>12}{'computed/real':>15}"
          f"{'peak MiB':>11}{'x base':>8}{'loss':>9}")
    for row in rows:
        print(f"{row['loss']:<7}{row['padding']:<10}{row['batch']:>6}{row['seconds_per_step']:>9.3f}"
              f"{row['time_ratio']:>8.2f}{row['real_tokens_per_second']:>12,.0f}{row['computed_per_real']:>15.2f}"
              f"{row['peak_mib']:>11.1f}{row['memory_ratio']:>8.2f}{row['loss_value']:>9.4f}")
    for batch in batches:
        for kind in settings.losses:
            sides = {row["padding"]: row for row in rows if row["batch"] == batch and row["loss"] == kind}
            if len(sides) == 2:
                padded, unpadded = sides["padded"], sides["unpadded"]
                print(f"batch {batch}, {kind}: unpadded / padded real tokens/s "
                      f"{unpadded['real_tokens_per_second'] / padded['real_tokens_per_second']:.2f}x, peak memory "
                      f"{unpadded['peak_mib'] / padded['peak_mib']:.2f}x, loss difference "
                      f"{abs(unpadded['loss_value'] - padded['loss_value']):.1e}")
        plain, cached = ({row["padding"]: row for row in rows if row["batch"] == batch and row["loss"] == kind}
                         for kind in ("plain", "cached"))
        for padding in set(plain) & set(cached):
            print(f"batch {batch}, {padding}: cached / plain step time "
                  f"{cached[padding]['seconds_per_step'] / plain[padding]['seconds_per_step']:.2f}x, peak memory "
                  f"{cached[padding]['peak_mib'] / plain[padding]['peak_mib']:.2f}x")
    if settings.output:
        settings.output.write_text(json.dumps({"settings": vars(settings) | {"output": str(settings.output)},
                                               "rows": rows}, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
