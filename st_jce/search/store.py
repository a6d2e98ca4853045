"""The on-disk form of an index: Parquet shards of chunks and vectors, and the manifest that describes them.

::

    INDEX_DIR/
      manifest.json            settings (model, revision, task type, prefixes, dim, precision, chunker version),
                               the shards, the skipped files with reasons, statistics
      shards/shard-000000.parquet  one row per chunk: id, unit, unit_hash, path, name, kind, start_line,
                               end_line, text, embedding (a fixed-size list of float32 / int8 values)
      approximate-<id>.usearch the approximate index over all shards (when built; a new name each build)

Every file is written to a temporary name beside its destination and renamed into place, so a killed
indexer leaves whole shards and a whole manifest, never half of one: a rerun loses at most the shard that
was being encoded. A shard holds whole units (every chunk of a file), so "this file is indexed" is the
same as "one of its rows is in a shard", and the content hashes in the shards tell an incremental run
which files changed.

A search reads the shards the manifest lists (:meth:`ShardStore.read_consistently`), and an update never
changes a shard in place: a shard that loses rows is *retired* (an empty ``shard-N.parquet.retired`` beside
it takes it out of the indexer's view) and its remaining rows written as a new shard; retired shards and
replaced approximate indexes are deleted only once the new manifest is in place
(:meth:`ShardStore.delete_unlisted`). So a search in another process reads one whole index at every moment,
the old one or the new one, while ``st-jce index`` (or ``--watch``) updates it.

Examples
--------
>>> import tempfile
>>> import numpy as np
>>> from st_jce.search.chunking import Chunk
>>> store = ShardStore(tempfile.mkdtemp())
>>> chunk = Chunk("a.py:1-2", "a.py", "a.py", "f", "function", 1, 2, "def f():\\n    pass")
>>> store.append([chunk], {"a.py": "hash-a"}, np.ones((1, 4), dtype=np.float32)).name
'shard-000000.parquet'
>>> store.unit_hashes(), store.embeddings().shape
({'a.py': 'hash-a'}, (1, 4))
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from st_jce.atomic import atomic_path, atomic_write_text
from st_jce.search.chunking import Chunk

MANIFEST_FILE = "manifest.json"
SHARD_FOLDER = "shards"
FORMAT = "st-jce-index/1"
METADATA_COLUMNS = ("id", "unit", "unit_hash", "path", "name", "kind", "start_line", "end_line", "text")
T = TypeVar("T")
_SHARD_NAME = re.compile(r"shard-(\d{6})\.parquet")
RETIRED_SUFFIX = ".retired"  # marks a shard out of the indexer's view, kept while a live manifest lists it
READ_ATTEMPTS = 20  # reads of an index that an update keeps changing, before giving up


class ShardStore:
    """The shards and manifest of one index directory.

    Parameters
    ----------
    directory : str or PathLike
        The index directory; created if missing.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.shard_folder = self.directory / SHARD_FOLDER
        self.shard_folder.mkdir(parents=True, exist_ok=True)

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or ``None`` when the directory has none yet."""
        text = self._manifest_text()
        return json.loads(text) if text is not None else None

    def _manifest_text(self) -> str | None:
        try:
            return (self.directory / MANIFEST_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Replace the manifest atomically."""
        atomic_write_text(self.directory / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")

    def shard_files(self) -> list[Path]:
        """The indexer's shards, in the order they were written: every shard but the retired ones."""
        return [path for path in self._all_shard_files() if not _retired_mark(path).exists()]

    def _all_shard_files(self) -> list[Path]:
        return sorted(path for path in self.shard_folder.glob("shard-*.parquet") if _SHARD_NAME.fullmatch(path.name))

    def discard_leftovers(self) -> None:
        """Delete what a killed writer left: temporary files (never renamed into place, so never part of the
        index) and the shards and approximate indexes the manifest does not list. The indexer's first step;
        a search never deletes anything."""
        for leftover in self.shard_folder.glob(".shard-*"):
            leftover.unlink(missing_ok=True)
        self.delete_unlisted(self.manifest() or {})

    def delete_unlisted(self, manifest: Mapping[str, Any]) -> None:
        """Delete the retired shards and the approximate indexes that ``manifest``, the one in place, does not
        list: no search can still be reading them once it has read that manifest."""
        listed = {entry["file"] for entry in manifest.get("shards") or ()}
        for mark in self.shard_folder.glob(f"shard-*.parquet{RETIRED_SUFFIX}"):
            shard = mark.with_name(mark.name.removesuffix(RETIRED_SUFFIX))
            if f"{SHARD_FOLDER}/{shard.name}" not in listed:
                shard.unlink(missing_ok=True)
                mark.unlink()
        approximate = (manifest.get("approximate") or {}).get("file")
        for graph in self.directory.glob("approximate*"):
            if graph.name != approximate:
                graph.unlink()

    def row_counts(self) -> dict[str, int]:
        """Shard file name -> number of rows, from the Parquet footers."""
        return {file.name: pq.ParquetFile(file).metadata.num_rows for file in self.shard_files()}

    def unit_hashes(self) -> dict[str, str]:
        """Unit key -> content hash of every unit in the shards."""
        hashes: dict[str, str] = {}
        for file in self.shard_files():
            table = pq.read_table(file, columns=["unit", "unit_hash"])
            hashes.update(zip(table.column("unit").to_pylist(), table.column("unit_hash").to_pylist()))
        return hashes

    def keep_only(self, current: Mapping[str, str]) -> set[str]:
        """Drop the rows of units that are not in ``current`` (unit key -> content hash) with that hash:
        files deleted, changed or now skipped. Returns the keys of the units dropped.

        A shard with such rows is retired and the rows it keeps written as a new shard: retired first, so a kill
        in between loses rows (embedded again by the rerun) and never doubles them.
        """
        dropped: set[str] = set()
        for file in self.shard_files():
            table = pq.read_table(file)
            keep = [current.get(unit) == unit_hash for unit, unit_hash in
                    zip(table.column("unit").to_pylist(), table.column("unit_hash").to_pylist())]
            if all(keep):
                continue
            dropped.update(unit for unit, kept in zip(table.column("unit").to_pylist(), keep) if not kept)
            _retired_mark(file).touch()
            if any(keep):
                self._write_next(table.filter(pa.array(keep)))
        return dropped

    def append(self, chunks: Sequence[Chunk], unit_hashes: Mapping[str, str], embeddings: np.ndarray) -> Path:
        """Write ``chunks`` with their ``embeddings`` (one row each) as the next shard; return its path."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings: a shard needs one per chunk.")
        columns = {column: [getattr(chunk, column) for chunk in chunks]
                   for column in METADATA_COLUMNS if column != "unit_hash"}
        columns["unit_hash"] = [unit_hashes[chunk.unit] for chunk in chunks]
        return self._write_next(pa.table({**{column: columns[column] for column in METADATA_COLUMNS},
                                          "embedding": _vectors_column(embeddings)}))

    def _write_next(self, table: pa.Table) -> Path:
        # Numbered after every shard on disk, retired ones included: a shard a live manifest lists is never replaced.
        names = [_SHARD_NAME.fullmatch(file.name) for file in self._all_shard_files()]
        number = max((int(name.group(1)) for name in names if name), default=-1) + 1
        return _write_atomically(table, self.shard_folder / f"shard-{number:06d}.parquet")

    def read(self, columns: Sequence[str] = METADATA_COLUMNS, files: Sequence[Path] | None = None) -> pa.Table:
        """``columns`` of ``files`` (default: the indexer's shards), concatenated in order."""
        tables = [pq.read_table(file, columns=list(columns)) for file in (self.shard_files() if files is None else files)]
        if not tables:
            return pa.table({column: pa.array([], pa.string()) for column in columns})
        return pa.concat_tables(tables)

    def embeddings(self) -> np.ndarray:
        """All vectors of the indexer's shards as one ``(rows, width)`` array, in shard order, in their stored dtype."""
        return vectors_of(self.read(["embedding"]))

    def listed_files(self, manifest: Mapping[str, Any]) -> list[Path]:
        """The shards ``manifest`` lists (a hand-made manifest without a list: every shard of the indexer)."""
        if manifest.get("shards") is None:
            return self.shard_files()
        return [self.directory / entry["file"] for entry in manifest["shards"]]

    def read_consistently(self, read: Callable[[dict[str, Any] | None], T]) -> tuple[dict[str, Any] | None, T]:
        """The manifest in place and ``read(manifest)``, from one version of the index: read again when an
        update replaced the manifest meanwhile (a file it listed may be gone, or another under its name).

        Raises
        ------
        FileNotFoundError
            If a file the manifest lists is missing and the manifest did not change: the index is damaged.
        RuntimeError
            If updates kept replacing the manifest for :data:`READ_ATTEMPTS` reads.
        """
        for _ in range(READ_ATTEMPTS):
            text = self._manifest_text()
            try:
                result = read(json.loads(text) if text is not None else None)
            except FileNotFoundError:
                if self._manifest_text() == text:
                    raise
                continue
            if self._manifest_text() == text:
                return (json.loads(text) if text is not None else None), result
        raise RuntimeError(f"The index at {self.directory} changed {READ_ATTEMPTS} times while it was being read: "
                           "stop what rewrites it so often, or read it again.")

    def clear(self) -> None:
        """Delete every shard, the manifest and the approximate indexes (``--overwrite``)."""
        shutil.rmtree(self.shard_folder)
        self.shard_folder.mkdir()
        for name in (MANIFEST_FILE, *(path.name for path in self.directory.glob("approximate*"))):
            (self.directory / name).unlink(missing_ok=True)


def vectors_of(table: pa.Table) -> np.ndarray:
    """The ``embedding`` column of ``table`` as one ``(rows, width)`` array in its stored dtype."""
    column = table.column("embedding").combine_chunks()
    if len(column) == 0:
        return np.empty((0, 0), dtype=np.float32)
    return column.values.to_numpy().reshape(len(column), column.type.list_size)


def _retired_mark(shard: Path) -> Path:
    return shard.with_name(shard.name + RETIRED_SUFFIX)


def _vectors_column(embeddings: np.ndarray) -> pa.FixedSizeListArray:
    embeddings = np.ascontiguousarray(embeddings)
    return pa.FixedSizeListArray.from_arrays(pa.array(embeddings.reshape(-1)), embeddings.shape[1])


def _write_atomically(table: pa.Table, destination: Path) -> Path:
    with atomic_path(destination) as temporary:
        pq.write_table(table, temporary)
    return destination
