"""Reliability: a SIGKILLed indexer resumes to the index an uninterrupted run writes; a changed tree
re-embeds only the files that changed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from search_helpers import vectors_by_id

from st_jce.search import Index, build_index
from st_jce.search.signature import PROBE_TEXTS

# The indexer in a subprocess, slowed down after every shard so that the test can kill it mid-run.
SLOW_INDEXER = """
import sys, time
import st_jce.search.engines as engines
from st_jce.search import build_index
embed = engines.LocalEngine.embed
def slow_embed(self, shards):
    for embeddings in embed(self, shards):
        yield embeddings
        time.sleep(1.0)
engines.LocalEngine.embed = slow_embed
build_index(sys.argv[1], sys.argv[2], sys.argv[3], shard_size=2, show_progress=False, dtype="float32")
"""


def _kill_after_first_shard(tree, out, model_dir) -> None:
    process = subprocess.Popen([sys.executable, "-c", SLOW_INDEXER, str(tree), str(out), model_dir])
    try:
        deadline = time.monotonic() + 240
        while not (out / "shards" / "shard-000000.parquet").exists():
            assert process.poll() is None, "the indexer ended before writing a shard"
            assert time.monotonic() < deadline, "no shard written in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()


def test_a_killed_run_resumes_to_the_uninterrupted_index(tiny_model, tiny_model_dir, code_tree, tmp_path):
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    _kill_after_first_shard(code_tree, killed, tiny_model_dir)
    assert json.loads((killed / "manifest.json").read_text())["complete"] is False
    with pytest.raises(ValueError, match="incomplete.*Rerun"):
        Index(killed)
    written = vectors_by_id(killed)  # the shards that survived the kill

    resumed = build_index(code_tree, killed, tiny_model_dir, shard_size=2, show_progress=False, dtype="float32")
    expected = build_index(code_tree, reference, tiny_model, shard_size=2, show_progress=False)
    assert 0 < len(written) < expected["stats"]["chunks"]  # killed mid-run
    assert resumed["stats"]["embedded_chunks"] == expected["stats"]["chunks"] - len(written)  # nothing redone
    resumed_vectors, expected_vectors = vectors_by_id(killed), vectors_by_id(reference)  # both: no duplicates
    assert sorted(resumed_vectors) == sorted(expected_vectors)
    for chunk_id, vector in expected_vectors.items():
        np.testing.assert_allclose(resumed_vectors[chunk_id], vector, atol=1e-6)
    assert resumed["complete"] and resumed["stats"]["chunks"] == expected["stats"]["chunks"]


def test_a_changed_tree_re_embeds_only_the_changed_files(tiny_model, code_tree, tmp_path, monkeypatch):
    build_index(code_tree, tmp_path / "index", tiny_model, shard_size=3, show_progress=False)
    (code_tree / "shapes" / "circle.py").write_text("def circumference(radius):\n    return 6.28 * radius\n")
    (code_tree / "text" / "words.py").unlink()
    (code_tree / "new.py").write_text("def fresh():\n    return 'new'\n\n\ndef other():\n    return 0\n")
    embedded: list[str] = []
    encode_document = tiny_model.encode_document

    def counting_encode_document(texts, **kwargs):
        embedded.extend(text for text in texts if text not in PROBE_TEXTS)
        return encode_document(texts, **kwargs)

    monkeypatch.setattr(tiny_model, "encode_document", counting_encode_document)
    manifest = build_index(code_tree, tmp_path / "index", tiny_model, shard_size=3, show_progress=False)
    assert sorted(embedded) == sorted(["# shapes/circle.py\n# circumference\n"
                                       "def circumference(radius):\n    return 6.28 * radius",
                                       "# new.py\n# fresh\ndef fresh():\n    return 'new'",
                                       "# new.py\n# other\ndef other():\n    return 0"])
    assert (manifest["stats"]["embedded_units"], manifest["stats"]["removed_units"]) == (2, 1)

    fresh = build_index(code_tree, tmp_path / "fresh", tiny_model,
                        shard_size=3, show_progress=False)
    updated, rebuilt = vectors_by_id(tmp_path / "index"), vectors_by_id(tmp_path / "fresh")
    assert sorted(updated) == sorted(rebuilt) and fresh["stats"]["chunks"] == manifest["stats"]["chunks"]
    for chunk_id, vector in rebuilt.items():
        np.testing.assert_allclose(updated[chunk_id], vector, atol=1e-6)
