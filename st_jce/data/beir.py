"""The BEIR layout (corpus, queries, qrels), read from a local folder or from the Hub, checked in one place.

A local folder (BEIR's own downloads, or one written in that layout) holds ``corpus.jsonl`` and ``queries.jsonl``
with one ``{"_id": str, "text": str}`` object per line (the corpus may add ``"title"``), and ``qrels.tsv``
(or BEIR's ``qrels/test.tsv``) with the header ``query-id<TAB>corpus-id<TAB>score``. The CoIR datasets on
the Hub (``CoIR-Retrieval/*``) hold the same tables as a ``corpus`` and a ``queries`` config (one split each)
and a qrels config (``default``) whose splits are ``train`` / ``valid`` / ``test``; multilingual ones prefix
the configs with the language (``python-corpus``, ``python-queries``, ``python-qrels``).

Both are checked by the same rules: string ids and texts, unique ids, non-blank texts, integer scores, and
qrels that point at ids present in the queries and the corpus. ``strict=True`` (the default of local
folders, which a user can fix) raises a :class:`BeirFormatError` naming the file, the line and the fix;
``strict=False`` (the default of Hub datasets, which a user cannot fix) skips what breaks a rule and logs
how much it skipped, and why.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "corpus.jsonl").write_text('{"_id": "d1", "title": "add", "text": "def add(a, b): return a + b"}\\n')
>>> _ = (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "add two numbers"}\\n')
>>> _ = (folder / "qrels.tsv").write_text("query-id\\tcorpus-id\\tscore\\nq1\\td1\\t1\\n")
>>> data = read_beir_folder(folder)
>>> data.qrels
{'q1': {'d1': 1}}
>>> data.pairs()[0]
{'query': 'add two numbers', 'document': 'add def add(a, b): return a + b'}
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

QRELS_CANDIDATES = ("qrels.tsv", "qrels/test.tsv")
QRELS_HEADER = ("query-id", "corpus-id", "score")


class BeirFormatError(ValueError):
    """A retrieval dataset breaks the BEIR layout; the message names the file, the line and the fix."""


@dataclass
class BeirData:
    """The checked contents of a BEIR-layout dataset.

    Attributes
    ----------
    source : str
        The folder or Hub id it was read from.
    corpus : dict
        Document id -> ``{"title": str, "text": str}`` (``title`` is ``""`` when there is none).
    queries : dict
        Query id -> text.
    qrels : dict
        Query id -> {document id: relevance score}.
    """

    source: str
    corpus: dict[str, dict[str, str]] = field(repr=False)
    queries: dict[str, str] = field(repr=False)
    qrels: dict[str, dict[str, int]] = field(repr=False)

    def pairs(self, min_score: int = 1):
        """``datasets.Dataset`` of (query, document) training pairs, one per qrel with ``score >= min_score``.

        A document reads ``"title text"``, as mteb scores it, so training sees documents the same way.
        """
        import datasets  # the training extra's; reading a folder for evaluation does not need it

        rows = [(self.queries[query_id], document_text(self.corpus[doc_id]))
                for query_id, scores in self.qrels.items() for doc_id, score in scores.items() if score >= min_score]
        return datasets.Dataset.from_dict({"query": [query for query, _ in rows],
                                           "document": [document for _, document in rows]})


def document_text(document: dict[str, str]) -> str:
    """A corpus document as one text: ``"title text"`` (mteb's convention), or the text alone."""
    return f"{document.get('title') or ''} {document['text']}".strip()


def read_beir_folder(path: str | os.PathLike, *, strict: bool = True) -> BeirData:
    """Read and check ``corpus.jsonl``, ``queries.jsonl`` and ``qrels.tsv`` of the folder ``path``.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    BeirFormatError
        With ``strict``: for a line that is not a JSON object, lacks ``_id`` / ``text``, repeats an id, has
        empty text, or a qrel that is malformed or points at an id missing from the queries / corpus; and
        for a file without records.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a directory: a BEIR folder holds corpus.jsonl, queries.jsonl and "
                                "qrels.tsv.")
    checks = _Checks(strict, str(folder))
    corpus_file, queries_file, qrels_file = folder / "corpus.jsonl", folder / "queries.jsonl", _qrels_file(folder)
    corpus = checks.records(str(corpus_file), _jsonl_lines(corpus_file), optional_keys=("title",))
    queries = checks.records(str(queries_file), _jsonl_lines(queries_file))
    qrels = checks.qrels(str(qrels_file), _tsv_qrels(qrels_file), queries, corpus)
    checks.log_skipped()
    return _beir_data(str(folder), corpus, queries, qrels)


def load_beir_hub(hub_id: str, split: str, language: str | None = None, revision: str | None = None, *,
                  strict: bool = False) -> BeirData:
    """One split of a BEIR-layout Hub dataset (optionally one language's configs), checked like a folder."""
    import datasets

    corpus_config, queries_config, qrels_config = (
        (f"{language}-corpus", f"{language}-queries", f"{language}-qrels") if language
        else ("corpus", "queries", "default"))
    checks = _Checks(strict, hub_id)

    def table(config: str) -> tuple[str, Iterator[tuple[str, dict]]]:
        loaded = datasets.load_dataset(hub_id, config, revision=revision)
        if isinstance(loaded, datasets.DatasetDict):
            if len(loaded) != 1:
                raise BeirFormatError(f"{hub_id}: expected one split in the {config!r} config, found {list(loaded)}.")
            loaded = next(iter(loaded.values()))
        return f"{hub_id} [{config}]", _rows(loaded, f"{hub_id} [{config}]")

    corpus = checks.records(*table(corpus_config), optional_keys=("title",))
    queries = checks.records(*table(queries_config))
    qrels_rows = datasets.load_dataset(hub_id, qrels_config, split=split, revision=revision)
    qrels_name = f"{hub_id} [{qrels_config}/{split}]"
    qrels = checks.qrels(qrels_name, ((where, (row["query-id"], row["corpus-id"], row["score"]))
                                      for where, row in _rows(qrels_rows, qrels_name)), queries, corpus)
    checks.log_skipped()
    return _beir_data(hub_id, corpus, queries, qrels)


def load_beir_pairs(hub_id: str, split: str, language: str | None = None, revision: str | None = None):
    """(query, document) training pairs of one split of a BEIR-layout Hub dataset (:meth:`BeirData.pairs`)."""
    return load_beir_hub(hub_id, split, language, revision).pairs()


def _beir_data(source: str, corpus: dict[str, dict], queries: dict[str, dict], qrels: dict[str, dict[str, int]]
               ) -> BeirData:
    """:class:`BeirData` from checked records: documents keep title and text, queries their text."""
    return BeirData(source, {doc_id: {"title": record.get("title") or "", "text": record["text"]}
                             for doc_id, record in corpus.items()},
                    {query_id: record["text"] for query_id, record in queries.items()}, qrels)


class _Checks:
    """The BEIR rules, applied strictly (raise) or leniently (skip and count)."""

    def __init__(self, strict: bool, source: str) -> None:
        self.strict = strict
        self.source = source
        self.skipped: Counter[str] = Counter()

    def reject(self, message: str, reason: str) -> None:
        if self.strict:
            raise BeirFormatError(message)
        self.skipped[reason] += 1

    def records(self, name: str, lines: Iterable[tuple[str, Any]], optional_keys: tuple[str, ...] = ()
                ) -> dict[str, dict]:
        records: dict[str, dict] = {}
        seen: dict[str, str] = {}
        for where, record in lines:
            if not isinstance(record, dict):
                self.reject(f"{where}: expected a JSON object with '_id' and 'text', got {type(record).__name__}.",
                            "not an object")
                continue
            bad_key = next((key for key in ("_id", "text") if not isinstance(record.get(key), str)), None)
            if bad_key is not None:
                self.reject(f"{where}: '{bad_key}' must be a string, got {record.get(bad_key)!r:.60}; give every "
                            "record a string '_id' and 'text'.", f"no string {bad_key}")
                continue
            bad_optional = next((key for key in optional_keys
                                 if record.get(key) is not None and not isinstance(record[key], str)), None)
            if bad_optional is not None:
                self.reject(f"{where}: '{bad_optional}' must be a string when present, got "
                            f"{record[bad_optional]!r:.60}.", f"non-string {bad_optional}")
                continue
            if not record["text"].strip():
                self.reject(f"{where}: empty text for _id {record['_id']!r}; remove the record or give it text (an "
                            "empty text cannot be embedded meaningfully).", "empty text")
                continue
            if record["_id"] in seen:
                self.reject(f"{where}: _id {record['_id']!r} already used on {seen[record['_id']]}; ids must be "
                            "unique within a file.", "repeated id")
                continue
            seen[record["_id"]] = where.rsplit(", ", 1)[-1]
            records[record["_id"]] = record
        if not records:
            raise BeirFormatError(f"{name} has no records"
                                  f"{' (' + self._skipped_text() + ')' if self.skipped else ''}: add one "
                                  '{"_id": ..., "text": ...} object per line.')
        return records

    def qrels(self, name: str, lines: Iterable[tuple[str, tuple[Any, Any, Any]]], queries: dict, corpus: dict
              ) -> dict[str, dict[str, int]]:
        qrels: dict[str, dict[str, int]] = {}
        for where, (query_id, doc_id, score) in lines:
            query_id, doc_id = str(query_id), str(doc_id)
            try:
                relevance = int(score)
            except (TypeError, ValueError):
                self.reject(f"{where}: score {score!r} is not an integer; use 1 for relevant (or a graded integer "
                            "relevance).", "non-integer score")
                continue
            if query_id not in queries:
                self.reject(f"{where}: query-id {query_id!r} is not in the queries; add the query or remove the "
                            "line.", "unknown query id")
                continue
            if doc_id not in corpus:
                self.reject(f"{where}: corpus-id {doc_id!r} is not in the corpus; add the document or remove the "
                            "line.", "unknown corpus id")
                continue
            qrels.setdefault(query_id, {})[doc_id] = relevance
        if not qrels:
            raise BeirFormatError(f"{name} has no relevance judgements"
                                  f"{' (' + self._skipped_text() + ')' if self.skipped else ''}: add "
                                  "'query-id<TAB>corpus-id<TAB>score' lines.")
        return qrels

    def _skipped_text(self) -> str:
        return ", ".join(f"{count} {reason}" for reason, count in self.skipped.most_common())

    def log_skipped(self) -> None:
        if self.skipped:
            logger.warning("%s: skipped %d records / qrels that break the BEIR layout (%s).", self.source,
                           sum(self.skipped.values()), self._skipped_text())


def _rows(table, name: str) -> Iterator[tuple[str, dict]]:
    """The rows of a ``datasets.Dataset`` as dicts, read a column batch at a time (row access is slow); ids
    as strings, as in the JSON Lines files."""
    number = 0
    for batch in table.iter(batch_size=10_000):
        for values in zip(*batch.values()):
            row = dict(zip(batch, values))
            for key in ("_id", "query-id", "corpus-id"):
                if row.get(key) is not None:
                    row[key] = str(row[key])
            yield f"{name}, row {number}", row
            number += 1


def _jsonl_lines(file: Path) -> Iterator[tuple[str, Any]]:
    if not file.is_file():
        raise FileNotFoundError(f"{file} is missing: a BEIR folder needs corpus.jsonl and queries.jsonl with one "
                                '{"_id": ..., "text": ...} object per line.')
    with file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{file}, line {number}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as error:
                raise BeirFormatError(f"{where}: not valid JSON ({error.msg} at column {error.colno}). Each line "
                                      'must be one JSON object such as {"_id": "d1", "text": "..."}.') from None


def _qrels_file(folder: Path) -> Path:
    for candidate in QRELS_CANDIDATES:
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(f"{folder} has no {' or '.join(QRELS_CANDIDATES)}: add the relevance judgements as "
                            "tab-separated 'query-id corpus-id score' lines under that header.")


def _tsv_qrels(file: Path) -> Iterator[tuple[str, tuple[str, str, str]]]:
    with file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            if number == 1 and tuple(fields) == QRELS_HEADER:
                continue
            where = f"{file}, line {number}"
            if len(fields) != 3:
                raise BeirFormatError(f"{where}: expected 3 tab-separated fields (query-id, corpus-id, score), got "
                                      f"{len(fields)}: {line.rstrip()!r:.80}.")
            yield where, tuple(fields)
