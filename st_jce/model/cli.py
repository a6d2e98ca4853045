"""``st-jce push``: a saved model to the Hugging Face Hub, portable or native, with its model card."""

from __future__ import annotations

import argparse


def add_commands(commands) -> None:
    """Add ``push`` to the subparsers ``commands`` of ``st-jce``."""
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


def run_push(args: argparse.Namespace) -> None:
    """Handle ``st-jce push`` with :func:`st_jce.model.push_model`."""
    from st_jce.model import push_model

    url = push_model(args.model_dir, args.repo_id, portable=args.portable, private=args.private,
                     revision=args.revision, token=args.token)
    if url:
        print(url)
