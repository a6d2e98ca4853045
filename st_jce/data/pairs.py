"""Load any :class:`~st_jce.data.DatasetSpec` as a ``Dataset`` of (query, document) text pairs.

Examples
--------
>>> from st_jce.data import DatasetSpec, load_pairs
>>> spec = DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": "nl2code"}, "max_samples": 100})
>>> pairs = load_pairs(spec)
>>> pairs.column_names, len(pairs)
(['query', 'document'], 100)
"""

from __future__ import annotations

import logging

import datasets

from st_jce.data.beir import load_beir_pairs
from st_jce.data.local import load_local
from st_jce.data.mining import DEFAULT_HOLDOUT_FRACTION, DEFAULT_MAX_CODE_CHARS, mine_pairs
from st_jce.data.spec import DatasetSpec

logger = logging.getLogger(__name__)

SAMPLING_SEED = 0  # fixed, so ``max_samples`` picks the same rows in every run and on every process
PAIR_FEATURES = datasets.Features({"query": datasets.Value("string"), "document": datasets.Value("string")})


def _as_text(value) -> str:
    """Cell value -> text: ``None`` becomes empty, lists (e.g. several test inputs) are joined by lines."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(_as_text(item) for item in value)
    return str(value)


def select_pair_columns(rows: datasets.Dataset, query_column: str, document_column: str,
                        name: str) -> datasets.Dataset:
    """Keep ``query_column`` and ``document_column`` as the text columns ``query`` and ``document``.

    A dotted column name (``sql.human_readable``) reaches into a struct column. A missing column raises
    a ``ValueError`` naming it, the available columns and the key to set.
    """
    if any(column not in rows.column_names and "." in column for column in (query_column, document_column)):
        rows = rows.flatten()
    for key, column in (("query_column", query_column), ("document_column", document_column)):
        if column not in rows.column_names:
            raise ValueError(f"Dataset {name!r}: {key} {column!r} not found; available columns: "
                             f"{rows.column_names}. Set `{key}` in its `datasets` entry to one of them.")

    rows = rows.select_columns(list(dict.fromkeys([query_column, document_column])))  # read only these

    def to_pair(batch: dict[str, list]) -> dict[str, list[str]]:
        return {"query": [_as_text(v) for v in batch[query_column]],
                "document": [_as_text(v) for v in batch[document_column]]}

    return rows.map(to_pair, batched=True, remove_columns=rows.column_names, features=PAIR_FEATURES,
                    desc=f"Selecting (query, document) of {name}")


def drop_empty(pairs: datasets.Dataset, name: str) -> datasets.Dataset:
    """Drop rows whose query or document is blank, logging how many went."""
    kept = pairs.filter(lambda batch: [bool(q.strip()) and bool(d.strip())
                                       for q, d in zip(batch["query"], batch["document"])], batched=True,
                       desc=f"Dropping empty pairs of {name}")
    if len(kept) < len(pairs):
        logger.warning("Dataset %r: dropped %d of %d rows with an empty query or document.", name,
                       len(pairs) - len(kept), len(pairs))
    return kept


def _registry_rows(spec: DatasetSpec, split: str) -> tuple[datasets.Dataset, str, str]:
    entry = spec.entry
    if entry.layout == "beir":
        languages = [spec.subset] if spec.subset else list(entry.subsets) or [None]
        parts = [load_beir_pairs(entry.hub_id, split, language, entry.revision) for language in languages]
        return datasets.concatenate_datasets(parts), "query", "document"
    subset = spec.subset or (entry.subsets[0] if entry.subsets else None)
    if entry.data_files:
        rows = datasets.load_dataset(entry.hub_id, data_files=entry.data_files.format(subset=subset), split=split,
                                     revision=entry.revision)
    else:
        rows = datasets.load_dataset(entry.hub_id, subset, split=split, revision=entry.revision)
    # The entry's mapping applies unless the config changed the columns from their defaults.
    query_column = spec.query_column if spec.query_column != "query" else entry.query_column
    document_column = spec.document_column if spec.document_column != "document" else entry.document_column
    return rows, query_column, document_column


def _raw_rows(spec: DatasetSpec, split: str) -> tuple[datasets.Dataset, str, str]:
    """The spec's rows before column selection, with the columns that hold the query and document."""
    if spec.source == "registry":
        return _registry_rows(spec, split)
    if spec.source == "hub":
        return datasets.load_dataset(spec.path, spec.subset, split=split), spec.query_column, spec.document_column
    if spec.source == "local":
        if split != "train":
            raise ValueError(f"Dataset {spec.name!r}: local files are one 'train' split; got split {split!r}.")
        return load_local(spec.path), spec.query_column, spec.document_column
    mining = spec.mining
    rows = mine_pairs(spec.mining_kind, roots=tuple(mining.get("roots", ())),
                      packages=tuple(mining.get("packages", ())), split=split,
                      holdout_fraction=mining.get("holdout_fraction", DEFAULT_HOLDOUT_FRACTION),
                      seed=mining.get("seed", 0), max_code_chars=mining.get("max_code_chars", DEFAULT_MAX_CODE_CHARS))
    return rows, "query", "document"


def load_pairs(spec: DatasetSpec, split: str | None = None) -> datasets.Dataset:
    """The (query, document) pairs of ``spec`` as a ``Dataset`` with exactly the string columns ``query``, ``document``.

    Parameters
    ----------
    spec
        Where the data comes from (see :class:`~st_jce.data.DatasetSpec`).
    split
        Overrides ``spec.split`` (e.g. ``"test"`` for the held-out mined functions).

    Rows with an empty or missing text are dropped (the count is logged); ``spec.max_samples`` then
    keeps that many rows of a fixed-seed shuffle.
    """
    split = split or spec.split
    rows, query_column, document_column = _raw_rows(spec, split)
    pairs = drop_empty(select_pair_columns(rows, query_column, document_column, spec.name), spec.name)
    if spec.max_samples is not None and len(pairs) > spec.max_samples:
        pairs = pairs.shuffle(seed=SAMPLING_SEED).select(range(spec.max_samples)).flatten_indices()
    logger.info("Dataset %r (%s, %s): %d pairs.", spec.name, spec.source, spec.resolved_task_type, len(pairs))
    return pairs
