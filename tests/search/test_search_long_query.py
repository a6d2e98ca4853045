"""A query longer than the model's ``max_seq_length`` is searched by its first tokens and said to be: a warning
(token count, limit, the part kept) and a flag on the results, checked against the model's own tokenizer and
encoder."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from search_helpers import QUERIES, write_tree

from st_jce.cli import main
from st_jce.search import Index, build_index

LONG_QUERY = "read the rows of a csv file into a list of dicts keyed by the header, " * 60


@pytest.fixture(scope="module")
def index_dir(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("long-query")
    build_index(write_tree(root / "tree"), root / "index", tiny_model_dir, show_progress=False)
    return root / "index"


def tokens_of(model, query: str) -> int:
    """The query's tokens as the model reads it uncut: its nl2code query prefix, the text, the closing EOS."""
    return len(model.tokenizer(model.prompts["nl2code_query"] + query, verbose=False)["input_ids"])


def st_jce_warnings(caplog) -> list[str]:
    """What st-jce itself warned of (transformers' own loggers propagate in some environments)."""
    return [record.getMessage() for record in caplog.records
            if record.levelno == logging.WARNING and record.name.startswith("st_jce")]


def test_a_long_query_is_flagged_and_warned_of_once(tiny_model, index_dir, caplog):
    tokens, limit = tokens_of(tiny_model, LONG_QUERY), tiny_model.max_seq_length
    assert tokens > limit
    with caplog.at_level(logging.WARNING, logger="st_jce.search"):
        hits = Index(index_dir, model=tiny_model).search(LONG_QUERY, k=3)
    assert (hits.query_truncated, hits.query_tokens) == (True, tokens)
    warnings = st_jce_warnings(caplog)
    assert len(warnings) == 1
    assert f"{tokens} tokens" in warnings[0] and f"max_seq_length of {limit}" in warnings[0]
    assert f"the first {len(hits.query_length.kept_text)} of its {len(LONG_QUERY)} characters" in warnings[0]


def test_the_kept_part_is_what_the_model_reads(tiny_model, index_dir):
    kept = Index(index_dir, model=tiny_model).search(LONG_QUERY, k=1).query_length.kept_text
    assert LONG_QUERY.startswith(kept) and 0 < len(kept) < len(LONG_QUERY)
    assert tokens_of(tiny_model, kept) == tiny_model.max_seq_length  # the whole budget, and no more
    whole, start = tiny_model.encode_query([LONG_QUERY, kept], task_type="nl2code", convert_to_numpy=True)
    np.testing.assert_allclose(whole, start, atol=1e-5)  # the model embeds the long query as its kept start
    index = Index(index_dir, model=tiny_model)
    assert [hit.id for hit in index.search(LONG_QUERY, k=5)] == [hit.id for hit in index.search(kept, k=5)]


def test_a_query_within_the_limit_is_not_flagged(tiny_model, index_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="st_jce.search"):
        results = Index(index_dir, model=tiny_model).search([QUERIES[0], LONG_QUERY, QUERIES[1]], k=2, by="file")
    assert [result.query_truncated for result in results] == [False, True, False]
    assert [result.query_tokens for result in results] == [tokens_of(tiny_model, query)
                                                           for query in (QUERIES[0], LONG_QUERY, QUERIES[1])]
    assert len(st_jce_warnings(caplog)) == 1


def test_cli_warns_on_stderr_and_flags_the_json(tiny_model, index_dir, capsys):
    assert main(["search", str(index_dir), LONG_QUERY, "-k", "2", "--json"]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("st-jce search: warning:")]
    assert len(warnings) == 1
    assert f"{tokens_of(tiny_model, LONG_QUERY)} tokens" in warnings[0]
    assert f"max_seq_length of {tiny_model.max_seq_length}" in warnings[0]
    hits = json.loads(captured.out)
    assert len(hits) == 2
    assert all(hit["query_truncated"] is True and hit["query_tokens"] == tokens_of(tiny_model, LONG_QUERY)
               for hit in hits)


def test_cli_says_nothing_of_a_short_query(index_dir, capsys):
    assert main(["search", str(index_dir), QUERIES[0], "-k", "2", "--by", "file", "--json"]) == 0
    captured = capsys.readouterr()
    assert "st-jce search: warning" not in captured.err
    assert all("query_truncated" not in file for file in json.loads(captured.out))
