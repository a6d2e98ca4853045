"""``st_jce.search.Index``: search an index directory written by ``st-jce index`` (:func:`build_index`).

Queries are embedded by the index's model (or one given, once :func:`~st_jce.search.signature.check_query_model`
has accepted it) with the query prefix of the index's task type, truncated to the index's dimension, and
searched exactly (brute force, :mod:`st_jce.search.vectors`: the reference) or through the approximate
index when it was built (:mod:`st_jce.search.approximate`). Hits from a source tree are ranked with their
enclosing unit's similarity added in (:mod:`st_jce.search.context`), and can be gathered into the files that hold
them (``by="file"``, :mod:`st_jce.search.by_file`). A query longer than the model's ``max_seq_length`` is
searched by its first tokens, with a warning (:mod:`st_jce.search.query_length`).

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
>>> [(file.path, sorted(unit.name for unit in file.units)) for file in Index(out, model=model).search("add", by="file")]
[('util.py', ['add', 'sub'])]
"""

from __future__ import annotations

import logging
import numbers
import os
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from st_jce.prefixes import prefix_of
from st_jce.search.approximate import approximate_top_k, open_approximate
from st_jce.search.by_file import FileHit, rank_files
from st_jce.search.chunking import Chunk
from st_jce.search.context import UnitContexts
from st_jce.search.encoding import encode_texts
from st_jce.search.lexical import LexicalScorer
from st_jce.search.query_length import QueryLength, query_length
from st_jce.search.ranking import order_hits, resolve_tests_mode
from st_jce.search.settings import CONTEXT_WEIGHT, LEXICAL_MIN_WORDS, LEXICAL_WEIGHT, SEARCH_BY, UNITS_PER_FILE
from st_jce.search.signature import check_query_model
from st_jce.search.store import METADATA_COLUMNS, ShardStore, vectors_of
from st_jce.search.vectors import exact_scores, exact_top_k
from st_jce.top_k import top_k_order

