"""``build_index``: the job behind ``st-jce index``, resumable and incremental.

1. read the source (:mod:`~st_jce.search.sources`): units with content hashes, and the files skipped;
2. check the directory's manifest: an index built with other settings (model, prefixes, dim, precision,
   chunker, source) is refused unless ``overwrite``; an interrupted or older run with the same ones is
   continued;
3. drop from the shards the units that changed or disappeared (:meth:`ShardStore.keep_only`); the units still
   in them are done;
4. chunk the other units (:mod:`~st_jce.search.chunking`, split to the model's token budget) and plan
   shards of about ``shard_size`` chunks, whole units each, in path order;
5. embed the shards with the engine (:mod:`~st_jce.search.engines`) and write each one as it comes, so a
   kill loses at most the shard being embedded and a rerun plans exactly the shards that are missing;
6. build the approximate index over all shards (:mod:`~st_jce.search.approximate`) and mark the manifest
   complete.

An update of a complete index leaves its manifest in place until step 6 writes the new one, and deletes the
shards it replaced only after that (:mod:`~st_jce.search.store`): searches meanwhile read the previous index.

Examples
--------
>>> import tempfile, pathlib, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> tree = pathlib.Path(tempfile.mkdtemp())
>>> _ = (tree / "util.py").write_text("def add(a, b):\\n    return a + b\\n")
>>> out = pathlib.Path(tempfile.mkdtemp()) / "index"
>>> build_index(tree, out, model, show_progress=False)["stats"]["chunks"]
1
>>> build_index(tree, out, model, show_progress=False)["stats"]["embedded_units"]  # nothing changed
0
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from st_jce._version import __version__
from st_jce.search.approximate import APPROXIMATE_FILE, build_approximate
from st_jce.search.chunking import CHUNKER_VERSION, Chunk, chunk_source
from st_jce.search.engines import LocalEngine, MultiProcessEngine, RayEngine
from st_jce.search.settings import (
    APPROXIMATE_MIN_ROWS,
    APPROXIMATE_MODES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_SHARD_SIZE,
    ENGINES,
    MAX_FILE_BYTES,
)
from st_jce.search.signature import PROBE_MIN_COSINE, model_signature, probe_agreement
from st_jce.search.sources import Source, Unit, read_source
from st_jce.search.store import FORMAT, SHARD_FOLDER, ShardStore
from st_jce.search.vectors import calibration_ranges, check_precision, quantize


class IndexSettingsError(ValueError):
    """The index directory holds an index built with other settings; the message names them and the fix."""


def build_index(source: str | os.PathLike, out: str | os.PathLike, model, *, model_name: str | None = None,
                revision: str | None = None, task_type: str = "nl2code", dim: int | None = None,
                precision: str = "float32", engine: str = "local", devices: Sequence[str] | None = None,
                workers: int | None = None, ray_address: str | None = None, shard_size: int = DEFAULT_SHARD_SIZE,
                batch_size: int = DEFAULT_BATCH_SIZE, extensions: Iterable[str] | None = None,
                max_file_bytes: int = MAX_FILE_BYTES,
                approximate: str = "auto", overwrite: bool = False, show_progress: bool = True,
                dtype: str = "auto") -> dict[str, Any]:
    """Embed a source tree or corpus file into the index directory ``out``; returns its manifest.

    Parameters
    ----------
    source : str or PathLike
        A source folder (a repository checkout), a corpus file (``.jsonl`` / ``.parquet``) or a BEIR folder.
    out : str or PathLike
        The index directory; an existing one with the same settings is continued (resume) or updated
        (only changed files are embedded again).
    model : SentenceTransformer or str
        The model, or its directory / Hub id (loaded with :func:`st_jce.model.loading.load_model`).
    model_name, revision : str, optional
        How the manifest names the model (default: the path or id ``model`` was given as, or the model's
        own name) and its revision.
    task_type : str
        Whose document prefix the chunks get (and whose query prefix searches will apply).
    dim : int, optional
        Matryoshka truncation of the vectors (default: the model's full size).
    precision : {"float32", "int8", "binary"}
        How vectors are stored (sentence-transformers' ``quantize_embeddings``).
    engine : {"local", "multiprocess", "ray"}
        Where the embedding runs (:mod:`st_jce.search.engines`); ``devices`` for ``multiprocess``,
        ``workers`` and ``ray_address`` for ``ray`` (which needs ``model`` as a directory or Hub id).
    shard_size : int
        About this many chunks per shard (whole files each).
    batch_size : int
        Rows per forward at most (st-jce's token budget cuts batches as well).
    extensions, max_file_bytes
        Which files of a tree are code, and the size above which a file is skipped.
    approximate : {"auto", "always", "never"}
        Build the approximate index: ``auto`` from :data:`APPROXIMATE_MIN_ROWS` chunks on.
    overwrite : bool
        Delete an index with other settings at ``out`` and build anew.
    show_progress : bool
        A progress bar with texts per second.
    dtype : str
        Compute dtype of a ``model`` given as a directory or Hub id (:func:`st_jce.dtypes.resolve_dtype`;
        ``"auto"``: bf16 where the hardware runs it natively, whatever dtype the weights were saved in); a
        loaded model keeps its own.

    Raises
    ------
    IndexSettingsError
        If ``out`` holds an index with other settings and ``overwrite`` is off.
    ValueError
        For an unknown engine, precision or task type, or a ``dim`` larger than the model's.
    """
    from st_jce.model.loading import load_model

    check_precision(precision)
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}: use one of {list(ENGINES)}.")
    if approximate not in APPROXIMATE_MODES:
        raise ValueError(f"approximate={approximate!r}: use 'auto', 'always' or 'never'.")
    model_path = str(model) if isinstance(model, (str, os.PathLike)) else None
    if engine == "ray" and model_path is None:
        raise ValueError("engine='ray' loads the model in every actor: pass the model's directory or Hub id, not a "
                         "loaded model.")
    model = load_model(model_path, dtype=dtype) if model_path is not None else model
    full_dim = model.get_embedding_dimension()
    if dim is not None and not 0 < dim <= full_dim:
        raise ValueError(f"dim={dim} is outside 1..{full_dim}, the model's embedding size.")
    dim = dim or full_dim
    started = time.perf_counter()
    tree = read_source(source, extensions, max_file_bytes)
    signature = model_signature(model, model_name or model_path or _own_name(model), revision, task_type, dim)
    settings = {**signature, "model_location": model_location(model_path or _own_name(model)), "precision": precision,
                "chunker_version": CHUNKER_VERSION,
                "source": {"location": str(Path(source).resolve()), "kind": tree.kind,
                           "extensions": sorted(extensions) if extensions else None, "max_file_bytes": max_file_bytes}}
    store = ShardStore(out)
    store.discard_leftovers()
    manifest = _resume_or_start(store, settings, overwrite)
    current = {unit.key: unit.content_hash for unit in tree.units}
    removed = store.keep_only(current)
    done = store.unit_hashes()
    pending = [unit for unit in tree.units if done.get(unit.key) != unit.content_hash]
    shards = plan_shards(pending, _chunker(model, signature, tree.kind), shard_size)
    embedding_engine = _engine(engine, model, model_path, signature["task_type"], dim, batch_size, devices, workers,
                               ray_address, dtype)
    chunk_count = sum(len(chunks) for chunks in shards)
    progress = tqdm(total=chunk_count, unit="texts", desc="st-jce index", disable=not show_progress)
    embedding_started = time.perf_counter()
    try:
        for chunks, embeddings in zip(shards, embedding_engine.embed([[chunk.embedded_text for chunk in chunks]
                                                                      for chunks in shards])):
            if precision == "int8" and manifest.get("int8_ranges") is None:
                # Calibrated once, on the first shard, and kept: every shard and query uses the same buckets.
                manifest["int8_ranges"] = calibration_ranges(embeddings).tolist()
                store.write_manifest(manifest)
            ranges = np.asarray(manifest["int8_ranges"], dtype=np.float32) if precision == "int8" else None
            store.append(chunks, current, quantize(embeddings, precision, ranges))
            progress.update(len(chunks))
    finally:
        progress.close()
        embedding_engine.close()
    manifest["stats"] = {"units": len(tree.units), "embedded_units": len(pending),
                         "reused_units": len(tree.units) - len(pending), "removed_units": len(removed - set(current)),
                         "embedded_chunks": chunk_count, "embedding_seconds": round(time.perf_counter() - embedding_started, 3)}
    return _finish(store, manifest, tree, approximate, started)


def plan_shards(units: Sequence[Unit], chunker, shard_size: int) -> list[list[Chunk]]:
    """The chunks of ``units`` grouped into shards: whole units, in order, a shard closed once it holds
    ``shard_size`` chunks or more. The same units always give the same shards, so a resumed run plans
    exactly the shards an uninterrupted one would still write.

    Examples
    --------
    >>> units = [Unit(key, "h", "x", key) for key in ("a", "b", "c")]
    >>> chunks_of = {"a": 2, "b": 1, "c": 2}
    >>> shards = plan_shards(units, lambda unit: [unit.key] * chunks_of[unit.key], shard_size=3)
    >>> shards
    [['a', 'a', 'b'], ['c', 'c']]
    """
    shards: list[list[Chunk]] = []
    current: list[Chunk] = []
    for unit in units:
        current.extend(chunker(unit))
        if len(current) >= shard_size:
            shards.append(current)
            current = []
    return shards + ([current] if current else [])


def _chunker(model, signature: dict[str, Any], kind: str):
    """Chunks of a unit: code split to the model's token budget; a corpus record as one chunk (the model
    truncates it, as ``st-jce eval`` does)."""
    tokenizer = model.tokenizer
    # Room for the document prefix and the special tokens around the text.
    budget = model.max_seq_length - len(tokenizer(signature["document_prefix"], add_special_tokens=True)["input_ids"]) - 1

    def count_tokens(lines: Sequence[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(list(lines), add_special_tokens=False, verbose=False)["input_ids"]]

    def chunks_of(unit: Unit) -> list[Chunk]:
        if kind == "corpus":
            return [Chunk(unit.key, unit.key, unit.path, unit.title, "record", 0, 0, unit.text)]
        return chunk_source(unit.text, unit.path, count_tokens, budget)

    return chunks_of


def _own_name(model) -> str:
    """The name a loaded model goes by: its backbone's path or Hub id."""
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    return str(getattr(config, "_name_or_path", "") or type(model).__name__)


def model_location(path_or_id: str) -> str:
    """Where the query model loads from in any working directory: an existing local path made absolute, else the
    Hub id as given (``name`` keeps what the user typed, for display)."""
    return str(Path(path_or_id).resolve()) if Path(path_or_id).exists() else path_or_id


# Settings that may change between runs without touching the vectors: the same weights under another
# path or revision (the probe embeddings decide); likewise the source's location (the same tree moved).
_RELOCATABLE = ("name", "revision", "model_location")


def _resume_or_start(store: ShardStore, settings: dict[str, Any], overwrite: bool) -> dict[str, Any]:
    """The manifest to continue: the directory's own when its settings are these, else a new one (``overwrite``)."""
    existing = store.manifest()
    if existing is None and store.shard_files():
        existing = {"settings": {}}  # shards of unknown origin: not to be mixed with these
    if existing is not None:
        differences = _differences(existing.get("settings", {}), settings)
        if differences and not overwrite:
            raise IndexSettingsError(
                f"{store.directory} holds an index built with other settings ({'; '.join(differences)}): pass "
                "--overwrite (overwrite=True) to rebuild it, or choose another output directory.")
        if differences:
            store.clear()
            existing = None
    live = existing is not None and existing.get("complete")
    manifest = existing or {"format": FORMAT, "int8_ranges": None}
    manifest.update(created_by=f"st-jce {__version__}", complete=False, settings=settings)
    if not live:  # a complete index stays searchable, as it was, until the update's own manifest replaces it
        store.write_manifest(manifest)
    return manifest


def _differences(old: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """What differs between an index's settings and these, in words; the probe embeddings by their agreement."""
    differences = [f"{key}: {old.get(key)!r} -> {value!r}" for key, value in settings.items()
                   if key not in _RELOCATABLE and key != "source" and not key.startswith("probe_")
                   and old.get(key) != value]
    old_source = old.get("source") or {}
    differences += [f"source {key}: {old_source.get(key)!r} -> {value!r}" for key, value in settings["source"].items()
                    if key != "location" and old_source.get(key) != value]
    if not differences and probe_agreement(old["probe_embeddings"], settings["probe_embeddings"]) < PROBE_MIN_COSINE:
        differences.append(f"model weights: {settings['name']!r} embeds the probe texts differently from "
                           f"{old.get('name')!r}")
    return differences


def _engine(engine: str, model, model_path: str | None, task_type: str, dim: int, batch_size: int,
            devices: Sequence[str] | None, workers: int | None, ray_address: str | None, model_dtype: str):
    if engine == "ray":
        return RayEngine(model_path, task_type, dim, batch_size, workers=workers, address=ray_address,
                         dtype=model_dtype)
    if engine == "multiprocess":
        return MultiProcessEngine(model, task_type, dim, batch_size, devices=devices or ["cpu"] * (workers or 2))
    return LocalEngine(model, task_type, dim, batch_size)


def _finish(store: ShardStore, manifest: dict[str, Any], tree: Source, approximate: str,
            started: float) -> dict[str, Any]:
    """Record the shards, the skipped files and the statistics, build the approximate index, mark complete."""
    rows = store.row_counts()
    total = sum(rows.values())
    manifest["shards"] = [{"file": f"{SHARD_FOLDER}/{name}", "rows": count} for name, count in rows.items()]
    manifest["approximate"] = None
    if total and (approximate == "always" or (approximate == "auto" and total >= APPROXIMATE_MIN_ROWS)):
        # A new name each time: a search still reading the previous manifest opens the graph of its own rows.
        name = f"{Path(APPROXIMATE_FILE).stem}-{uuid.uuid4().hex[:12]}{Path(APPROXIMATE_FILE).suffix}"
        build_approximate(store.embeddings(), manifest["settings"]["precision"], store.directory / name)
        manifest["approximate"] = {"library": "usearch", "file": name, "rows": total}
    counts: dict[str, int] = {}
    for skipped in tree.skipped:
        counts[skipped.reason] = counts.get(skipped.reason, 0) + 1
    manifest["skipped"] = {"counts": dict(sorted(counts.items())),
                           "files": [{"path": item.path, "reason": item.reason, "detail": item.detail}
                                     for item in tree.skipped]}
    stats = manifest["stats"]
    stats["chunks"] = total
    stats["texts_per_second"] = round(stats["embedded_chunks"] / stats["embedding_seconds"], 2) \
        if stats["embedding_seconds"] > 0 else None
    stats["seconds"] = round(time.perf_counter() - started, 3)
    manifest["complete"] = True
    store.write_manifest(manifest)
    store.delete_unlisted(manifest)
    return manifest
