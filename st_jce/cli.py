"""The ``st-jce`` command: ``st-jce train`` (the recipe, from a YAML config), ``st-jce eval`` (benchmark a
model through mteb) and ``st-jce push`` (upload one).

``st-jce train CONFIG [--key value ...]`` is ``python train_st.py CONFIG ...`` of a checkout (which calls
it): CONFIG is a YAML file or the name of a config shipped with st-jce
(:func:`st_jce.training.cli.resolve_config`). Each wing registers its own commands, `st-jce index` and
`st-jce search` too (:mod:`st_jce.search.cli`), and `st-jce serve`, an OpenAI-compatible embeddings server
(:mod:`st_jce.serve.cli`).

Examples
--------
::

    st-jce train cpu-demo --max_steps 20
    torchrun --nproc_per_node 4 -m st_jce.cli train jce-0.5b
    st-jce eval jinaai/jina-code-embeddings-0.5b --benchmark "MTEB(Code, v1)"
    st-jce eval ./final --data data/mbpp:nl2code data/mlquestions:qa
    st-jce eval ./all-MiniLM-L6-v2 --no-prefix --data data/mbpp:nl2code --output-dir eval-minilm
    st-jce push ./final my-org/my-code-embedder --private
    st-jce serve ./final --port 8000
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from st_jce.evaluation.cli import add_commands as add_eval_commands
from st_jce.extras import MissingExtraError
from st_jce.model.cli import add_commands as add_push_commands
from st_jce.search.cli import add_commands as add_search_commands
from st_jce.serve.cli import add_commands as add_serve_commands
from st_jce.training.cli import add_commands as add_train_commands

# Each wing registers its own commands (and imports what they need, with its extra, when one runs).
WINGS = (add_train_commands, add_eval_commands, add_push_commands, add_search_commands, add_serve_commands)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``st-jce`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="st-jce", description="Code embeddings from code-generation LLMs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_commands in WINGS:
        add_commands(commands)
    return parser


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


if __name__ == "__main__":
    sys.exit(main())