CHUNK_FIELDS = tuple(field.name for field in fields(Chunk))  # what a Hit carries of its chunk
WINDOWS_PER_UNIT = 4  # candidates read per wanted hit before looking deeper
# The approximate search looks deeper (doubling) up to this share of the rows, then scores every row instead:
# a usearch candidate costs about as much as brute force over a few dozen rows (docs/experiments.md), so by
# then the deeper looks have cost about one brute-force pass.
APPROXIMATE_DEPTH_LIMIT = 0.01

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit(Chunk):
    """One search result: the chunk (:class:`~st_jce.search.chunking.Chunk`'s fields), the score hits are ranked
    by, and what it is made of.

    ``similarity`` is the chunk's cosine similarity to the query (at float32, through the stored precision);
    ``lexical`` its BM25 score against the query's best (:mod:`st_jce.search.lexical`; 0 when searched with
    ``lexical_weight=0`` or with a query shorter than ``lexical_min_words``); its relevance is ``similarity +
    lexical_weight * lexical``. ``context_similarity`` is its enclosing unit's best relevance
    (:mod:`st_jce.search.context`; 0 for module-level code and corpus records, and when searched with
    ``context_weight=0``); ``score`` is ``relevance + context_weight * context_similarity``.
    """

    score: float
    similarity: float
    context_similarity: float = 0.0
    lexical: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``st-jce search --json``), without ``unit``: incremental indexing's
        bookkeeping, which repeats the path or the record."""
        fields = asdict(self)
        del fields["unit"]
        return fields


class SearchResult(list):
    """The results of one query, best first: a list of :class:`Hit` (of :class:`~st_jce.search.by_file.FileHit` by
    file), which also says how long the query was for the model.

    Attributes
    ----------
    query_length : QueryLength
        The query's tokens against the model's ``max_seq_length`` (:mod:`st_jce.search.query_length`).
    """

    def __init__(self, results, query_length: QueryLength) -> None:
        super().__init__(results)
        self.query_length = query_length

    @property
    def query_truncated(self) -> bool:
        """Whether the query was longer than the model's ``max_seq_length``, so only its first tokens were searched."""
        return self.query_length.truncated

    @property
    def query_tokens(self) -> int:
        """The query's tokens with its prefix and special tokens, before any cut."""
        return self.query_length.tokens


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
        # The manifest and what it lists, from one version of an index that an update may be replacing.
        manifest, (table, self._approximate) = ShardStore(self.path).read_consistently(self._open_listed)
        if manifest is None:
            raise FileNotFoundError(f"{self.path} holds no index (no manifest.json): build one with "
                                    f"st-jce index SOURCE --model MODEL --out {self.path}.")
        if not manifest.get("complete"):
            raise ValueError(f"The index at {self.path} is incomplete: its indexing was interrupted. Rerun the same "
                             "st-jce index command to finish it (the shards written so far are kept).")
        self.manifest = manifest
        self.settings = manifest["settings"]
        self.chunks = table.select(METADATA_COLUMNS).to_pydict()
        self.vectors = vectors_of(table)
        self.ranges = np.asarray(manifest["int8_ranges"], dtype=np.float32) if manifest.get("int8_ranges") else None
        self.contexts = UnitContexts(self.chunks["path"], self.chunks["name"], self.chunks["kind"])
        self._model, self._device, self._dtype, self._checked_task_types = model, device, dtype, {}
        self._units_per_path: dict[bool, Counter] = {}
        self._lexical: LexicalScorer | None = None

    def _open_listed(self, manifest: dict[str, Any] | None):
        """The shards and approximate index a complete ``manifest`` lists; ``None`` for both otherwise."""
        if not (manifest or {}).get("complete"):
            return None, None
        store = ShardStore(self.path)
        table = store.read((*METADATA_COLUMNS, "embedding"), files=store.listed_files(manifest))
        graph_file = self.path / manifest["approximate"]["file"] if manifest.get("approximate") else None
        if graph_file is not None and not graph_file.is_file():
            raise FileNotFoundError(f"{graph_file}: the approximate index the manifest lists is missing.")
        return table, open_approximate(graph_file) if graph_file is not None else None

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
               context_weight: float = CONTEXT_WEIGHT, lexical_weight: float = LEXICAL_WEIGHT,
               lexical_min_words: int = LEXICAL_MIN_WORDS, by: str = "unit") -> SearchResult | list[SearchResult]:
        """The ``k`` best chunks (or files) of each query, best first: a :class:`SearchResult` (a list of hits) for
        one query string, a list of them for a list of queries.

        A query longer than the model's ``max_seq_length`` (with its prefix) is searched by its first tokens, as
        the model reads it: a warning is logged (its token count, the limit, the part kept) and the result says so
        (:attr:`SearchResult.query_truncated`, :attr:`SearchResult.query_tokens`).

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
        lexical_weight : float
            How much of a chunk's BM25 score for the query's identifiers and words (divided by the best chunk's:
            :mod:`st_jce.search.lexical`) goes into its relevance, read from the whole query, however long; 0:
            the embeddings alone. A search with lexical scores ranks every row (brute force).
        lexical_min_words : int
            Lexical scores count for queries of at least this many words (split at white space): bug reports,
            tracebacks, pasted code; a short question is ranked by the embeddings alone (0: every query).
        by : {"unit", "file"}
            ``"unit"``: :class:`Hit` results; ``"file"``: the ``k`` files holding the best units, each scored by its
            best unit and listing its best ones (:class:`~st_jce.search.by_file.FileHit`), the units ranked as
            for ``"unit"`` first (context scores, ``tests``, ``one_per_unit``).

        Raises
        ------
        ValueError
            If ``k`` is not a positive integer, a weight or ``lexical_min_words`` is negative or ``by`` is
            neither.
        IndexMismatchError
            If the query model's prefixes, dimension or embeddings do not match the index's.
        """
        _check_arguments(k, context_weight, by, lexical_weight, lexical_min_words)  # before the model loads
        texts = [queries] if isinstance(queries, str) else list(queries)
        embeddings, lengths = self.embed_queries(texts, task_type)
        lexical = [self._lexical_scores(text, lexical_weight, lexical_min_words) for text in texts]
        results = self._hits_per_query(embeddings, k, exact, one_per_unit,
                                       [resolve_tests_mode(tests, text) for text in texts], context_weight, by,
                                       lexical, lexical_weight)
        results = [SearchResult(found, length) for found, length in zip(results, lengths)]
        return results[0] if isinstance(queries, str) else results

    def embed_queries(self, texts: list[str], task_type: str | None = None) -> tuple[np.ndarray, list[QueryLength]]:
        """The embeddings :meth:`search` searches ``texts`` with (for :meth:`search_embeddings`, to search one query
        several ways without encoding it again) and each text's length for the model, a warning logged for one
        that is cut; ``task_type`` as in :meth:`search`."""
        task_type = self._accepted_task_type(task_type)
        embeddings = encode_texts(self.model, texts, task_type, "query", self.settings["dim"])
        return embeddings, [self._query_length(text, task_type) for text in texts]

    def _query_length(self, text: str, task_type: str) -> QueryLength:
        """``text``'s length for the query model, with a warning when the model reads only its start."""
        length = query_length(self.model, text, prefix_of(self.model, task_type, "query"))
        if length.truncated:
            logger.warning(length.message())
        return length

    def search_embeddings(self, embeddings: np.ndarray, k: int = 10, *, exact: bool | None = None,
                          one_per_unit: bool = True, tests: str = "ranked",
                          context_weight: float = CONTEXT_WEIGHT, by: str = "unit", query_texts: list[str] | None = None,
                          lexical_weight: float = LEXICAL_WEIGHT,
                          lexical_min_words: int = LEXICAL_MIN_WORDS) -> list[list[Hit]] | list[list[FileHit]]:
        """Search with query embeddings already made (unit length, the index's dimension, float32); ``tests``
        and ``by`` as in :meth:`search`; with ``query_texts`` (one per embedding), lexical scores weigh in as
        ``lexical_weight`` and ``lexical_min_words`` say, and ``tests="auto"`` reads them (without, ``"auto"``
        means ``"last"``)."""
        _check_arguments(k, context_weight, by, lexical_weight, lexical_min_words)
        texts = list(query_texts) if query_texts is not None else [None] * len(embeddings)
        if len(texts) != len(embeddings):
            raise ValueError(f"{len(texts)} query texts for {len(embeddings)} embeddings: pass one text per embedding.")
        lexical = [self._lexical_scores(text, lexical_weight, lexical_min_words) for text in texts]
        return self._hits_per_query(embeddings, k, exact, one_per_unit,
                                    [resolve_tests_mode(tests, text) for text in texts],
                                    context_weight, by, lexical, lexical_weight)

    def _lexical_scores(self, text: str | None, weight: float, min_words: int) -> np.ndarray | None:
        """The normalized BM25 score of every row for ``text`` (``None`` at weight 0, without a text or for one of
        fewer than ``min_words`` words); the scorer is built over the index's chunks (path, name, text) on first
        use."""
        if not weight or text is None or len(text.split()) < min_words or not len(self):
            return None
        if self._lexical is None:
            self._lexical = LexicalScorer([f"{path} {name}\n{text}" for path, name, text in
                                           zip(self.chunks["path"], self.chunks["name"], self.chunks["text"])])
        return self._lexical.normalized_scores(text)

    def _hits_per_query(self, embeddings: np.ndarray, k: int, exact: bool | None, one_per_unit: bool,
                        tests_modes: list[str], context_weight: float, by: str, lexical: list[np.ndarray | None],
                        lexical_weight: float) -> list[list[Hit]] | list[list[FileHit]]:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.settings["dim"]:
            raise ValueError(f"Query embeddings of shape {embeddings.shape}: the index holds "
                             f"{self.settings['dim']}-dimensional vectors; pass (queries, {self.settings['dim']}).")
        best = self._best_hits if by == "unit" else self._best_files
        return [best(embedding[None], k, exact, one_per_unit, mode, context_weight, Lexical(scores, lexical_weight))
                for embedding, mode, scores in zip(embeddings, tests_modes, lexical)]

    def _best_files(self, embedding: np.ndarray, k: int, exact: bool | None, one_per_unit: bool,
                    tests: str, context_weight: float, lexical: Lexical) -> list[FileHit]:
        """The ``k`` best files, from the ranked units (:func:`rank_files`): deeper (doubling) until the first ``k``
        files are known, each with its best units (as many as it has, up to :data:`UNITS_PER_FILE`), or every
        unit is ranked."""
        units_per_path = self._count_units_per_path(one_per_unit)
        depth = k * UNITS_PER_FILE
        while True:
            hits = self._best_hits(embedding, depth, exact, one_per_unit, tests, context_weight, lexical)
            files = rank_files(hits, k)
            complete = all(len(file.units) == min(UNITS_PER_FILE, units_per_path[file.path]) for file in files)
            if len(hits) < depth or (len(files) == k and complete):
                return files
            depth *= 2

    def _count_units_per_path(self, one_per_unit: bool) -> Counter:
        """How many hits each file can give: its units (its rows, every window, without ``one_per_unit``)."""
        if one_per_unit not in self._units_per_path:
            rows = np.unique(self.contexts.unit_of_row, return_index=True)[1] if one_per_unit else range(len(self))
            self._units_per_path[one_per_unit] = Counter(self.chunks["path"][row] for row in rows)
        return self._units_per_path[one_per_unit]

    def _best_hits(self, embedding: np.ndarray, k: int, exact: bool | None, one_per_unit: bool,
                   tests: str, context_weight: float, lexical: Lexical) -> list[Hit]:
        if not len(self):  # a tree of empty files, say: no vectors to score
            return []
        weight = context_weight if self.contexts.has_contexts else 0.0
        depth = k * WINDOWS_PER_UNIT if one_per_unit else k
        while (not exact and self._approximate is not None and lexical.scores is None
               and depth < len(self) * APPROXIMATE_DEPTH_LIMIT):
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
            hits, settled = self._ranked_hits(rows, similarity, similarity, context, weight, k, tests, unseen_best,
                                              lexical)
            if settled >= k or unseen_best == -np.inf:
                return hits[:k]
            depth *= 2  # many windows of few units (or many tests) at the top: look deeper
        # Brute force: every row's relevance at once, the best window of every unit, their contexts.
        every_similarity = exact_scores(embedding, self.vectors, self.settings["precision"], self.ranges)[0]
        relevance = lexical.added_to(every_similarity)
        rows = self.contexts.best_windows(relevance) if one_per_unit else np.arange(len(self))
        context = self._context_similarity(rows, weight, relevance.__getitem__)
        return self._ranked_hits(rows, relevance[rows], every_similarity[rows], context, weight, k, tests, -np.inf,
                                 lexical)[0][:k]

    def _context_similarity(self, rows: np.ndarray, weight: float, similarity_of) -> np.ndarray:
        """The context similarity of ``rows`` (:meth:`UnitContexts.context_similarity`), zeros at weight 0."""
        if not weight:
            return np.zeros(len(rows), dtype=np.float32)
        return self.contexts.context_similarity(rows, similarity_of)

    def _ranked_hits(self, rows: np.ndarray, relevance: np.ndarray, similarity: np.ndarray, context: np.ndarray,
                     weight: float, k: int, tests: str, unseen_best: float, lexical: Lexical) -> tuple[list[Hit], int]:
        """Hits of the candidate ``rows`` best first by score, those of them certain of their place (scoring
        above ``unseen_best``), and how many of them are settled (:func:`order_hits`). Hits are made for the
        first candidates only, more while too few are settled: a brute-force ranking holds every unit."""
        scores = relevance + weight * context
        taken = k * WINDOWS_PER_UNIT
        while True:
            order = top_k_order(scores[None], rows[None], min(taken, len(rows)))[0] if len(rows) else rows
            certain = order[scores[order] > unseen_best]
            hits, settled = order_hits([self._hit(rows[i], scores[i], similarity[i], context[i], lexical.of(rows[i]))
                                        for i in certain], tests)
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

    def _hit(self, row: int, score: float, similarity: float, context_similarity: float, lexical: float) -> Hit:
        fields = {column: self.chunks[column][row] for column in CHUNK_FIELDS}
        return Hit(score=float(score), similarity=float(similarity), context_similarity=float(context_similarity),
                   lexical=float(lexical), **fields)


