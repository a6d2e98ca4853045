"""Helpers of the training tests: a small local pairs file, a BEIR folder made of such pairs, and the command
line of a short run on them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

VERBS = ["sort", "reverse", "count", "sum", "filter", "merge", "split", "join"]
NOUNS = ["list", "string", "dict", "tuple", "matrix", "tree"]


def write_pairs(path: Path, count: int = 48) -> Path:
    """``count`` distinct (query, document) pairs of tiny functions as JSON lines with columns q / code."""
    with path.open("w") as file:
        for index in range(count):
            verb, noun = VERBS[index % len(VERBS)], NOUNS[index // len(VERBS) % len(NOUNS)]
            query = f"{verb} the {noun} number {index}"
            code = f"def {verb}_{noun}_{index}(values):\n    return {verb}(values) + {index}"
            file.write(json.dumps({"q": query, "code": code}) + "\n")
    return path


def write_beir_folder(folder: Path, pairs_file: Path) -> Path:
    """A BEIR folder whose queries and code documents come from the pairs file (query i -> document i)."""
    folder.mkdir()
    rows = [json.loads(line) for line in pairs_file.read_text().splitlines()]
    with (folder / "queries.jsonl").open("w") as queries, (folder / "corpus.jsonl").open("w") as corpus:
        for index, row in enumerate(rows):
            queries.write(json.dumps({"_id": f"q{index}", "text": row["q"]}) + "\n")
            corpus.write(json.dumps({"_id": f"d{index}", "text": row["code"]}) + "\n")
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n"
                                      + "".join(f"q{index}\td{index}\t1\n" for index in range(len(rows))))
    return folder


def run_argv(backbone: str, pairs: Path, output_dir: Path, **overrides) -> list[str]:
    """The ``train_st.py`` command line (without a config file) of a short single-dataset run."""
    options = {
        "backbone": backbone, "max_seq_length": 32, "output_dir": str(output_dir), "max_steps": 4,
        "per_device_train_batch_size": 8, "learning_rate": 1e-3, "logging_steps": 1, "save_strategy": "no",
        "seed": 0, "report_to": "none", "dataloader_drop_last": True,
        "datasets": json.dumps([{"name": "pairs", "source": "local", "path": str(pairs), "task_type": "nl2code",
                                 "query_column": "q", "document_column": "code"}]),
    }
    options.update(overrides)
    argv = []
    for key, value in options.items():
        argv += [f"--{key}", *(map(str, value) if isinstance(value, list) else [str(value)])]
    return argv


def free_port() -> int:
    """A TCP port nobody listens on now (for a process group's rendezvous)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun(script: Path, arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``script arguments`` under ``torchrun --nproc_per_node 2``; fails the test unless it exits 0."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_port", str(free_port()), str(script), *arguments]
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result
