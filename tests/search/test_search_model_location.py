"""An index records where its model loads from, so that it opens from any working directory."""

from __future__ import annotations

from pathlib import Path

from st_jce.search import Index, build_index


def test_an_index_built_with_a_relative_model_path_opens_from_anywhere(tiny_model_dir, code_tree, tmp_path,
                                                                       monkeypatch):
    model_dir = Path(tiny_model_dir)
    monkeypatch.chdir(model_dir.parent)
    build_index(code_tree, tmp_path / "index", model_dir.name, show_progress=False)  # --model model
    monkeypatch.chdir(tmp_path)  # no "model" folder here
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a Hub look-up of "model" fails at once
    index = Index(tmp_path / "index")
    assert index.settings["name"] == model_dir.name  # what the user typed, for display
    assert index.settings["model_location"] == str(model_dir.resolve())
    hits = index.search("area of a circle", k=3)
    assert len(hits) == 3 and index.model.get_embedding_dimension() == 64
