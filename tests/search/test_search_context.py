"""Context scores (st_jce.search.context): every unit's context named by hand, and rankings against one
recomputed here from this suite's own embeddings of every chunk."""

from __future__ import annotations

import json

import numpy as np
import pytest
from search_helpers import QUERIES, TREE, brute_force, write_tree
from sentence_transformers.util import cos_sim

from st_jce.search import Index, build_index
from st_jce.search.chunking import chunk_source
from st_jce.search.context import UnitContexts
from st_jce.search.index import WINDOWS_PER_UNIT
from st_jce.search.store import ShardStore

NESTED = {
    **TREE,
    "shapes/polygon.py": (
        '"""Polygons and their sides."""\n\n\n'
        "class Polygon:\n"
        '    """A closed chain of sides."""\n\n'
        "    class Side:\n"
        "        def length(self):\n            return abs(self.end - self.start)\n\n"
        "    def perimeter(self):\n        return sum(side.length() for side in self.sides)\n"
    ),
    "web/long.lua": "".join(f"local value{i} = {i} * 2\n" for i in range(130)),  # three line windows
}


def _chunks(files):
    return [chunk for path, text in files.items() if path.endswith((".py", ".lua"))
            for chunk in chunk_source(text, path)]


def test_each_unit_is_scored_with_its_enclosing_unit():
    chunks = _chunks(NESTED)
    contexts = UnitContexts([chunk.path for chunk in chunks], [chunk.name for chunk in chunks],
                            [chunk.kind for chunk in chunks])
    context_of = {}
    for row, chunk in enumerate(chunks):
        named = {(chunks[member].kind, chunks[member].name or chunks[member].id) for member in contexts.context_rows(row)}
        context_of.setdefault((chunk.path, chunk.name or chunk.id), set()).update(named)
    windows = {("lines", chunk.id) for chunk in chunks if chunk.path == "web/long.lua"}
    assert len(windows) == 3
    expected = {
        ("shapes/circle.py", "Circle.area"): {("class", "Circle")},
        ("shapes/circle.py", "Circle.scale"): {("class", "Circle")},
        ("shapes/circle.py", "Circle"): {("module", "shapes.circle")},
        ("shapes/polygon.py", "Polygon.Side.length"): {("class", "Polygon.Side")},
        ("shapes/polygon.py", "Polygon.Side"): {("class", "Polygon")},
        ("shapes/polygon.py", "Polygon.perimeter"): {("class", "Polygon")},
        ("io/csv_tools.py", "read_rows"): {("module", "io.csv_tools")},
        ("text/words.py", "count_words"): set(),  # a file of functions alone: no module-level code
        ("io/csv_tools.py", "io.csv_tools"): set(),  # module-level code has no context
        **{("web/long.lua", chunk_id): windows for _, chunk_id in windows},
    }
    assert {key: context_of[key] for key in expected} == expected


def _expected_ranking(chunks, similarity, weight):
    """(id, score) of every unit, best first: the best window's similarity plus ``weight`` times the best
    similarity of the rows of its context, found here by name."""
    rows = range(len(chunks["id"]))

    def best_of(wanted):
        scores = [similarity[row] for row in rows if wanted(row)]
        return max(scores) if scores else 0.0

    def context(row):
        path, name, kind = chunks["path"][row], chunks["name"][row], chunks["kind"][row]
        def same_file(other, other_kind):
            return chunks["path"][other] == path and chunks["kind"][other] == other_kind

        if kind == "method" or (kind == "class" and "." in name):
            return best_of(lambda other: same_file(other, "class") and chunks["name"][other] == name.rsplit(".", 1)[0])
        if kind in ("function", "class"):
            return best_of(lambda other: same_file(other, "module"))
        return best_of(lambda other: same_file(other, "lines")) if kind == "lines" else 0.0

    best_window = {}
    for row in sorted(rows, key=lambda row: (-similarity[row], row)):
        unit = (chunks["path"][row], chunks["name"][row]) if chunks["kind"][row] in ("function", "method", "class") else row
        best_window.setdefault(unit, row)
    scored = [(similarity[row] + weight * context(row), row) for row in best_window.values()]
    return [(chunks["id"][row], score) for score, row in sorted(scored, key=lambda pair: (-pair[0], pair[1]))]


