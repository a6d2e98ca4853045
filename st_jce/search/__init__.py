"""Embed and search a codebase or a corpus: ``st-jce index`` / ``st-jce search`` and their Python API.

Needs the ``index`` extra (``pip install 'st-jce[index]'``: pyarrow, pathspec, usearch, ray). The parts:
:mod:`~st_jce.search.sources` (files and records), :mod:`~st_jce.search.chunking` (retrieval units),
:mod:`~st_jce.search.engines` (where embedding runs), :mod:`~st_jce.search.store` (shards and manifest),
:mod:`~st_jce.search.indexing` (the resumable, incremental job), :mod:`~st_jce.search.vectors` (precision,
exact search), :mod:`~st_jce.search.approximate` (usearch), :mod:`~st_jce.search.signature` (which model
may query an index), :mod:`~st_jce.search.index` (:class:`Index`) and :mod:`~st_jce.search.cli` (the
commands). The names below are imported on first use, so ``st-jce --help`` runs without the extra.
Guide: ``docs/search.md``.

Examples
--------
>>> from st_jce.search import Index, build_index
>>> build_index("path/to/repo", "repo-index", "path/to/model")  # doctest: +SKIP
>>> Index("repo-index").search("where are task prefixes applied", k=5)  # doctest: +SKIP
"""

import importlib

_MODULE_OF = {"Hit": "st_jce.search.index", "Index": "st_jce.search.index",
              "IndexSettingsError": "st_jce.search.indexing", "build_index": "st_jce.search.indexing",
              "IndexMismatchError": "st_jce.search.signature"}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'st_jce.search' has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)
