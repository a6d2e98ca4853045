"""One store of a model's prefixes: ``model.prompts``, which ``encode_query(task_type=)``, ``encode(prompt_name=)``,
the module config and a saved model all read; and ``prompt_length``, counted as sentence-transformers counts it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import Transformer
from sentence_transformers.sentence_transformer.modules import Pooling
from transformers import AutoModel, AutoTokenizer

import st_jce

TEXT = "sort a list of tuples by the second item"
NEW_QUERY_PREFIX = "Retrieve code for: "


@pytest.fixture()
def model(tiny_qwen_dir):
    return st_jce.build_model(tiny_qwen_dir, dtype="float32")


def hand_embedding(model_dir, text):
    backbone, tokenizer = AutoModel.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    with torch.no_grad():
        hidden = backbone(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]
    return torch.nn.functional.normalize(hidden, dim=-1).numpy()


def assert_both_paths_use(model, model_dir, prefix):
    expected = hand_embedding(model_dir, prefix + TEXT)
    np.testing.assert_allclose(model.encode_query([TEXT], task_type="nl2code")[0], expected, atol=1e-5)
    np.testing.assert_allclose(model.encode([TEXT], prompt_name="nl2code_query")[0], expected, atol=1e-5)


def test_editing_model_prompts_changes_the_task_type_path_too(model, tiny_qwen_dir):
    model.prompts["nl2code_query"] = NEW_QUERY_PREFIX
    assert model[0].prefixes["nl2code"]["query"] == NEW_QUERY_PREFIX
    assert_both_paths_use(model, tiny_qwen_dir, NEW_QUERY_PREFIX)


def test_setting_the_module_prefixes_changes_model_prompts(model, tiny_qwen_dir):
    model[0].prefixes = {"nl2code": {"query": NEW_QUERY_PREFIX, "document": "Code:\n"}}
    assert model.prompts["nl2code_query"] == NEW_QUERY_PREFIX and model.prompts["nl2code_document"] == "Code:\n"
    assert model.prompts["qa_query"] == st_jce.PREFIXES["qa"]["query"]  # the others untouched
    assert_both_paths_use(model, tiny_qwen_dir, NEW_QUERY_PREFIX)


def test_replacing_model_prompts_keeps_one_store(model, tiny_qwen_dir):
    model.prompts = {**model.prompts, "nl2code_query": NEW_QUERY_PREFIX}
    assert_both_paths_use(model, tiny_qwen_dir, NEW_QUERY_PREFIX)
    model.prompts = {"query": "q: "}
    with pytest.raises(ValueError, match=r"no prompt 'nl2code_query'.*model.prompts.update\(st_jce.named_prompts\(\)\)"):
        model.encode_query([TEXT], task_type="nl2code")


def test_an_edited_prefix_is_saved_and_loaded_in_both_places(model, tiny_qwen_dir, tmp_path):
    model.prompts["nl2code_query"] = NEW_QUERY_PREFIX
    model.save_pretrained(str(tmp_path))
    for loaded in (st_jce.load(tmp_path), SentenceTransformer(str(tmp_path), trust_remote_code=True)):
        assert loaded.prompts["nl2code_query"] == NEW_QUERY_PREFIX
        assert_both_paths_use(loaded, tiny_qwen_dir, NEW_QUERY_PREFIX)
        loaded.prompts["nl2code_query"] = "other: "  # still one store after loading
        assert loaded[0].prefix("nl2code", "query") == "other: "


def test_user_prompts_at_load_win_over_the_saved_ones(model, tiny_qwen_dir, tmp_path):
    model.save_pretrained(str(tmp_path))
    loaded = SentenceTransformer(str(tmp_path), trust_remote_code=True, prompts={"nl2code_query": NEW_QUERY_PREFIX})
    assert_both_paths_use(loaded, tiny_qwen_dir, NEW_QUERY_PREFIX)


def test_defaults_and_views_are_read_only(model):
    with pytest.raises(TypeError):
        st_jce.PREFIXES["nl2code"]["query"] = "x"
    with pytest.raises(TypeError):
        model[0].prefixes["nl2code"]["query"] = "x"


@pytest.mark.parametrize("backbone", ["tiny_qwen_dir", "minilm_path"])
def test_prompt_length_is_sentence_transformers_own(backbone, request):
    path = request.getfixturevalue(backbone)
    ours = st_jce.build_model(path, dtype="float32")[0]
    plain = Transformer(path)
    for roles in st_jce.PREFIXES.values():
        for prefix in roles.values():
            expected = plain.preprocess([TEXT], prompt=prefix)["prompt_length"]
            assert ours.preprocess([TEXT], prompt=prefix)["prompt_length"] == expected


def test_mean_pooling_without_the_prompt_averages_the_text_tokens_only(minilm_path):
    model = st_jce.build_model(minilm_path, dtype="float32", pooling="mean")
    model[1].include_prompt = False
    prefix = st_jce.PREFIXES["nl2code"]["query"]
    backbone, tokenizer = AutoModel.from_pretrained(minilm_path).eval(), AutoTokenizer.from_pretrained(minilm_path)
    ids = tokenizer(prefix + TEXT)["input_ids"]
    skipped = 1 + len(tokenizer(prefix, add_special_tokens=False)["input_ids"])  # [CLS] and the prefix
    with torch.no_grad():
        hidden = backbone(input_ids=torch.tensor([ids])).last_hidden_state[0]
    expected = torch.nn.functional.normalize(hidden[skipped:].mean(0), dim=-1).numpy()
    np.testing.assert_allclose(model.encode_query([TEXT], task_type="nl2code")[0], expected, atol=1e-5)
    assert isinstance(model[1], Pooling)
