"""Writes that are never seen half done: a file or a whole directory is written beside its destination and renamed
into place once complete, so a crash, a full disk or a kill leaves either the previous version or the new one.

Model saves (:mod:`st_jce.model`), model cards, index shards and manifests (:mod:`st_jce.search`) all write this way.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_directory(root / "model") as staging:
...     _ = (staging / "config.json").write_text("{}")
>>> _ = atomic_write_text(root / "model" / "README.md", "# card")
>>> sorted(p.name for p in root.iterdir()), sorted(p.name for p in (root / "model").iterdir())
(['model'], ['README.md', 'config.json'])
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``destination`` to write a file to; it is renamed to ``destination`` when
    the block ends, and deleted if the block raises, so ``destination`` is never half written.

    Examples
    --------
    >>> import pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "data.bin"
    >>> with atomic_path(target) as temporary:
    ...     _ = pathlib.Path(temporary).write_bytes(b"whole")
    >>> target.read_bytes()
    b'whole'
    """
    destination = Path(destination)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(descriptor)
    try:
        yield temporary
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`; returns ``path``."""
    with atomic_path(path) as temporary:
        Path(temporary).write_text(text, encoding="utf-8")
    return Path(path)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, *, keep_unwritten: bool = False) -> Iterator[Path]:
    """Write a directory atomically: yield an empty hidden sibling of ``path``, then swap it into place.

    On success the temporary directory is renamed to ``path``; a previous ``path`` is first renamed
    aside and deleted only once the new one is in place, so at every instant ``path`` is either
    the complete old directory or the complete new one. On any exception the temporary directory
    is deleted and ``path`` is left exactly as it was.

    Parameters
    ----------
    path : str or Path
        The directory to create or replace. Its parent is created if needed.
    keep_unwritten : bool
        Keep the entries of a previous ``path`` that the block does not write (e.g. the trainer's
        ``checkpoint-*`` folders beside a model saved into a run's output folder): they are hard-linked into
        the new directory before the swap, so nothing is copied and, should the swap fail, the originals are
        untouched. Otherwise everything in the old directory is replaced.

    Yields
    ------
    Path
        The temporary directory to write into (same parent, so the final rename is atomic).

    Raises
    ------
    NotADirectoryError
        If ``path`` exists and is a file.

    Examples
    --------
    >>> import pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> try:
    ...     with atomic_directory(target) as tmp:
    ...         _ = (tmp / "half.bin").write_bytes(b"01")
    ...         raise OSError("disk full")
    ... except OSError:
    ...     pass
    >>> target.exists(), list(target.parent.iterdir())
    (False, [])
    """
    target = Path(path).absolute()
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"Cannot write a directory to {str(target)!r}: it is a file. Choose a directory path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.saving-", dir=target.parent))
    try:
        yield staging
        if keep_unwritten:
            _link_entries_not_written(target, staging)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _link_entries_not_written(previous: Path, staging: Path) -> None:
    """Hard-link the entries of ``previous`` that ``staging`` lacks into it."""
    if not previous.is_dir():
        return
    for entry in previous.iterdir():
        destination = staging / entry.name
        if destination.exists():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, destination, symlinks=True, copy_function=os.link)
        else:
            os.link(entry, destination, follow_symlinks=False)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``; a previous ``target`` goes aside first and is deleted last."""
    if not target.exists():
        os.replace(staging, target)
        return
    retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:12]}")
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)
