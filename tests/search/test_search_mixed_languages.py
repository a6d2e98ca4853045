"""A tree in several languages through ``build_index`` and ``Index.search`` / ``st-jce search``: each language's units
come back under their qualified names and hand-read line spans, embedded under their own header, and scored with
their enclosing unit as context, against this suite's own embeddings of every stored chunk."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
from search_helpers import QUERIES, TREE, brute_force, write_tree
from sentence_transformers.util import cos_sim

from st_jce.cli import main
from st_jce.search import Index, build_index

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"
COPIED = {"web/shapes.ts": "shapes.ts", "go/shapes.go": "shapes.go", "rust/shapes.rs": "shapes.rs",
          "java/Geometry.java": "Geometry.java", "scripts/greet.lua": "greet.lua"}
# One unit per language: (path, kind, name, first line, last line), read off the files by hand.
UNITS = [
    ("py/circle.py", "method", "Circle.area", 10, 12),
    ("web/shapes.ts", "method", "Circle.area", 14, 18),
    ("web/shapes.ts", "function", "Geometry::Units::toDegrees", 24, 26),
    ("go/shapes.go", "method", "Circle.Area", 22, 25),
    ("rust/shapes.rs", "method", "Circle.fmt", 29, 31),
    ("java/Geometry.java", "method", "Geometry.Circle.toString", 17, 20),
    ("java/Geometry.java", "class", "Geometry.Circle", 9, 11),
]
CONTEXT_WEIGHT = 0.5


@pytest.fixture(scope="module")
def mixed_index(tiny_model, tmp_path_factory) -> Path:
    tree = write_tree(tmp_path_factory.mktemp("mixed") / "tree", {"py/circle.py": TREE["shapes/circle.py"],
                                                                  "README.md": "# Shapes\n\nAreas in five languages.\n"})
    for relative, fixture in COPIED.items():
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / fixture, tree / relative)
    out = tree.parent / "index"
    build_index(tree, out, tiny_model, show_progress=False)
    return out


def _own_text(index_dir: Path, path: str, name: str, start: int, end: int) -> str:
    """A unit's embedded text built here: its header over its lines of the file, dedented."""
    lines = (index_dir.parent / "tree" / path).read_text(encoding="utf-8").splitlines()
    return f"# {path}\n# {name}\n" + textwrap.dedent("\n".join(lines[start - 1:end]))


def test_each_language_is_cut_into_its_units(mixed_index):
    index = Index(mixed_index)
    stored = set(zip(*(index.chunks[column] for column in ("path", "kind", "name", "start_line", "end_line"))))
    assert set(UNITS) <= stored
    assert {path for path, *_ in stored} == {"py/circle.py", *COPIED}  # README.md is no code
    assert {kind for path, kind, *_ in stored if path == "scripts/greet.lua"} == {"lines"}  # no grammar


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: f"{unit[0]}:{unit[2]}")
def test_a_units_own_text_finds_it_first_with_its_name_and_span(tiny_model, mixed_index, unit):
    path, kind, name, start, end = unit
    embedding = tiny_model.encode_document([_own_text(mixed_index, path, name, start, end)], task_type="nl2code")
    best = Index(mixed_index, model=tiny_model).search_embeddings(embedding, k=1, context_weight=0)[0][0]
    assert (best.path, best.kind, best.name, best.start_line, best.end_line) == unit
    assert best.similarity == pytest.approx(1.0, abs=1e-5)


def test_search_scores_each_unit_with_its_enclosing_unit_across_languages(tiny_model, tiny_model_dir, mixed_index,
                                                                         capsys):
    _, documents, queries = brute_force(tiny_model, mixed_index)
    chunks = Index(mixed_index).chunks
    rows = range(len(chunks["id"]))

    def context_rows(row):  # the enclosing unit, found here by name and kind
        path, name, kind = chunks["path"][row], chunks["name"][row], chunks["kind"][row]
        def same_file(other, other_kind):
            return chunks["path"][other] == path and chunks["kind"][other] == other_kind

        if kind == "method" or (kind == "class" and "." in name):
            return [other for other in rows if same_file(other, "class") and chunks["name"][other] == name.rsplit(".", 1)[0]]
        if kind in ("function", "class"):
            return [other for other in rows if same_file(other, "module")]
        return [other for other in rows if same_file(other, "lines")] if kind == "lines" else []

    named = {(chunks["path"][row], chunks["name"][row]): {(chunks["kind"][other], chunks["name"][other])
                                                           for other in context_rows(row)} for row in rows}
    assert named[("go/shapes.go", "Circle.Area")] == {("class", "Circle")}  # the receiver's type
    assert named[("rust/shapes.rs", "Circle.fmt")] == {("class", "Circle")}  # struct Circle and its impl blocks
    assert named[("java/Geometry.java", "Geometry.Circle")] == {("class", "Geometry")}
    assert named[("web/shapes.ts", "Geometry::Units::toDegrees")] == {("module", "web.shapes")}
    assert named[("py/circle.py", "Circle.area")] == {("class", "Circle")}
    for query, similarity in zip(QUERIES, cos_sim(queries, documents).numpy()):
        assert main(["search", str(mixed_index), query, "--model", tiny_model_dir, "-k", str(len(chunks["id"])), "--json",
                     "--dtype", "float32", "--all-windows", "--tests", "ranked", "--context-weight", str(CONTEXT_WEIGHT)]) == 0
        hits = json.loads(capsys.readouterr().out)
        assert len(hits) == len(chunks["id"])
        for hit in hits:
            row = chunks["id"].index(hit["id"])
            context = max((similarity[other] for other in context_rows(row)), default=0.0)
            assert hit["similarity"] == pytest.approx(similarity[row], abs=1e-5)
            assert hit["context_similarity"] == pytest.approx(context, abs=1e-5)
        scores = [hit["score"] for hit in hits]
        assert scores == sorted(scores, reverse=True)
        np.testing.assert_allclose(scores, [hit["similarity"] + CONTEXT_WEIGHT * hit["context_similarity"]
                                            for hit in hits], atol=1e-5)
