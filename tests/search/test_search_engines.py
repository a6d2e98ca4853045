"""The multi-process and Ray engines write the index the single process writes, in the same format."""

from __future__ import annotations

import numpy as np
import pytest
from search_helpers import vectors_by_id

import st_jce
from st_jce.search import Index, build_index


def _assert_same_index(left, right) -> None:
    left_vectors, right_vectors = vectors_by_id(left), vectors_by_id(right)
    assert sorted(left_vectors) == sorted(right_vectors)
    for chunk_id, vector in left_vectors.items():
        np.testing.assert_allclose(right_vectors[chunk_id], vector, atol=1e-5)


@pytest.fixture
def local_index(tiny_model, code_tree, tmp_path):
    build_index(code_tree, tmp_path / "local", tiny_model, shard_size=3, show_progress=False)
    return tmp_path / "local"


def test_the_multiprocess_engine_writes_the_local_index(tiny_model_dir, code_tree, tmp_path, local_index):
    manifest = build_index(code_tree, tmp_path / "pool", tiny_model_dir, engine="multiprocess", devices=["cpu", "cpu"],
                           shard_size=3, show_progress=False, dtype="float32")
    assert manifest["complete"]
    _assert_same_index(local_index, tmp_path / "pool")



@pytest.mark.filterwarnings("ignore::st_jce.dtypes.EmulatedBF16Warning")
def test_a_model_directory_is_loaded_in_the_dtype_asked_for(tiny_model_dir, code_tree, tmp_path):
    build_index(code_tree, tmp_path / "by-path", tiny_model_dir, dtype="bfloat16", show_progress=False)
    loaded = st_jce.load(tiny_model_dir, dtype="bfloat16")
    build_index(code_tree, tmp_path / "loaded", loaded, show_progress=False)
    _assert_same_index(tmp_path / "loaded", tmp_path / "by-path")

@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_the_ray_engine_writes_the_local_index_and_resumes_it(local_ray, tiny_model, tiny_model_dir, code_tree, tmp_path,
                                                              local_index):
    manifest = build_index(code_tree, tmp_path / "ray", tiny_model_dir, engine="ray", workers=2, shard_size=3,
                           show_progress=False, dtype="float32")
    assert manifest["complete"] and manifest["stats"]["embedded_units"] == manifest["stats"]["units"]
    _assert_same_index(local_index, tmp_path / "ray")
    # the same shard format: a local run on the Ray-built index finds everything done
    again = build_index(code_tree, tmp_path / "ray", tiny_model, shard_size=3, show_progress=False)
    assert again["stats"]["embedded_units"] == 0
    assert Index(tmp_path / "ray", model=tiny_model).search("area of a circle", k=3)
