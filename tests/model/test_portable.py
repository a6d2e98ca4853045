import json

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

import st_jce

TEXTS = ["merge two sorted lists", "SELECT name FROM users WHERE id = 1", "how do I free GPU memory?"]


@pytest.fixture(scope="module", params=["left", "right"])
def exported(request, tiny_qwen_dir, tmp_path_factory):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", padding_side=request.param, max_seq_length=48)
    return model, st_jce.export_portable(model, tmp_path_factory.mktemp("portable") / "model")


def test_portable_uses_builtin_modules_only(exported):
    _, path = exported
    types = [entry["type"] for entry in json.loads((path / "modules.json").read_text())]
    assert all(t.startswith("sentence_transformers.") for t in types)
    assert json.loads((path / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "lasttoken"


def test_plain_sentence_transformers_gives_the_same_embeddings_for_every_prompt(exported):
    model, path = exported
    plain = SentenceTransformer(str(path))  # no trust_remote_code
    long_text = "def f():\n" + "    x = 1\n" * 100  # truncated: the EOS must survive in plain ST too
    for name in st_jce.named_prompts():
        task, role = name.rsplit("_", 1)
        method = model.encode_query if role == "query" else model.encode_document
        ours = method(TEXTS + [long_text], task_type=task)
        theirs = plain.encode(TEXTS + [long_text], prompt_name=name)
        assert np.abs(ours - theirs).max() <= 1e-5, name


def test_from_portable_round_trip(exported):
    model, path = exported
    back = st_jce.from_portable(path, dtype="float32")
    assert isinstance(back[0], st_jce.PrefixPrompt) and back.max_seq_length == 48
    np.testing.assert_allclose(back.encode_query(TEXTS, task_type="code2nl"),
                               model.encode_query(TEXTS, task_type="code2nl"), atol=1e-6)


def test_from_portable_takes_custom_prompts(exported, tmp_path):
    import shutil

    _, path = exported
    copy = shutil.copytree(path, tmp_path / "custom")
    config = json.loads((copy / "config_sentence_transformers.json").read_text())
    config["prompts"]["qa_query"] = "Question: "
    (copy / "config_sentence_transformers.json").write_text(json.dumps(config))
    assert st_jce.from_portable(copy, dtype="float32")[0].prefix("qa", "query") == "Question: "


def test_export_needs_an_st_jce_model(minilm_path, tmp_path):
    with pytest.raises(TypeError, match="PrefixPrompt first"):
        st_jce.export_portable(SentenceTransformer(minilm_path), tmp_path)
