"""Embed and search a codebase or a corpus: ``st-jce index`` / ``st-jce search`` and their Python API.

Needs the ``index`` extra (``pip install 'st-jce[index]'``: pyarrow, pathspec, usearch, ray). The parts:
:mod:`~st_jce.search.sources` (files and records), :mod:`~st_jce.search.chunking` (retrieval units),
:mod:`~st_jce.search.engines` (where embedding runs), :mod:`~st_jce.search.store` (shards and manifest),
:mod:`~st_jce.search.build` (the resumable, incremental job), :mod:`~st_jce.search.vectors` (precision,
exact search), :mod:`~st_jce.search.approximate` (usearch), :mod:`~st_jce.search.signature` (which model
may query an index), :mod:`~st_jce.search.encoding` (texts to vectors with the task prefixes),
:mod:`~st_jce.search.index` (:class:`Index`) and :mod:`~st_jce.search.cli` (the commands), whose choices and
defaults live in :mod:`~st_jce.search.settings`. The names below are imported on first use, so
``st-jce --help`` runs without the extra.
Guide: ``docs/search.md``.

Examples
--------
>>> from st_jce.search import Index, build_index
>>> build_index("path/to/repo", "repo-index", "path/to/model")  # doctest: +SKIP
>>> Index("repo-index").search("where are task prefixes applied", k=5)  # doctest: +SKIP
"""

from st_jce.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "st_jce.search.index": ("Hit", "Index"),
    "st_jce.search.build": ("IndexSettingsError", "build_index"),
    "st_jce.search.signature": ("IndexMismatchError",),
})
