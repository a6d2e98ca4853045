"""``st_jce.search.Index``: search an index directory written by ``st-jce index`` (:func:`build_index`).

Queries are embedded by the index's model (or one given, once :func:`~st_jce.search.signature.check_query_model`
has accepted it) with the query prefix of the index's task type, truncated to the index's dimension, and
searched exactly (brute force, :mod:`st_jce.search.vectors`: the reference) or through the approximate
index when it was built (:mod:`st_jce.search.approximate`). Hits from a source tree are ranked with their
enclosing unit's similarity added in (:mod:`st_jce.search.context`).

Examples
--------
>>> import tempfile, pathlib, st_jce
>>> from st_jce.search import build_index
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> tree = pathlib.Path(tempfile.mkdtemp())
>>> _ = (tree / "util.py").write_text("def add(a, b):\\n    return a + b\\n\\ndef sub(a, b):\\n    return a - b\\n")
>>> out = pathlib.Path(tempfile.mkdtemp()) / "index"
>>> _ = build_index(tree, out, model, show_progress=False)
>>> hits = Index(out, model=model).search("add two numbers", k=2)
>>> sorted(hit.name for hit in hits)
['add', 'sub']
"""

from __future__ import annotations

import numbers
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from st_jce.search.approximate import approximate_top_k, open_approximate
from st_jce.search.chunking import Chunk
from st_jce.search.context import UnitContexts
from st_jce.search.encoding import encode_texts
from st_jce.search.ranking import order_hits, resolve_tests_mode
from st_jce.search.settings import CONTEXT_WEIGHT
from st_jce.search.signature import check_query_model
from st_jce.search.store import METADATA_COLUMNS, ShardStore
from st_jce.search.vectors import exact_scores, exact_top_k
from st_jce.top_k import top_k_order

CHUNK_FIELDS = tuple(field.name for field in fields(Chunk))  # what a Hit carries of its chunk
WINDOWS_PER_UNIT = 4  # candidates read per wanted hit before looking deeper
# The approximate search looks deeper (doubling) up to this share of the rows, then scores every row instead:
# a usearch candidate costs about as much as brute force over a few dozen rows (docs/experiments.md), so by
# then the deeper looks have cost about one brute-force pass.
APPROXIMATE_DEPTH_LIMIT = 0.01


