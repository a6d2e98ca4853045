"""The on-disk form of an index: Parquet shards of chunks and vectors, and the manifest that describes them.

::

    INDEX_DIR/
      manifest.json            settings (model, revision, task type, prefixes, dim, precision, chunker version),
                               the shards, the skipped files with reasons, statistics
      shards/shard-000000.parquet  one row per chunk: id, unit, unit_hash, path, name, kind, start_line,
                               end_line, text, embedding (a fixed-size list of float32 / int8 values)
      approximate.usearch      the approximate index over all shards (when built)

Every file is written to a temporary name beside its destination and renamed into place, so a killed
indexer leaves whole shards and a whole manifest, never half of one: a rerun loses at most the shard that
was being encoded. A shard holds whole units (every chunk of a file), so "this file is indexed" is the
same as "one of its rows is in a shard", and the content hashes in the shards tell an incremental run
which files changed.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from st_jce.atomic import atomic_path, atomic_write_text
from st_jce.search.chunking import Chunk

MANIFEST_FILE = "manifest.json"
SHARD_FOLDER = "shards"
FORMAT = "st-jce-index/1"
METADATA_COLUMNS = ("id", "unit", "unit_hash", "path", "name", "kind", "start_line", "end_line", "text")
_SHARD_NAME = re.compile(r"shard-(\d{6})\.parquet")


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
        # Temporary files of a writer that was killed: never renamed into place, so never part of the index.
        for leftover in self.shard_folder.glob(".shard-*"):
            leftover.unlink(missing_ok=True)

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or ``None`` when the directory has none yet."""
        file = self.directory / MANIFEST_FILE
        return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else None

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Replace the manifest atomically."""
        atomic_write_text(self.directory / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")

    def shard_files(self) -> list[Path]:
        """The shards, in the order they were written."""
        return sorted(path for path in self.shard_folder.glob("shard-*.parquet") if _SHARD_NAME.fullmatch(path.name))

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

        A shard is rewritten atomically without those rows, or deleted when none is left.
        """
        dropped: set[str] = set()
        for file in self.shard_files():
            table = pq.read_table(file)
            keep = [current.get(unit) == unit_hash for unit, unit_hash in
                    zip(table.column("unit").to_pylist(), table.column("unit_hash").to_pylist())]
            if all(keep):
                continue
            dropped.update(unit for unit, kept in zip(table.column("unit").to_pylist(), keep) if not kept)
            if any(keep):
                _write_atomically(table.filter(pa.array(keep)), file)
            else:
                file.unlink()
        return dropped

    def append(self, chunks: Sequence[Chunk], unit_hashes: Mapping[str, str], embeddings: np.ndarray) -> Path:
        """Write ``chunks`` with their ``embeddings`` (one row each) as the next shard; return its path."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings: a shard needs one per chunk.")
        names = [_SHARD_NAME.fullmatch(file.name) for file in self.shard_files()]
        number = max((int(name.group(1)) for name in names if name), default=-1) + 1
        columns = {column: [getattr(chunk, column) for chunk in chunks]
                   for column in METADATA_COLUMNS if column != "unit_hash"}
        columns["unit_hash"] = [unit_hashes[chunk.unit] for chunk in chunks]
        table = pa.table({**{column: columns[column] for column in METADATA_COLUMNS},
                          "embedding": _vectors_column(embeddings)})
        return _write_atomically(table, self.shard_folder / f"shard-{number:06d}.parquet")

    def read(self, columns: Sequence[str] = METADATA_COLUMNS) -> pa.Table:
        """``columns`` of every shard, concatenated in shard order."""
        tables = [pq.read_table(file, columns=list(columns)) for file in self.shard_files()]
        if not tables:
            return pa.table({column: pa.array([], pa.string()) for column in columns})
        return pa.concat_tables(tables)

    def embeddings(self) -> np.ndarray:
        """All vectors as one ``(rows, width)`` array, in shard order, in their stored dtype."""
        column = self.read(["embedding"]).column("embedding").combine_chunks()
        if len(column) == 0:
            return np.empty((0, 0), dtype=np.float32)
        return column.values.to_numpy().reshape(len(column), column.type.list_size)

    def clear(self) -> None:
        """Delete every shard, the manifest and the approximate index (``--overwrite``)."""
        shutil.rmtree(self.shard_folder)
        self.shard_folder.mkdir()
        for name in (MANIFEST_FILE, *(path.name for path in self.directory.glob("approximate.*"))):
            (self.directory / name).unlink(missing_ok=True)


def _vectors_column(embeddings: np.ndarray) -> pa.FixedSizeListArray:
    embeddings = np.ascontiguousarray(embeddings)
    return pa.FixedSizeListArray.from_arrays(pa.array(embeddings.reshape(-1)), embeddings.shape[1])


def _write_atomically(table: pa.Table, destination: Path) -> Path:
    with atomic_path(destination) as temporary:
        pq.write_table(table, temporary)
    return destination
