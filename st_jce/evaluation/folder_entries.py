"""Local evaluation folders as users name them, ``PATH:TASK_TYPE`` (``st-jce eval --data``, ``eval_data`` of
training): parsed here, without mteb, so that training can check and evaluate them with the ``train`` extra."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from st_jce.prefixes import TASK_TYPES, resolve_task_type


def parse_data(data: Iterable[str | tuple[str | os.PathLike, str]] | None,
               default_type: str | None = None) -> list[tuple[Path, str]]:
    """``(folder, task type)`` for each ``"PATH:TASK_TYPE"``, ``"PATH"`` or ``(path, task_type)`` entry.

    Examples
    --------
    >>> parse_data(["data/mbpp:nl2code", ("data/mlquestions", "techqa")])
    [(PosixPath('data/mbpp'), 'nl2code'), (PosixPath('data/mlquestions'), 'qa')]
    """
    parsed = []
    for entry in data or []:
        if isinstance(entry, (str, os.PathLike)):
            path, separator, kind = str(entry).rpartition(":")
            if not separator or Path(str(entry)).exists():  # no ":TASK_TYPE", or a path that contains ":"
                path, kind = str(entry), None
        else:
            path, kind = entry
        kind = kind or default_type
        if not kind:
            raise ValueError(f"--data {entry}: no task type. Write PATH:TASK_TYPE (task types: {list(TASK_TYPES)}), "
                             "e.g. data/mbpp:nl2code for a BEIR folder data/mbpp, or pass --task-type.")
        parsed.append((Path(path), resolve_task_type(kind)))
    return parsed
