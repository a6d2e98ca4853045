"""The ``st-jce`` command: ``st-jce eval`` (benchmark a model through mteb) and ``st-jce push`` (upload one).

Examples
--------
::

    st-jce eval jinaai/jina-code-embeddings-0.5b --benchmark "MTEB(Code, v1)"
    st-jce eval ./final --data ../shared/data/mbpp:nl2code ../shared/data/mlquestions:qa
    st-jce eval ./all-MiniLM-L6-v2 --no-prefix --data ../shared/data/mbpp:nl2code --output-dir eval-minilm
    st-jce push ./final my-org/my-code-embedder --private
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from st_jce.prefixes import TASK_TYPES


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``st-jce`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="st-jce", description="Code embeddings from code-generation LLMs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    push = commands.add_parser("push", help="Upload a saved model to the Hugging Face Hub.")
    push.add_argument("model_dir", metavar="MODEL_DIR", help="directory of a saved st-jce model")
    push.add_argument("repo_id", metavar="REPO_ID", help="Hub repository, e.g. my-org/my-code-embedder")
    layout = push.add_mutually_exclusive_group()
    layout.add_argument("--portable", dest="portable", action="store_true", default=True,
                        help="plain sentence-transformers modules: loads without st-jce (the default)")
    layout.add_argument("--native", dest="portable", action="store_false",
                        help="st-jce's own modules: needs `pip install st-jce` and st_jce.load")
    push.add_argument("--private", action="store_true", help="create the repository as private")
    push.add_argument("--revision", help="branch to push to")
    push.add_argument("--token", help="Hub token (default: the one huggingface_hub finds)")
    push.set_defaults(handler=run_push)
    return parser


def run_eval(args: argparse.Namespace) -> None:
    """Handle ``st-jce eval``: evaluate, then print the report's location and table."""
    from st_jce.evaluation import evaluate

    evaluate(args.model, tasks=args.tasks, benchmark=args.benchmark, data=args.data, task_type=args.task_type,
             matryoshka_dims=args.matryoshka_dims, output_dir=args.output_dir, batch_size=args.batch_size,
             max_seq_length=args.max_seq_length, use_prefixes=not args.no_prefix, dtype=args.dtype)
    report = Path(args.output_dir) / "report.md"
    print(report.read_text(encoding="utf-8"))
    print(f"Report: {report}\nmteb results: {Path(args.output_dir) / 'results'}")


def run_push(args: argparse.Namespace) -> None:
    """Handle ``st-jce push`` with :func:`st_jce.publish.push_model`."""
    from st_jce.publish import push_model

    url = push_model(args.model_dir, args.repo_id, portable=args.portable, private=args.private,
                     revision=args.revision, token=args.token)
    if url:
        print(url)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``st-jce`` console script; returns the exit status.

    Errors in the user's input (bad folders, unknown tasks or task types) print one line and exit 2.
    """
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"st-jce {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


def _dims(text: str) -> list[int]:
    try:
        dims = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers, "
                                         "e.g. 64,128,256") from None
    if not dims or min(dims) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give positive dims, e.g. 64,128,256")
    return dims


if __name__ == "__main__":
    sys.exit(main())
