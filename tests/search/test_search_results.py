"""Search results against computations made here: brute-force cosine top-k, sentence-transformers' own
quantized search, and approximate recall against exact."""

from __future__ import annotations

import numpy as np
import pytest
from search_helpers import QUERIES, brute_force, write_tree
from sentence_transformers.util import cos_sim, quantize_embeddings
from sentence_transformers.util.quantization import semantic_search_usearch

import st_jce
from st_jce.search import Index, build_index
from st_jce.search.approximate import approximate_top_k, build_approximate, open_approximate
from st_jce.search.store import ShardStore
from st_jce.search.vectors import exact_top_k, quantize


@pytest.mark.parametrize("dim", [None, 16])
def test_exact_search_is_brute_force_cosine_top_k(tiny_model, code_tree, tmp_path, dim):
    build_index(code_tree, tmp_path / "index", tiny_model, dim=dim, shard_size=3, show_progress=False)
    ids, documents, queries = brute_force(tiny_model, tmp_path / "index", dim)
    scores = cos_sim(queries, documents)  # cos_sim renormalizes: a Matryoshka truncation is compared at unit length
    index = Index(tmp_path / "index", model=tiny_model)
    for query, row in zip(QUERIES, scores):
        top = row.topk(5)
        hits = index.search(query, k=5, context_weight=0)  # similarity alone; the context: test_search_context.py
        assert [hit.id for hit in hits] == [ids[i] for i in top.indices.tolist()]
        np.testing.assert_allclose([hit.score for hit in hits], top.values.numpy(), atol=1e-5)


@pytest.mark.parametrize("precision", ["int8", "binary"])
def test_quantized_search_ranks_as_sentence_transformers_rescoring(tiny_model, code_tree, tmp_path, precision):
    manifest = build_index(code_tree, tmp_path / "index", tiny_model, precision=precision, show_progress=False)
    ids, documents, queries = brute_force(tiny_model, tmp_path / "index")
    ranges = np.asarray(manifest["int8_ranges"], dtype=np.float32) if precision == "int8" else None
    corpus = quantize_embeddings(documents.numpy(), precision=precision, ranges=ranges)
    assert np.abs(corpus.astype(int) - ShardStore(tmp_path / "index").embeddings().astype(int)).max() <= 1
    # exact=True and every document rescored: sentence-transformers' reference ranking for this precision
    expected, _ = semantic_search_usearch(queries.numpy(), corpus_embeddings=corpus, corpus_precision=precision,
                                          ranges=ranges, top_k=5, rescore_multiplier=len(ids), exact=True)
    index = Index(tmp_path / "index", model=tiny_model)
    for query, reference in zip(QUERIES, expected):
        assert ([hit.id for hit in index.search(query, k=5, context_weight=0)]
                == [ids[entry["corpus_id"]] for entry in reference])


@pytest.mark.parametrize("through", ["the graph", "brute force past the depth limit"])
def test_an_index_with_the_approximate_graph_returns_the_exact_hits(tiny_model, code_tree, tmp_path, request,
                                                                     through):
    depths = request.getfixturevalue("graph_depths") if through == "the graph" else []
    build_index(code_tree, tmp_path / "index", tiny_model, approximate="always", show_progress=False)
    index = Index(tmp_path / "index", model=tiny_model)
    assert index.has_approximate
    for query in QUERIES:  # a graph over a dozen vectors finds them all
        approximate, exact = index.search(query, k=5), index.search(query, k=5, exact=True)
        assert [hit.id for hit in approximate] == [hit.id for hit in exact]
        np.testing.assert_allclose([hit.score for hit in approximate], [hit.score for hit in exact], atol=1e-6)
    assert bool(depths) == (through == "the graph")  # a dozen rows: 1% of them is below one look


@pytest.mark.parametrize("precision", ["float32", "int8", "binary"])
def test_approximate_recall_at_10_against_exact(tmp_path, precision):
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((50, 64)).astype(np.float32)
    vectors = centers[rng.integers(0, 50, 3000)] + 0.3 * rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:100] + 0.05 * rng.standard_normal((100, 64)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ranges = np.vstack([vectors.min(axis=0), vectors.max(axis=0)]) if precision == "int8" else None
    stored = quantize(vectors, precision, ranges)
    build_approximate(stored, precision, tmp_path / "graph.usearch")
    exact_rows, exact_scores = exact_top_k(queries, stored, precision, ranges, k=10)
    rows, scores = approximate_top_k(open_approximate(tmp_path / "graph.usearch"), queries, stored, precision,
                                     ranges, k=10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact_rows)])
    assert recall >= 0.95
    found = rows == exact_rows
    np.testing.assert_allclose(scores[found], exact_scores[found], atol=1e-5)  # rescored: the exact scores


def test_a_function_split_into_windows_comes_back_once_as_its_best_window(tiny_qwen_dir, tmp_path):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", max_seq_length=64)  # long units split
    long_body = "".join(f"    total = total + {i} * radius\n" for i in range(40))
    tree = write_tree(tmp_path / "tree", {
        "geometry.py": f"def sum_of_areas(radius):\n    total = 0\n{long_body}    return total\n\n\n"
                       "def area(radius):\n    return 3.14 * radius * radius\n",
        "words.py": "def count_words(text):\n    return len(text.split())\n"})
    build_index(tree, tmp_path / "index", model, show_progress=False)
    chunks = ShardStore(tmp_path / "index").read(["id", "name"]).to_pydict()
    assert chunks["name"].count("sum_of_areas") > 2
    ids, documents, queries = brute_force(model, tmp_path / "index")
    index = Index(tmp_path / "index", model=model)
    for query, row in zip(QUERIES, cos_sim(queries, documents)):
        order = row.argsort(descending=True).tolist()
        every_window = [ids[i] for i in order[:4]]
        best_window = {}  # the first (best) window of each name, in score order
        for i in order:
            best_window.setdefault(chunks["name"][i], ids[i])
        assert [hit.id for hit in index.search(query, k=4, one_per_unit=False, context_weight=0)] == every_window
        assert [hit.id for hit in index.search(query, k=3, context_weight=0)] == list(best_window.values())[:3]


@pytest.mark.parametrize("context_weight", [0, 0.5])
def test_an_index_of_empty_files_finds_nothing(tiny_model, tmp_path, context_weight):
    build_index(write_tree(tmp_path / "tree", {"empty.py": "", "blank.py": "\n"}), tmp_path / "index", tiny_model,
                show_progress=False)
    index = Index(tmp_path / "index", model=tiny_model)
    assert len(index) == 0
    assert index.search("area of a circle", k=3, context_weight=context_weight) == []
