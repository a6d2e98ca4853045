"""Turn a BEIR-layout retrieval dataset (corpus, queries, qrels) into (query, document) training pairs.

The CoIR datasets on the Hub (``CoIR-Retrieval/*``) use this layout: a ``corpus`` and a ``queries``
config (``_id``, ``text``, optionally ``title``; one split each) and a qrels config (``query-id``,
``corpus-id``, ``score``) whose splits are ``train`` / ``valid`` / ``test``. Multilingual ones prefix the
configs with the language (``python-corpus``, ``python-queries``, ``python-qrels``).

Examples
--------
>>> from datasets import Dataset
>>> corpus = Dataset.from_dict({"_id": ["d1", "d2"], "title": ["", ""], "text": ["def add(a, b): ...", "SELECT 1"]})
>>> queries = Dataset.from_dict({"_id": ["q1"], "text": ["add two numbers"]})
>>> qrels = Dataset.from_dict({"query-id": ["q1"], "corpus-id": ["d1"], "score": [1]})
>>> join_qrels(corpus, queries, qrels)[0]
{'query': 'add two numbers', 'document': 'def add(a, b): ...'}
"""

from __future__ import annotations

import logging

import datasets

logger = logging.getLogger(__name__)


def _text(row_title: str | None, row_text: str | None) -> str:
    # mteb scores a corpus document as "title text", so training sees documents the same way.
    return f"{row_title or ''} {row_text or ''}".strip()


def join_qrels(corpus: datasets.Dataset, queries: datasets.Dataset, qrels: datasets.Dataset,
               min_score: int = 1) -> datasets.Dataset:
    """One (query text, document text) row per qrels line with ``score >= min_score``.

    Qrels lines whose query or document id is missing are skipped and counted in the log.
    """
    titles = corpus["title"] if "title" in corpus.column_names else [None] * len(corpus)
    documents = {str(i): _text(title, text) for i, title, text in zip(corpus["_id"], titles, corpus["text"])}
    query_texts = {str(i): text for i, text in zip(queries["_id"], queries["text"])}
    pairs, missing = [], 0
    for query_id, corpus_id, score in zip(qrels["query-id"], qrels["corpus-id"], qrels["score"]):
        if score < min_score:
            continue
        query, document = query_texts.get(str(query_id)), documents.get(str(corpus_id))
        if query is None or document is None:
            missing += 1
            continue
        pairs.append((query, document))
    if missing:
        logger.warning("Skipped %d qrels lines whose query or document id is not in the data.", missing)
    return datasets.Dataset.from_dict({"query": [q for q, _ in pairs], "document": [d for _, d in pairs]})


def _only_split(loaded: datasets.Dataset | datasets.DatasetDict, what: str) -> datasets.Dataset:
    if isinstance(loaded, datasets.Dataset):
        return loaded
    if len(loaded) != 1:
        raise ValueError(f"Expected one split in the {what} config, found {list(loaded)}.")
    return next(iter(loaded.values()))


def load_beir_pairs(hub_id: str, split: str, language: str | None = None,
                    revision: str | None = None) -> datasets.Dataset:
    """(query, document) pairs of one split of a BEIR-layout Hub dataset (optionally one language's configs)."""
    corpus_config, queries_config, qrels_config = (
        (f"{language}-corpus", f"{language}-queries", f"{language}-qrels") if language
        else ("corpus", "queries", "default"))
    corpus = _only_split(datasets.load_dataset(hub_id, corpus_config, revision=revision), f"{hub_id} corpus")
    queries = _only_split(datasets.load_dataset(hub_id, queries_config, revision=revision), f"{hub_id} queries")
    qrels = datasets.load_dataset(hub_id, qrels_config, split=split, revision=revision)
    return join_qrels(corpus, queries, qrels)
