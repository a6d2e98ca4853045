"""``st-jce index --watch``: the index follows edits, additions and deletions within a bounded time and ends equal
to a fresh build of the final tree, while a reader in another thread only ever sees whole indexes; an update
cut short leaves the previous index searchable and is finished by the next run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from search_helpers import vectors_by_id

from st_jce.search import Index, build_index
from st_jce.search.store import ShardStore
from st_jce.search.watch import watch_index

pytest.importorskip("watchfiles")

QUERY = "area of a circle"
FOLLOW_SECONDS = 90  # the most an update may take on a loaded 2-core machine


def snapshot(index: Index) -> dict[str, np.ndarray]:
    """A reader's view, checked whole: unique ids, as many rows as the manifest's shards hold."""
    ids = index.chunks["id"]
    assert len(set(ids)) == len(ids), "a chunk is read twice"
    assert sum(entry["rows"] for entry in index.manifest["shards"]) == len(ids) == len(index.vectors)
    return dict(zip(ids, index.vectors))


def same_vectors(found: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> bool:
    return found.keys() == expected.keys() and all(np.allclose(found[key], expected[key], atol=1e-5) for key in found)


class Reader(threading.Thread):
    """Opens the index over and over, as a search in another process would, and keeps every distinct view."""

    def __init__(self, out) -> None:
        super().__init__(daemon=True)
        self.out, self.stop, self.views, self.errors, self.reads = out, threading.Event(), {}, [], 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                index = Index(self.out)
                self.views[str(index.manifest["shards"]), index.manifest["stats"]["seconds"]] = snapshot(index)
                self.reads += 1
            except Exception as error:  # any failure of a read is what this test looks for
                self.errors.append(repr(error))


@pytest.mark.timeout(600)
def test_the_index_follows_the_tree_and_readers_see_whole_indexes(tiny_model, tiny_model_dir, code_tree, tmp_path):
    out = code_tree / ".st-jce-index"  # inside the tree, as `st-jce index . --watch` puts it: its writes are no change
    (code_tree / ".gitignore").write_text("scratch/\n")
    updates, stop = [], threading.Event()
    watcher = threading.Thread(target=watch_index, args=(code_tree, out, tiny_model_dir), daemon=True,
                               kwargs=dict(debounce_ms=100, stop_event=stop, on_update=updates.append,
                                           show_progress=False, dtype="float32"))
    watcher.start()
    states = []  # the fresh build of each state of the tree

    def expect_followed(step: str) -> None:
        fresh = tmp_path / f"fresh-{len(states)}"
        build_index(code_tree, fresh, tiny_model, show_progress=False)
        states.append(vectors_by_id(fresh))
        deadline = time.monotonic() + FOLLOW_SECONDS
        while time.monotonic() < deadline:
            first_build_done = (out / "manifest.json").is_file() and json.loads((out / "manifest.json").read_text())["complete"]
            if first_build_done and same_vectors(snapshot(Index(out)), states[-1]):
                return
            time.sleep(0.1)
        raise AssertionError(f"the index did not follow the {step} within {FOLLOW_SECONDS} s")

    expect_followed("first build")
    reader = Reader(out)
    reader.start()
    try:
        (code_tree / "shapes" / "circle.py").write_text("def circumference(radius):\n    return 6.28 * radius\n")
        expect_followed("edit")
        (code_tree / "geometry").mkdir()
        (code_tree / "geometry" / "square.py").write_text("def square_area(side):\n    return side * side\n")
        (code_tree / "scratch").mkdir()
        (code_tree / "scratch" / "ignored.py").write_text("def ignored():\n    pass\n")  # .gitignore'd
        expect_followed("addition")
        (code_tree / "text" / "words.py").unlink()
        expect_followed("deletion")
        settled = len(updates)
        time.sleep(1.5)
        assert len(updates) == settled, "the index's own writes set off updates"
    finally:
        reader.stop.set()
        reader.join(timeout=60)
        stop.set()
        watcher.join(timeout=60)
    assert not watcher.is_alive(), "the watcher did not stop"
    assert reader.errors == [] and len(reader.views) >= 2  # it read while the index changed
    assert all(any(same_vectors(view, state) for state in states) for view in reader.views.values())
    assert not any(path.startswith("scratch/") for path in Index(out).chunks["path"])
    # Updates embedded only what changed (the edited file and the added one) and dropped the deleted one.
    assert sum(manifest["stats"]["embedded_units"] for manifest in updates[1:]) == 2
    assert sum(manifest["stats"]["removed_units"] for manifest in updates[1:]) == 1
    assert not list((out / "shards").glob("*.retired"))


def test_an_update_cut_short_leaves_the_previous_index_searchable(tiny_model, code_tree, tmp_path, monkeypatch):
    out = tmp_path / "index"
    options = dict(shard_size=3, approximate="always", show_progress=False)
    build_index(code_tree, out, tiny_model, **options)
    before = Index(out, model=tiny_model)
    old_files = [out / entry["file"] for entry in before.manifest["shards"]] + [out / before.manifest["approximate"]["file"]]
    (code_tree / "shapes" / "circle.py").write_text("def circumference(radius):\n    return 6.28 * radius\n")
    (code_tree / "text" / "words.py").unlink()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C after the shards of the changed files were retired, before any new one

    with monkeypatch.context() as patch:
        patch.setattr(ShardStore, "append", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_index(code_tree, out, tiny_model, **options)
    during = Index(out, model=tiny_model)
    assert during.manifest == before.manifest and all(file.is_file() for file in old_files)
    assert list((out / "shards").glob("*.retired")), "the update retired no shard: nothing was tested"
    assert same_vectors(snapshot(during), snapshot(before))
    assert [hit.id for hit in during.search(QUERY, k=3)] == [hit.id for hit in before.search(QUERY, k=3)]

    build_index(code_tree, out, tiny_model, **options)  # the next run finishes the update
    build_index(code_tree, tmp_path / "fresh", tiny_model, **options)
    assert same_vectors(snapshot(Index(out)), vectors_by_id(tmp_path / "fresh"))
    assert not list((out / "shards").glob("*.retired")) and not any(file.exists() for file in old_files
                                                                    if file.name.startswith("approximate"))
    assert sorted(path.name for path in out.glob("approximate*")) == [Index(out).manifest["approximate"]["file"]]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ctrl_c_stops_the_watch_cleanly(tiny_model_dir, code_tree, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "st_jce.cli", "index", str(code_tree), "--model", tiny_model_dir,
                                "--out", str(tmp_path / "index"), "--quiet", "--watch", "--debounce-ms", "100"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]  # "watching ...", then the first build's summary
        assert "chunks from 5 files" in lines[1], lines
        (code_tree / "extra.py").write_text("def extra():\n    return 1\n")
        assert "1 embedded" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stdout.strip() == "stopped watching"
    assert "extra" in Index(tmp_path / "index").chunks["name"]
