"""``st-jce eval``: a model through mteb (the ``eval`` extra, imported when the command runs), the paper's tasks with
their task types' prefixes and local BEIR folders, nDCG@10 at every Matryoshka dimension, and a report."""

from __future__ import annotations

import argparse
from pathlib import Path

from st_jce.extras import import_extra
from st_jce.prefixes import TASK_TYPES


def add_commands(commands) -> None:
    """Add ``eval`` to the subparsers ``commands`` of ``st-jce``."""
    evaluate = commands.add_parser(
        "eval", help="nDCG@10 on mteb tasks and local BEIR folders, at every Matryoshka dimension.",
        description="Evaluate MODEL through mteb. Every task gets its task type's query/document prefixes. Writes "
                    "mteb's result files, summary.json, report.md (against the paper's Table 2) and a plot of "
                    "nDCG@10 against Matryoshka dimension into --output-dir.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="st-jce model directory or Hub id, a portable (plain "
                          "sentence-transformers) model, or any other sentence-transformers model")
    evaluate.add_argument("--tasks", nargs="+", metavar="NAME", help="mteb task names, e.g. MBPPRetrieval CosQA")
    evaluate.add_argument("--benchmark", metavar="NAME", help="an mteb benchmark, e.g. 'MTEB(Code, v1)' or CoIR")
    evaluate.add_argument("--data", nargs="+", metavar="PATH:TASK_TYPE",
                          help="local BEIR folders (corpus.jsonl, queries.jsonl, qrels.tsv), evaluated offline")
    evaluate.add_argument("--task-type", choices=TASK_TYPES, help="task type for tasks the paper's mapping does "
                          "not know and for --data folders given without one")
    evaluate.add_argument("--matryoshka-dims", type=_dims, metavar="D1,D2,...",
                          help="dims at which to measure nDCG@10 (default: the model's recorded dims, else the full "
                               "dim and powers of two down to 64)")
    evaluate.add_argument("--output-dir", default="st-jce-eval",
                          help="where results and the report go (default: st-jce-eval)")
    evaluate.add_argument("--dtype", default="auto", help="compute dtype: auto (bf16 where the hardware runs it "
                          "natively, fp32 elsewhere; the default), float32, bfloat16, float16")
    evaluate.add_argument("--batch-size", type=int, default=8, help="encoding batch size (default: 8, as in the paper)")
    evaluate.add_argument("--max-seq-length", type=int, default=8192, help="token limit, capped by the model's "
                          "position embeddings (default: 8192, as in the paper)")
    evaluate.add_argument("--no-prefix", action="store_true", help="no st-jce prefixes: the model's own "
                          "query/document prompts or none (zero-shot baselines)")
    evaluate.set_defaults(handler=run_eval)



def run_eval(args: argparse.Namespace) -> None:
    """Handle ``st-jce eval``: evaluate, then print the report's location and table."""
    runner = import_extra("st_jce.evaluation.runner", extra="eval")
    runner.evaluate(args.model, tasks=args.tasks, benchmark=args.benchmark, data=args.data, task_type=args.task_type,
                    matryoshka_dims=args.matryoshka_dims, output_dir=args.output_dir, batch_size=args.batch_size,
                    max_seq_length=args.max_seq_length, use_prefixes=not args.no_prefix, dtype=args.dtype)
    report = Path(args.output_dir) / "report.md"
    print(report.read_text(encoding="utf-8"))
    print(f"Report: {report}\nmteb results: {Path(args.output_dir) / 'results'}")



def _dims(text: str) -> list[int]:
    try:
        dims = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers, "
                                         "e.g. 64,128,256") from None
    if not dims or min(dims) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give positive dims, e.g. 64,128,256")
    return dims
