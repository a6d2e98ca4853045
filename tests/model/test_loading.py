import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

import st_jce
from st_jce.model.loading import UnsafeModelError
from st_jce.model.weights import CorruptWeightsError

# The checkout's modules.json: the canonical pipeline, PrefixPrompt -> LastTokenPooling -> Normalize.
ROOT_MODULES = Path(__file__).resolve().parents[2] / "modules.json"
TEXTS = ["read a csv file into a dataframe", "def read(path):\n    return open(path).read()"]


@pytest.fixture(scope="module")
def saved(tiny_qwen_dir, tmp_path_factory):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", padding_side="left")
    path = tmp_path_factory.mktemp("saved") / "model"
    model.save_pretrained(str(path))
    return model, path


def copy_of(path, tmp_path):
    import shutil

    return shutil.copytree(path, tmp_path / "copy")


def test_modules_json_names_the_public_classes(saved):
    _, path = saved
    types = [entry["type"] for entry in json.loads((path / "modules.json").read_text())]
    assert types[:2] == ["st_jce.PrefixPrompt", "st_jce.LastTokenPooling"]
    assert types == [entry["type"] for entry in json.loads(ROOT_MODULES.read_text())]  # the canonical pipeline


def test_reload_gives_identical_embeddings(saved):
    model, path = saved
    expected = model.encode_query(TEXTS, task_type="nl2code")
    loaded = st_jce.load(path)
    assert isinstance(loaded, st_jce.CodeEmbedder)
    assert loaded[0].padding_side == "left" and loaded[0].append_eos is True
    np.testing.assert_array_equal(loaded.encode_query(TEXTS, task_type="nl2code"), expected)
    plain = SentenceTransformer(str(path), trust_remote_code=True)
    np.testing.assert_array_equal(plain.encode_query(TEXTS, task_type="nl2code"), expected)


def test_refuses_python_file_without_running_it(saved, tmp_path):
    path = copy_of(saved[1], tmp_path)
    marker = tmp_path / "executed"
    (path / "st_jce.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    with pytest.raises(UnsafeModelError, match=r"st_jce\.py.*Python code"):
        st_jce.load(path)
    assert not marker.exists()


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_refuses_pickle_weights_without_unpickling(saved, tmp_path):
    path = copy_of(saved[1], tmp_path)
    marker = tmp_path / "unpickled"
    (path / "pytorch_model.bin").write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(UnsafeModelError, match=r"pytorch_model\.bin.*safetensors only"):
        st_jce.load(path)
    assert not marker.exists()


def test_refuses_foreign_module_type_and_auto_map(saved, tmp_path):
    path = copy_of(saved[1], tmp_path)
    modules = json.loads((path / "modules.json").read_text())
    modules[1]["type"] = "evil_package.Pooling"
    (path / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(UnsafeModelError, match="evil_package.Pooling"):
        st_jce.load(path)
    path = copy_of(saved[1], tmp_path / "b")
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "other/repo--modeling.Model"}}))
    with pytest.raises(UnsafeModelError, match="auto_map"):
        st_jce.load(path)


def test_truncated_weights_name_the_file(saved, tmp_path):
    path = copy_of(saved[1], tmp_path)
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(CorruptWeightsError, match=r"model\.safetensors"):
        st_jce.load(path)


def test_not_a_model_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no modules.json.*build_model"):
        st_jce.load(tmp_path)


SAVED_BY_0_1_0 = Path(__file__).parents[1] / "fixtures" / "saved-by-0.1.0"  # its module configs (weights: below)


def test_a_model_saved_by_st_jce_0_1_0_loads_unchanged(tiny_qwen_dir, tmp_path):
    """0.1.0 saved the prefixes twice (module config and prompts), with a custom query prefix here."""
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    model.save_pretrained(str(tmp_path / "old"))
    for file in SAVED_BY_0_1_0.rglob("*.json"):
        shutil.copy(file, tmp_path / "old" / file.relative_to(SAVED_BY_0_1_0))
    assert "prefixes" in json.loads((tmp_path / "old" / "sentence_bert_config.json").read_text())

    loaded = st_jce.load(tmp_path / "old")
    model.prompts["nl2code_query"] = "Custom query prefix:\n"  # what 0.1.0 saved
    assert loaded.prompts == model.prompts
    np.testing.assert_allclose(loaded.encode_query(["sort a list"], task_type="nl2code"),
                               model.encode_query(["sort a list"], task_type="nl2code"), atol=1e-6)
    loaded.save_pretrained(str(tmp_path / "new"))  # saved again: the prefixes once, as prompts
    assert "prefixes" not in json.loads((tmp_path / "new" / "sentence_bert_config.json").read_text())
    assert st_jce.load(tmp_path / "new").prompts == model.prompts
