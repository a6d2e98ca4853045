"""Lexical scores in search: BM25 over each chunk's path, name and text, recomputed here from its textbook
formula, added to the cosine similarity at ``lexical_weight`` for queries of ``lexical_min_words`` words or more;
a query that names an identifier finds its unit whatever the embeddings say."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pytest
from search_helpers import write_tree

from st_jce.cli import main
from st_jce.search import Index, build_index
from st_jce.search.lexical import LexicalScorer, terms
from st_jce.search.settings import LEXICAL_MIN_WORDS

QUERY = "TypeError in read_rows when the CSV file is empty (io/csv_tools.py)"


def words(count: int) -> str:
    """A query of ``count`` words (a bug report's length, or a question's) that names ``read_rows``."""
    return " ".join((["read_rows", "fails", "on", "an", "empty", "CSV", "file"] * count)[:count])


@pytest.fixture(scope="module")
def index_dir(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("lexical")
    build_index(write_tree(root / "tree"), root / "index", tiny_model_dir, show_progress=False)
    return root / "index"


def textbook_bm25(query_terms: set[str], documents: list[list[str]], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 (Robertson and Zaragoza 2009, with Lucene's non-negative idf), one document at a time."""
    average = sum(map(len, documents)) / len(documents)
    scores = []
    for document in documents:
        counts, score = Counter(document), 0.0
        for term in query_terms:
            having = sum(term in other for other in documents)
            if counts[term]:
                idf = math.log(1 + (len(documents) - having + 0.5) / (having + 0.5))
                score += idf * counts[term] * (k1 + 1) / (counts[term] + k1 * (1 - b + b * len(document) / average))
        scores.append(score)
    return scores


def test_terms_split_identifiers_into_their_words():
    assert terms("parseHTTPResponse _cstack csv_tools.py x2") == [
        "parsehttpresponse", "parse", "http", "response", "_cstack", "cstack", "csv_tools", "csv", "tools", "py", "x2",
        "x", "2"]
    assert terms("a (b) + 3") == ["a", "b"]  # numbers alone and punctuation are no terms


def test_scores_are_textbook_bm25():
    documents = ["def read_rows(path): return list(csv.DictReader(open(path)))", "def write_rows(path, rows): ...",
                 "class Circle: radius area", "the the the csv csv"]
    query = "read csv rows, the DictReader"
    expected = textbook_bm25(set(terms(query)), [terms(document) for document in documents])
    scorer = LexicalScorer(documents)
    np.testing.assert_allclose(scorer.scores(query), expected, rtol=1e-5)
    np.testing.assert_allclose(scorer.normalized_scores(query), np.array(expected) / max(expected), rtol=1e-5)
    assert not scorer.normalized_scores("nothing shared").any()
    assert not LexicalScorer([]).scores("csv").size


def test_hit_scores_add_the_weighted_lexical_score(tiny_model, index_dir):
    index = Index(index_dir, model=tiny_model)
    hits = index.search(QUERY, k=len(index), lexical_weight=0.7, lexical_min_words=0, context_weight=0.0, exact=True)
    # By hand: each chunk's BM25 over its path, name and text, divided by the best; its cosine to the query.
    documents = [terms(f"{path} {name}\n{text}")
                 for path, name, text in zip(index.chunks["path"], index.chunks["name"], index.chunks["text"])]
    bm25 = np.array(textbook_bm25(set(terms(QUERY)), documents))
    bm25 /= bm25.max()
    query = tiny_model.encode_query([QUERY], task_type="nl2code", convert_to_numpy=True)[0]
    row_of = {chunk_id: row for row, chunk_id in enumerate(index.chunks["id"])}
    for hit in hits:
        row = row_of[hit.id]
        assert hit.lexical == pytest.approx(bm25[row], abs=1e-5)
        assert hit.similarity == pytest.approx(float(index.vectors[row] @ query), abs=1e-4)
        assert hit.score == pytest.approx(hit.similarity + 0.7 * hit.lexical, abs=1e-5)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_a_named_identifier_ranks_first_at_a_high_weight(tiny_model, index_dir):
    index = Index(index_dir, model=tiny_model)
    for name in ("read_rows", "reverse_words", "scale"):
        query = f"an error is raised from {name} since the last release"
        assert index.search(query, k=1, lexical_weight=10.0, lexical_min_words=0)[0].name.endswith(name)
    assert all(hit.lexical == 0.0 for hit in index.search(QUERY, k=3, lexical_weight=0.0, lexical_min_words=0))


def test_a_short_query_is_the_dense_search(tiny_model, index_dir):
    index = Index(index_dir, model=tiny_model)
    for query in (QUERY, words(LEXICAL_MIN_WORDS - 1)):
        by_default, lexical_off = index.search(query, k=8), index.search(query, k=8, lexical_weight=0.0)
        assert [(hit.id, hit.score) for hit in by_default] == [(hit.id, hit.score) for hit in lexical_off]
        assert all(hit.lexical == 0.0 for hit in by_default)


def test_a_long_query_is_also_scored_lexically(tiny_model, index_dir):
    index = Index(index_dir, model=tiny_model)
    hits = {hit.name: hit for hit in index.search(words(LEXICAL_MIN_WORDS), k=len(index), context_weight=0.0)}
    assert hits["read_rows"].lexical == 1.0  # the unit the query names scores best
    assert all(hit.score == pytest.approx(hit.similarity + 0.3 * hit.lexical, abs=1e-5) for hit in hits.values())
    assert all(hit.lexical == 0.0 for hit in index.search(words(LEXICAL_MIN_WORDS), k=8, lexical_weight=0.0))


def test_search_embeddings_takes_the_query_texts(tiny_model, index_dir):
    index = Index(index_dir, model=tiny_model)
    embeddings, _ = index.embed_queries([QUERY])
    [from_embeddings] = index.search_embeddings(embeddings, k=5, tests="auto", query_texts=[QUERY], lexical_weight=0.5,
                                                lexical_min_words=0)
    from_text = index.search(QUERY, k=5, lexical_weight=0.5, lexical_min_words=0)
    assert any(hit.lexical for hit in from_text)
    assert [(hit.id, hit.score) for hit in from_embeddings] == [(hit.id, hit.score) for hit in from_text]
    with pytest.raises(ValueError, match="2 query texts for 1 embeddings"):
        index.search_embeddings(embeddings, query_texts=[QUERY, QUERY], lexical_weight=0.5)


def test_a_negative_weight_or_word_count_is_refused(tiny_model, index_dir):
    with pytest.raises(ValueError, match="lexical_weight=-0.1: use a weight >= 0"):
        Index(index_dir, model=tiny_model).search(QUERY, lexical_weight=-0.1)
    for count in (-1, 2.5):
        with pytest.raises(ValueError, match=f"lexical_min_words={count}: use an integer >= 0"):
            Index(index_dir, model=tiny_model).search(QUERY, lexical_min_words=count)


def test_the_cli_passes_the_weight(tiny_model_dir, index_dir, capsys):
    main(["search", str(index_dir), "reverse_words", "-k", "1", "--json", "--lexical-weight", "10",
          "--lexical-min-words", "0"])
    output = capsys.readouterr().out
    assert re.search(r'"name": "reverse_words"', output) and re.search(r'"lexical": 1\.0', output)