@dataclass(frozen=True)
class Lexical:
    """One query's lexical scores over every row (normalized BM25; ``None``: not searched lexically) and their
    weight in a row's relevance."""

    scores: np.ndarray | None
    weight: float

    def added_to(self, similarity: np.ndarray) -> np.ndarray:
        """Every row's relevance: its similarity plus the weighted lexical score."""
        return similarity if self.scores is None else similarity + np.float32(self.weight) * self.scores

    def of(self, row: int) -> float:
        return 0.0 if self.scores is None else float(self.scores[row])


def _check_arguments(k: int, context_weight: float, by: str, lexical_weight: float, lexical_min_words: int) -> None:
    if not (isinstance(k, numbers.Integral) and k >= 1):
        raise ValueError(f"k={k!r}: ask for at least one hit (an integer k >= 1).")
    if not context_weight >= 0:
        raise ValueError(f"context_weight={context_weight!r}: use a weight >= 0 (0 ranks by similarity alone).")
    if not lexical_weight >= 0:
        raise ValueError(f"lexical_weight={lexical_weight!r}: use a weight >= 0 (0 ranks by the embeddings alone).")
    if not (isinstance(lexical_min_words, numbers.Integral) and lexical_min_words >= 0):
        raise ValueError(f"lexical_min_words={lexical_min_words!r}: use an integer >= 0 (0: every query is also "
                         "scored lexically).")
    if by not in SEARCH_BY:
        raise ValueError(f"by={by!r}: use one of {list(SEARCH_BY)} (search results as units or as files).")
