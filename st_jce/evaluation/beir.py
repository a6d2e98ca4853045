"""Read a local BEIR / MTEB retrieval folder, checking every line.

The layout is the one of ``../shared/data`` and of BEIR: ``corpus.jsonl`` and ``queries.jsonl`` with one
``{"_id": str, "text": str}`` object per line (the corpus may add ``"title"``), and ``qrels.tsv`` (or BEIR's
``qrels/test.tsv``) with the header ``query-id<TAB>corpus-id<TAB>score``. A problem is reported as a
:class:`BeirFormatError` that names the file and the line, so it can be fixed without a debugger.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from st_jce.evaluation import read_beir_folder
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": "def add(a, b): return a + b"}\\n')
>>> _ = (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "add two numbers"}\\n')
>>> _ = (folder / "qrels.tsv").write_text("query-id\\tcorpus-id\\tscore\\nq1\\td1\\t1\\n")
>>> data = read_beir_folder(folder)
>>> data.qrels
{'q1': {'d1': 1}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

QRELS_CANDIDATES = ("qrels.tsv", "qrels/test.tsv")
QRELS_HEADER = ("query-id", "corpus-id", "score")


class BeirFormatError(ValueError):
    """A local retrieval folder breaks the BEIR layout; the message names the file, the line and the fix."""


@dataclass
class BeirFolder:
    """The checked contents of a BEIR folder.

    Attributes
    ----------
    path : Path
        The folder.
    corpus : dict
        Document id -> ``{"title": str, "text": str}`` (``title`` is ``""`` when the file has none).
    queries : dict
        Query id -> text.
    qrels : dict
        Query id -> {document id: relevance score}.
    """

    path: Path
    corpus: dict[str, dict[str, str]] = field(repr=False)
    queries: dict[str, str] = field(repr=False)
    qrels: dict[str, dict[str, int]] = field(repr=False)


def read_beir_folder(path: str | os.PathLike) -> BeirFolder:
    """Read and check ``corpus.jsonl``, ``queries.jsonl`` and ``qrels.tsv`` of the folder ``path``.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    BeirFormatError
        For a line that is not a JSON object, lacks ``_id`` / ``text``, repeats an id, has empty text, or
        a qrel that is malformed or points at an id missing from ``queries.jsonl`` / ``corpus.jsonl``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a directory: --data expects a folder holding corpus.jsonl, "
                                "queries.jsonl and qrels.tsv.")
    corpus = {doc_id: {"title": record.get("title") or "", "text": record["text"]}
              for doc_id, record in _read_jsonl(folder / "corpus.jsonl", optional_keys=("title",))}
    queries = {query_id: record["text"] for query_id, record in _read_jsonl(folder / "queries.jsonl")}
    qrels = _read_qrels(_qrels_file(folder), queries, corpus)
    return BeirFolder(path=folder, corpus=corpus, queries=queries, qrels=qrels)


def _read_jsonl(file: Path, optional_keys: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    if not file.is_file():
        raise FileNotFoundError(f"{file} is missing: a BEIR folder needs corpus.jsonl and queries.jsonl with one "
                                '{"_id": ..., "text": ...} object per line.')
    records, seen = [], {}
    with file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{file}, line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BeirFormatError(f"{where}: not valid JSON ({error.msg} at column {error.colno}). Each line "
                                      'must be one JSON object such as {"_id": "d1", "text": "..."}.') from None
            if not isinstance(record, dict):
                raise BeirFormatError(f"{where}: expected a JSON object with '_id' and 'text', got "
                                      f"{type(record).__name__}.")
            for key in ("_id", "text"):
                if not isinstance(record.get(key), str):
                    raise BeirFormatError(f"{where}: '{key}' must be a string, got {record.get(key)!r:.60}; "
                                          "give every line a string '_id' and 'text'.")
            for key in optional_keys:
                if record.get(key) is not None and not isinstance(record[key], str):
                    raise BeirFormatError(f"{where}: '{key}' must be a string when present, got {record[key]!r:.60}.")
            if not record["text"].strip():
                raise BeirFormatError(f"{where}: empty text for _id {record['_id']!r}; remove the line or give it "
                                      "text (an empty text cannot be embedded meaningfully).")
            if record["_id"] in seen:
                raise BeirFormatError(f"{where}: _id {record['_id']!r} already used on line {seen[record['_id']]}; "
                                      "ids must be unique within a file.")
            seen[record["_id"]] = number
            records.append((record["_id"], record))
    if not records:
        raise BeirFormatError(f"{file} has no records: add one JSON object per line.")
    return records


def _qrels_file(folder: Path) -> Path:
    for candidate in QRELS_CANDIDATES:
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(f"{folder} has no {' or '.join(QRELS_CANDIDATES)}: add the relevance judgements as "
                            "tab-separated 'query-id corpus-id score' lines under that header.")


def _read_qrels(file: Path, queries: dict[str, str], corpus: dict[str, dict]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
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
            query_id, doc_id, score = fields
            try:
                relevance = int(score)
            except ValueError:
                raise BeirFormatError(f"{where}: score {score!r} is not an integer; use 1 for relevant "
                                      "(or a graded integer relevance).") from None
            if query_id not in queries:
                raise BeirFormatError(f"{where}: query-id {query_id!r} is not in queries.jsonl; add the query or "
                                      "remove the line.")
            if doc_id not in corpus:
                raise BeirFormatError(f"{where}: corpus-id {doc_id!r} is not in corpus.jsonl; add the document or "
                                      "remove the line.")
            qrels.setdefault(query_id, {})[doc_id] = relevance
    if not qrels:
        raise BeirFormatError(f"{file} has no relevance judgements: add 'query-id<TAB>corpus-id<TAB>score' lines.")
    return qrels