@pytest.mark.parametrize("approximate", ["never", "always"])
@pytest.mark.parametrize("weight", [0.5, 2.0])
def test_hits_rank_by_similarity_plus_the_weighted_best_of_their_context(tiny_model, tmp_path, graph_depths,
                                                                         approximate, weight):
    build_index(write_tree(tmp_path / "tree", NESTED), tmp_path / "index", tiny_model, approximate=approximate,
                show_progress=False)
    chunks = ShardStore(tmp_path / "index").read(["id", "path", "name", "kind"]).to_pydict()
    _, documents, queries = brute_force(tiny_model, tmp_path / "index")
    index = Index(tmp_path / "index", model=tiny_model)
    assert index.has_approximate == (approximate == "always")
    for query, similarity in zip(QUERIES, cos_sim(queries, documents).numpy()):
        expected = _expected_ranking(chunks, similarity, weight)
        for k in (1, 3, len(expected)):  # small k: the approximate search must look past its first candidates
            hits = index.search(query, k=k, context_weight=weight, tests="ranked")
            assert [hit.id for hit in hits] == [chunk_id for chunk_id, _ in expected[:k]]
            np.testing.assert_allclose([hit.score for hit in hits], [score for _, score in expected[:k]], atol=1e-5)
            np.testing.assert_allclose([hit.score for hit in hits],
                                       [hit.similarity + weight * hit.context_similarity for hit in hits], atol=1e-6)
    assert bool(graph_depths) == (approximate == "always")


def test_the_approximate_search_looks_past_its_candidates_for_a_unit_its_context_lifts(tiny_model, tmp_path,
                                                                                       graph_depths):
    build_index(write_tree(tmp_path / "tree", NESTED), tmp_path / "index", tiny_model, approximate="always",
                show_progress=False)
    index = Index(tmp_path / "index", model=tiny_model)
    rng = np.random.default_rng(0)
    # Queries between two stored vectors: near the index's vectors, as real queries are.
    pairs = index.vectors[rng.integers(0, len(index), (100, 2))]
    queries = pairs.sum(axis=1) + 0.1 * rng.standard_normal(pairs[:, 0].shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    queries = np.concatenate([queries, -queries])  # and far from every vector: negative similarities throughout
    lifted = 0
    for query in queries:
        exact = index.search_embeddings(query[None], k=1, exact=True, context_weight=2.0)[0]
        approximate = index.search_embeddings(query[None], k=1, exact=False, context_weight=2.0)[0]
        assert [(hit.id, round(hit.score, 5)) for hit in approximate] == [(hit.id, round(hit.score, 5)) for hit in exact]
        rows, _ = index.top_k(query[None], len(index), exact=True)
        by_similarity = [index.chunks["id"][row] for row in rows[0]]
        lifted += by_similarity.index(exact[0].id) >= WINDOWS_PER_UNIT  # below the first candidates fetched
    assert lifted  # some winners came from below the first candidates,
    assert max(graph_depths) > WINDOWS_PER_UNIT  # and the graph was asked to look past them


def test_a_corpus_ranks_by_similarity_alone(tiny_model, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"_id": f"d{i}", "text": text}) + "\n" for i, text in enumerate(
        ["def area(r): return 3.14 * r * r", "read a csv file", "count words", "say hello to a name"])))
    build_index(corpus, tmp_path / "index", tiny_model, show_progress=False)
    index = Index(tmp_path / "index", model=tiny_model)
    assert not index.contexts.has_contexts
    for query in QUERIES:
        hits, plain = index.search(query, k=4), index.search(query, k=4, context_weight=0)
        assert [(hit.id, hit.score) for hit in hits] == [(hit.id, hit.similarity) for hit in plain]


@pytest.mark.parametrize("arguments, message", [({"context_weight": -0.5}, "context_weight=-0.5: use a weight >= 0"),
                                                ({"k": 0}, "k=0: ask for at least one hit"),
                                                ({"k": 2.5}, "k=2.5: ask for at least one hit")])
def test_a_negative_weight_or_a_k_below_one_is_refused(tiny_model, code_tree, tmp_path, arguments, message):
    build_index(code_tree, tmp_path / "index", tiny_model, show_progress=False)
    with pytest.raises(ValueError, match=message):
        Index(tmp_path / "index", model=tiny_model).search("area", **arguments)