@dataclass(frozen=True)
class Hit(Chunk):
    """One search result: the chunk (:class:`~st_jce.search.chunking.Chunk`'s fields), the score hits are ranked
    by, and what it is made of.

    ``similarity`` is the chunk's cosine similarity to the query (at float32, through the stored precision);
    ``context_similarity`` its enclosing unit's best (:mod:`st_jce.search.context`; 0 for module-level code
    and corpus records, and when searched with ``context_weight=0``); ``score`` is ``similarity +
    context_weight * context_similarity``.
    """

    score: float
    similarity: float
    context_similarity: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``st-jce search --json``), without ``unit``: incremental indexing's
        bookkeeping, which repeats the path or the record."""
        fields = asdict(self)
        del fields["unit"]
        return fields


class Index:
    """An index directory, opened for search.

    Parameters
    ----------
    path : str or PathLike
        The directory ``st-jce index`` wrote.
    model : SentenceTransformer or str, optional
        The query model, or its directory / Hub id; default: the one the index was built with, loaded
        from the name in the manifest. Checked against the manifest on first use.
    device : str, optional
        Where a model loaded here runs.
    dtype : str
        Compute dtype of a model loaded here (:func:`st_jce.dtypes.resolve_dtype`; ``"auto"``: bf16 where the
        hardware runs it natively, else fp32). Queries need not share the documents' dtype: the probe check
        allows for rounding.

    Raises
    ------
    FileNotFoundError
        If ``path`` holds no manifest.
    ValueError
        If the index is incomplete (an interrupted ``st-jce index``: rerun it to finish).
    """

    def __init__(self, path: str | os.PathLike, model=None, *, device: str | None = None,
                 dtype: str = "auto") -> None:
        self.path = Path(path)
        store = ShardStore(self.path)
        manifest = store.manifest()
        if manifest is None:
            raise FileNotFoundError(f"{self.path} holds no index (no manifest.json): build one with "
                                    f"st-jce index SOURCE --model MODEL --out {self.path}.")
        if not manifest.get("complete"):
            raise ValueError(f"The index at {self.path} is incomplete: its indexing was interrupted. Rerun the same "
                             "st-jce index command to finish it (the shards written so far are kept).")
        self.manifest = manifest
        self.settings = manifest["settings"]
        self.chunks = store.read(METADATA_COLUMNS).to_pydict()
        self.vectors = store.embeddings()
        self.ranges = np.asarray(manifest["int8_ranges"], dtype=np.float32) if manifest.get("int8_ranges") else None
        self.contexts = UnitContexts(self.chunks["path"], self.chunks["name"], self.chunks["kind"])
        self._approximate = None
        if manifest.get("approximate"):
            self._approximate = open_approximate(self.path / manifest["approximate"]["file"])
        self._model, self._device, self._dtype, self._checked_task_types = model, device, dtype, {}

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def has_approximate(self) -> bool:
        """Whether an approximate index was built (``st-jce index --approximate``)."""
        return self._approximate is not None

    @property
    def model(self):
        """The query model (loaded on first use)."""
        if self._model is None or isinstance(self._model, (str, os.PathLike)):
            from st_jce.model.loading import load_model

            # Indexes written before model_location was recorded name the model as it was typed.
            location = self._model or self.settings.get("model_location") or self.settings["name"]
            self._model = load_model(str(location), device=self._device, dtype=self._dtype)
        return self._model

    def search(self, queries: str | list[str], k: int = 10, *, task_type: str | None = None,
               exact: bool | None = None, one_per_unit: bool = True, tests: str = "auto",
               context_weight: float = CONTEXT_WEIGHT) -> list[Hit] | list[list[Hit]]:
        """The ``k`` best chunks of each query, best first: a list of hits for one query string, a list of
        lists for a list of queries.

        Parameters
        ----------
        task_type : str, optional
            Whose query prefix to apply (default: the index's task type); one whose documents are
            embedded differently from the index's is refused.
        exact : bool, optional
            ``True``: brute force; ``False``: the approximate index (an error without one); ``None``: the
            approximate index when there is one.
        one_per_unit : bool
            A function, method or class split into several windows (longer than the model's
            ``max_seq_length``) comes back once, as its best window; ``False``: every window.
        tests : {"auto", "last", "exclude", "ranked"}
            Where hits from test files go (:mod:`st_jce.search.ranking`): after the other hits
            (``"last"``), nowhere (``"exclude"``), or by score (``"ranked"``); ``"auto"``: ``"ranked"`` for a
            query that mentions tests, ``"last"`` otherwise.
        context_weight : float
            How much of the enclosing unit's similarity (a method's class, a function's module-level code)
            goes into a hit's score (:mod:`st_jce.search.context`); 0: by the chunk's similarity alone.
            Corpus records have no context.

        Raises
        ------
        ValueError
            If ``k`` is not a positive integer or ``context_weight`` is negative.
        IndexMismatchError
            If the query model's prefixes, dimension or embeddings do not match the index's.
        """
        _check_k_and_weight(k, context_weight)  # before the model loads
        texts = [queries] if isinstance(queries, str) else list(queries)
        task_type = self._accepted_task_type(task_type)
        embeddings = encode_texts(self.model, texts, task_type, "query", self.settings["dim"])
        hits = self._hits_per_query(embeddings, k, exact, one_per_unit,
                                    [resolve_tests_mode(tests, text) for text in texts], context_weight)
        return hits[0] if isinstance(queries, str) else hits

    def search_embeddings(self, embeddings: np.ndarray, k: int = 10, *, exact: bool | None = None,
                          one_per_unit: bool = True, tests: str = "ranked",
                          context_weight: float = CONTEXT_WEIGHT) -> list[list[Hit]]:
        """Search with query embeddings already made (unit length, the index's dimension, float32); ``tests``
        as in :meth:`search`, where ``"auto"``, having no query text to read, means ``"last"``."""
        _check_k_and_weight(k, context_weight)
        return self._hits_per_query(embeddings, k, exact, one_per_unit, [resolve_tests_mode(tests)] * len(embeddings),
                                    context_weight)

    def _hits_per_query(self, embeddings: np.ndarray, k: int, exact: bool | None, one_per_unit: bool,
                        tests_modes: list[str], context_weight: float) -> list[list[Hit]]:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.settings["dim"]:
            raise ValueError(f"Query embeddings of shape {embeddings.shape}: the index holds "
                             f"{self.settings['dim']}-dimensional vectors; pass (queries, {self.settings['dim']}).")
        return [self._best_hits(embedding[None], k, exact, one_per_unit, mode, context_weight)
                for embedding, mode in zip(embeddings, tests_modes)]

    def _best_hits(self, embedding: np.ndarray, k: int, exact: bool | None, one_per_unit: bool,
                   tests: str, context_weight: float) -> list[Hit]:
        if not len(self):  # a tree of empty files, say: no vectors to score
            return []
        weight = context_weight if self.contexts.has_contexts else 0.0
        depth = k * WINDOWS_PER_UNIT if one_per_unit else k
        while not exact and self._approximate is not None and depth < len(self) * APPROXIMATE_DEPTH_LIMIT:
            rows, similarity = self.top_k(embedding, depth, exact=False)
            found = rows[0] >= 0
            rows, similarity = rows[0][found], similarity[0][found]
            # A row not fetched has at most the last similarity fetched, and a context at most the best (or
            # none: 0); the graph holds no row beyond the ones it returned short of the depth.
            unseen_best = similarity[-1] + weight * max(similarity[0], 0.0) if len(rows) == depth else -np.inf
            if one_per_unit:
                first = self.contexts.first_windows(rows)
                rows, similarity = rows[first], similarity[first]
            context = self._context_similarity(rows, weight, lambda members: exact_scores(
                embedding, self.vectors[members], self.settings["precision"], self.ranges)[0])
            hits, settled = self._ranked_hits(rows, similarity, context, weight, k, tests, unseen_best)
            if settled >= k or unseen_best == -np.inf:
                return hits[:k]
            depth *= 2  # many windows of few units (or many tests) at the top: look deeper
        # Brute force: every row's similarity at once, the best window of every unit, their contexts.
        every_similarity = exact_scores(embedding, self.vectors, self.settings["precision"], self.ranges)[0]
        rows = self.contexts.best_windows(every_similarity) if one_per_unit else np.arange(len(self))
        context = self._context_similarity(rows, weight, every_similarity.__getitem__)
        return self._ranked_hits(rows, every_similarity[rows], context, weight, k, tests, -np.inf)[0][:k]

    def _context_similarity(self, rows: np.ndarray, weight: float, similarity_of) -> np.ndarray:
        """The context similarity of ``rows`` (:meth:`UnitContexts.context_similarity`), zeros at weight 0."""
        if not weight:
            return np.zeros(len(rows), dtype=np.float32)
        return self.contexts.context_similarity(rows, similarity_of)

    def _ranked_hits(self, rows: np.ndarray, similarity: np.ndarray, context: np.ndarray, weight: float, k: int,
                     tests: str, unseen_best: float) -> tuple[list[Hit], int]:
        """Hits of the candidate ``rows`` best first by score, those of them certain of their place (scoring
        above ``unseen_best``), and how many of them are settled (:func:`order_hits`). Hits are made for the
        first candidates only, more while too few are settled: a brute-force ranking holds every unit."""
        scores = similarity + weight * context
        taken = k * WINDOWS_PER_UNIT
        while True:
            order = top_k_order(scores[None], rows[None], min(taken, len(rows)))[0] if len(rows) else rows
            certain = order[scores[order] > unseen_best]
            hits, settled = order_hits([self._hit(rows[i], scores[i], similarity[i], context[i]) for i in certain],
                                       tests)
            if settled >= k or len(certain) < taken:
                return hits, settled
            taken *= 2

    def top_k(self, embeddings: np.ndarray, k: int, *, exact: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows (``-1`` where fewer than ``k`` were found) and scores of each query's ``k`` best vectors."""
        if exact is False and self._approximate is None:
            raise ValueError(f"The index at {self.path} has no approximate index: search exactly, or rebuild it with "
                             "st-jce index ... --approximate always.")
        precision = self.settings["precision"]
        if exact or self._approximate is None:
            return exact_top_k(embeddings, self.vectors, precision, self.ranges, k)
        return approximate_top_k(self._approximate, embeddings, self.vectors, precision, self.ranges, k)

    def _accepted_task_type(self, task_type: str | None) -> str:
        key = task_type or self.settings["task_type"]
        if key not in self._checked_task_types:
            self._checked_task_types[key] = check_query_model(self.settings, self.model, task_type)
        return self._checked_task_types[key]

    def _hit(self, row: int, score: float, similarity: float, context_similarity: float) -> Hit:
        fields = {column: self.chunks[column][row] for column in CHUNK_FIELDS}
        return Hit(score=float(score), similarity=float(similarity), context_similarity=float(context_similarity),
                   **fields)


def _check_k_and_weight(k: int, context_weight: float) -> None:
    if not (isinstance(k, numbers.Integral) and k >= 1):
        raise ValueError(f"k={k!r}: ask for at least one hit (an integer k >= 1).")
    if not context_weight >= 0:
        raise ValueError(f"context_weight={context_weight!r}: use a weight >= 0 (0 ranks by similarity alone).")
