"""The lexical signal of a search: BM25 over the identifiers and words of each chunk and its file's path.

A bug report names things: a module (``qdp``), a function (``_cstack``), an option, an error class. Dense
embeddings of a long report weigh those few words like any others, and a model reads only its first tokens; an
exact match on a rare identifier is strong evidence that a code search engine should not lose. So
:meth:`st_jce.search.Index.search` can add ``lexical_weight`` times a chunk's BM25 score (divided by the query's
best, so it lies in [0, 1] like a cosine) to its similarity, for a query of at least ``lexical_min_words`` words: a
short question is what embedding models are trained on, and the BM25 of its few plain words ranked worse
(docs/search.md).

Terms are what a developer would type or paste: every identifier in lower case, and, for one made of several
words (``snake_case``, ``camelCase``, ``_private``), each of its words as well, so that "expand modules"
finds ``expand_modules`` and ``ExpandModules`` alike. A chunk's document is its file's path, its qualified name
and its text, so a query that names a file (``qdp.py``, ``io/ascii``) matches every unit of that file.

Examples
--------
>>> terms("def _cstack(left, right): # camelCase HTTPServer")
['def', '_cstack', 'cstack', 'left', 'right', 'camelcase', 'camel', 'case', 'httpserver', 'http', 'server']
>>> bm25 = LexicalScorer(["def read_csv(path): ...", "def write_json(data): ...", "class CsvReader: ..."])
>>> [round(float(score), 2) for score in bm25.scores("the csv reader fails")]
[0.46, 0.0, 1.54]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The words of one identifier piece: "HTTPServer" -> HTTP, Server; "parseJSON2" -> parse, JSON, 2
WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# BM25's usual constants (Robertson and Zaragoza; Lucene's defaults): term frequency saturation, length norm.
K1, B = 1.2, 0.75


def terms(text: str) -> list[str]:
    """The lexical terms of ``text``: each identifier lower-cased, then its words where it has several."""
    found = []
    for identifier in IDENTIFIER.findall(text):
        found.append(identifier.lower())
        words = [word.lower() for piece in identifier.split("_") for word in WORD.findall(piece)]
        if words != [found[-1]]:  # several words, or one under underscores (_cstack: cstack)
            found.extend(words)
    return found


class LexicalScorer:
    """BM25 scores of a query against a fixed list of documents (a sparse matrix of each term's weight in each
    document, so that a query costs one sparse product).

    Parameters
    ----------
    documents : sequence of str
        The texts scored, in row order.
    """

    def __init__(self, documents: Sequence[str]) -> None:
        self.vocabulary: dict[str, int] = {}
        rows, columns, counts = [], [], []
        for row, document in enumerate(documents):
            ids, frequency = np.unique([self.vocabulary.setdefault(term, len(self.vocabulary))
                                        for term in terms(document)], return_counts=True)
            rows.append(np.full(len(ids), row))
            columns.append(ids)
            counts.append(frequency)
        shape = (len(documents), len(self.vocabulary))
        if not self.vocabulary:
            self.weights = sparse.csc_matrix(shape, dtype=np.float32)
            return
        rows, columns, counts = (np.concatenate(parts) for parts in (rows, columns, counts))
        lengths = np.bincount(rows, weights=counts, minlength=len(documents))
        document_frequency = np.bincount(columns, minlength=len(self.vocabulary))
        idf = np.log1p((len(documents) - document_frequency + 0.5) / (document_frequency + 0.5))
        norm = K1 * (1 - B + B * lengths[rows] / max(lengths.mean(), 1e-9))
        weight = idf[columns] * counts * (K1 + 1) / (counts + norm)
        self.weights = sparse.csc_matrix((weight.astype(np.float32), (rows, columns)), shape=shape)

    def scores(self, query: str) -> np.ndarray:
        """Each document's BM25 score for ``query`` (each distinct query term counted once), float32."""
        ids = sorted({self.vocabulary[term] for term in terms(query) if term in self.vocabulary})
        if not ids:
            return np.zeros(self.weights.shape[0], dtype=np.float32)
        return np.asarray(self.weights[:, ids].sum(axis=1), dtype=np.float32).ravel()

    def normalized_scores(self, query: str) -> np.ndarray:
        """:meth:`scores` divided by the best one (all zeros when no document shares a term with ``query``)."""
        found = self.scores(query)
        best = found.max(initial=0.0)
        return found / best if best > 0 else found
