"""``st-jce index --watch``: build an index, then keep it following the source as files change.

The watcher (``watchfiles``, the ``serve`` extra) starts before the first build, so nothing changed while it
runs is missed. Changes are gathered until the source has been quiet for ``debounce_ms`` and then indexed at
once by :func:`~st_jce.search.build.build_index` itself: its incremental run re-embeds only the files whose
content hash changed, drops deleted ones, and reads the tree with the same ``.gitignore`` and skip rules as the
first build. So the index stays in the same resumable shard format, and a search in another process reads
the previous index until the update's manifest replaces it (:mod:`~st_jce.search.store`). Changes that cannot
matter are not waited for: the index directory's own writes, files of other extensions, and what
``watchfiles`` ignores by default (``.git``, ``__pycache__``, ``node_modules``, editor swap files).

The model is loaded once, for the first build and every update. An update that fails (a source folder gone,
every file ignored) is reported and the watch goes on; Ctrl-C, or ``stop_event``, ends it between two
updates or in the middle of one, which leaves the previous index searchable and the shards written so far
for the next run.

Examples
--------
::

    st-jce index . --model ./my-code-embedder --out repo-index --watch
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from st_jce.extras import import_extra
from st_jce.search.settings import WATCH_DEBOUNCE_MS

# While gathering, an update is made at the latest this many quiet periods after the first change, so a tree
# that never stops changing is still followed.
MAX_GATHER_PERIODS = 20
IDLE_WAKE_MS = 500  # the watcher's first wait (before the first build) and its wake-ups while the source is quiet


def watch_index(source: str | os.PathLike, out: str | os.PathLike, model, *, model_name: str | None = None,
                debounce_ms: int = WATCH_DEBOUNCE_MS, stop_event=None,
                on_update: Callable[[dict[str, Any]], None] | None = None,
                on_error: Callable[[Exception], None] | None = None, **build_options) -> dict[str, Any] | None:
    """Build the index of ``source`` at ``out``, then update it after every change until stopped; returns the
    manifest of the last update (``None`` when stopped before the first build).

    Parameters
    ----------
    source, out, model, model_name
        As for :func:`~st_jce.search.build.build_index`; a ``model`` given as a directory or Hub id is loaded
        once (except for ``engine="ray"``, whose actors load it for each update).
    debounce_ms : int
        How long the source must be quiet before the changes gathered are indexed.
    stop_event : threading.Event, optional
        Set it to stop watching (from another thread); Ctrl-C stops the watch as well.
    on_update : callable, optional
        Called with the manifest after the first build and after every update.
    on_error : callable, optional
        Called with the error of an update that failed (default: printed to stderr); the first build's
        errors are raised.
    **build_options
        The other keywords of :func:`~st_jce.search.build.build_index` (``extensions``, ``dtype``, ...).
    """
    watchfiles = import_extra("watchfiles", extra="serve")
    from st_jce.search.build import build_index

    if debounce_ms < 1:
        raise ValueError(f"debounce_ms={debounce_ms}: wait at least 1 ms for the source to be quiet.")
    if isinstance(model, (str, os.PathLike)) and build_options.get("engine", "local") != "ray":
        from st_jce.model.loading import load_model

        model_name = model_name or str(model)
        model = load_model(str(model), dtype=build_options.get("dtype", "auto"))
    changes = watchfiles.watch(
        source, watch_filter=_relevant_changes(watchfiles, source, out, build_options.get("extensions")),
        step=debounce_ms, debounce=debounce_ms * MAX_GATHER_PERIODS, stop_event=stop_event,
        rust_timeout=IDLE_WAKE_MS, yield_on_timeout=True, raise_interrupt=False)
    report = on_update or (lambda manifest: None)
    with contextlib.closing(changes):
        # Starts the watcher, so that what changes during the first build is gathered for the first update.
        if next(changes, None) is None:
            return None  # stopped (Ctrl-C, stop_event) before the first build
        manifest = build_index(source, out, model, model_name=model_name, **build_options)
        report(manifest)
        with contextlib.suppress(KeyboardInterrupt):  # mid-update: the previous index stays, the new shards resumable
            for changed in changes:  # empty every IDLE_WAKE_MS while quiet; ends on Ctrl-C or stop_event
                if not changed:
                    continue
                try:
                    manifest = build_index(source, out, model, model_name=model_name, **build_options)
                except (ValueError, OSError) as error:
                    (on_error or _print_error)(error)
                    continue
                report(manifest)
    return manifest


def _relevant_changes(watchfiles, source: str | os.PathLike, out: str | os.PathLike, extensions: Iterable[str] | None):
    """A ``watchfiles`` filter keeping the changes that can change the index: in a source tree, files with an
    indexed extension, ``.gitignore`` files and folders (a folder moved or deleted is reported alone); for a
    corpus, its file. Never the index directory's own writes."""
    from st_jce.search.sources import CODE_EXTENSIONS

    source, out = Path(source).resolve(), Path(out).resolve()
    default = watchfiles.DefaultFilter()
    wanted = tuple(f".{extension.lower().lstrip('.')}" for extension in (extensions or CODE_EXTENSIONS))
    corpus = source if source.is_file() else source / "corpus.jsonl" if (source / "corpus.jsonl").is_file() else None

    def relevant(change, path: str) -> bool:
        changed = Path(path).resolve()
        if changed == out or out in changed.parents or not default(change, path):
            return False
        if corpus is not None:
            return changed == corpus
        return changed.name.lower().endswith(wanted) or changed.name == ".gitignore" or not changed.suffix

    return relevant


def _print_error(error: Exception) -> None:
    print(f"st-jce index --watch: update failed, the index is unchanged: {error}", file=sys.stderr)
