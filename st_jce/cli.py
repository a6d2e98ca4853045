"""The ``st-jce`` command: ``st-jce train`` (the recipe, from a YAML config), ``st-jce eval`` (benchmark a
model through mteb) and ``st-jce push`` (upload one).

``st-jce train CONFIG [--key value ...]`` is ``python train_st.py CONFIG ...`` of a checkout (which calls
it): CONFIG is a YAML file or the name of a config shipped with st-jce (:func:`resolve_config`).

Examples
--------
::

    st-jce train cpu-demo --max_steps 20
    torchrun --nproc_per_node 4 -m st_jce.cli train jce-0.5b
    st-jce eval jinaai/jina-code-embeddings-0.5b --benchmark "MTEB(Code, v1)"
    st-jce eval ./final --data data/mbpp:nl2code data/mlquestions:qa
    st-jce eval ./all-MiniLM-L6-v2 --no-prefix --data data/mbpp:nl2code --output-dir eval-minilm
    st-jce push ./final my-org/my-code-embedder --private
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from st_jce.prefixes import TASK_TYPES
from st_jce.search.cli import add_commands as add_search_commands

CONFIG_DIR = Path(__file__).parent / "configs"  # shipped with the package; a checkout's configs/ links here


class MissingExtraError(ModuleNotFoundError):
    """A command needs a package that one of st-jce's extras installs; the message names the extra."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``st-jce`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="st-jce", description="Code embeddings from code-generation LLMs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # Every option of `st-jce train` belongs to the training parser (st_jce.training.parse_args), which also
    # answers --help; this one only names the command.
    train = commands.add_parser(
        "train", add_help=False, help="Train with the jina-code-embeddings recipe: st-jce train CONFIG [--key value "
        f"...]; CONFIG is a YAML file or a shipped config ({', '.join(config_names())}); --help lists every key.")
    train.set_defaults(handler=run_train)

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
    add_search_commands(commands)  # st-jce index / st-jce search (the `index` extra)
    return parser


def run_train(args: argparse.Namespace) -> None:
    """Handle ``st-jce train [CONFIG] [--key value ...]``: :func:`st_jce.training.train` on the parsed config."""
    training = import_extra("st_jce.training", extra="train")
    argv = list(args.train_argv)
    if argv and not argv[0].startswith("-"):
        argv[0] = str(resolve_config(argv[0]))
    training.train(*training.parse_args(argv))


def resolve_config(config: str) -> Path:
    """The YAML file that ``config`` names: an existing file as it is, else a config shipped with st-jce,
    named as in a checkout (``cpu-demo``, ``cpu-demo.yaml`` or ``configs/cpu-demo.yaml``).

    Raises
    ------
    FileNotFoundError
        If ``config`` is neither a file nor a shipped config's name.

    Examples
    --------
    >>> resolve_config("cpu-demo") == CONFIG_DIR / "cpu-demo.yaml"
    True
    """
    path = Path(config)
    if path.is_file():
        return path
    shipped = CONFIG_DIR / f"{path.name.removesuffix('.yaml')}.yaml"
    if path.parent in (Path("."), Path("configs")) and shipped.is_file():
        return shipped
    raise FileNotFoundError(f"Config {config!r} not found: pass a YAML file, or the name of a config shipped with "
                            f"st-jce: {', '.join(config_names())}.")


def config_names() -> list[str]:
    """The names of the training configs shipped with st-jce, e.g. ``cpu-demo``."""
    return sorted(path.stem for path in CONFIG_DIR.glob("*.yaml"))


def run_eval(args: argparse.Namespace) -> None:
    """Handle ``st-jce eval``: evaluate, then print the report's location and table."""
    runner = import_extra("st_jce.evaluation.runner", extra="eval")
    runner.evaluate(args.model, tasks=args.tasks, benchmark=args.benchmark, data=args.data, task_type=args.task_type,
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

    Errors in the user's input (bad folders, configs, unknown tasks or task types) print one line and exit 2;
    so does a package that the command's extra installs, naming the extra.
    """
    parser = build_parser()
    args, train_argv = parser.parse_known_args(argv)
    if train_argv and args.command != "train":
        parser.error(f"unrecognized arguments: {' '.join(train_argv)}")
    args.train_argv = train_argv
    try:
        args.handler(args)
    except (ValueError, FileNotFoundError, MissingExtraError) as error:
        print(f"st-jce {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


def import_extra(module: str, *, extra: str):
    """``importlib.import_module(module)``; a package missing for it raises :class:`MissingExtraError`
    naming ``extra``, the st-jce extra that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise MissingExtraError(f"{error}: it comes with st-jce's {extra!r} extra, pip install 'st-jce[{extra}]'",
                                name=error.name) from error


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
