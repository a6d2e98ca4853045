"""``st-jce train``: the recipe from a YAML config, or one of the configs shipped with st-jce.

``python train_st.py CONFIG ...`` of a checkout runs the same command. Every option belongs to the training parser
(:func:`st_jce.training.parse_args`, the ``train`` extra), which also answers ``--help``; this module only names
the command, so ``st-jce`` starts without the extra.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from st_jce.extras import import_extra

CONFIG_DIR = Path(__file__).parents[1] / "configs"  # shipped with the package; a checkout's configs/ links here


def add_commands(commands) -> None:
    """Add ``train`` to the subparsers ``commands`` of ``st-jce``."""
    train = commands.add_parser(
        "train", add_help=False, help="Train with the jina-code-embeddings recipe: st-jce train CONFIG [--key value "
        f"...]; CONFIG is a YAML file or a shipped config ({', '.join(config_names())}); --help lists every key.")
    train.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> None:
    """Handle ``st-jce train [CONFIG] [--key value ...]``: :func:`st_jce.training.train` on the parsed config."""
    arguments = import_extra("st_jce.training.arguments", extra="train")
    run = import_extra("st_jce.training.run", extra="train")
    argv = list(args.train_argv)
    if argv and not argv[0].startswith("-"):
        argv[0] = str(resolve_config(argv[0]))
    run.train(*arguments.parse_args(argv))


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


