import warnings

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

import st_jce
from st_jce import MissingPrefixWarning

# Paper Table 1, typed out independently of st_jce.prefixes.
TABLE_1 = {
    "nl2code": ("Find the most relevant code snippet given the following query:\n", "Candidate code snippet:\n"),
    "qa": ("Find the most relevant answer given the following question:\n", "Candidate answer:\n"),
    "code2code": ("Find an equivalent code snippet given the following code snippet:\n", "Candidate code snippet:\n"),
    "code2nl": ("Find the most relevant comment given the following code snippet:\n", "Candidate comment:\n"),
    "code2completion": ("Find the most relevant completion given the following start of code snippet:\n",
                        "Candidate completion:\n"),
}
TEXTS = ["sort a list of tuples by the second item", "x", "def add(a, b):\n    return a + b\n\n# adds two numbers"]


@pytest.fixture(scope="module")
def reference(tiny_qwen_dir):
    """The backbone and tokenizer, loaded directly with transformers, to recompute embeddings by hand."""
    return AutoModel.from_pretrained(tiny_qwen_dir, dtype=torch.float32).eval(), AutoTokenizer.from_pretrained(tiny_qwen_dir)


@pytest.fixture(scope="module")
def models(tiny_qwen_dir):
    """One fp32 model per padding side (building one takes seconds)."""
    return {side: st_jce.build_model(tiny_qwen_dir, dtype="float32", padding_side=side) for side in ("left", "right")}


def hand_embedding(reference, text):
    backbone, tokenizer = reference
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    with torch.no_grad():
        hidden = backbone(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]
    return torch.nn.functional.normalize(hidden, dim=-1).numpy()


def test_prefix_table_is_the_papers():
    assert st_jce.TASK_TYPES == tuple(TABLE_1)
    for task, (query, document) in TABLE_1.items():
        assert st_jce.PREFIXES[task] == {"query": query, "document": document}


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("task_type", list(TABLE_1))
def test_embedding_is_last_token_hidden_state_of_prefix_plus_text(models, reference, padding_side, task_type):
    model = models[padding_side]
    queries = model.encode_query(TEXTS, task_type=task_type)
    documents = model.encode_document(TEXTS, task_type=task_type)
    query_prefix, document_prefix = TABLE_1[task_type]
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(queries[i], hand_embedding(reference, query_prefix + text), atol=1e-5)
        np.testing.assert_allclose(documents[i], hand_embedding(reference, document_prefix + text), atol=1e-5)


@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_batched_equals_one_at_a_time(models, padding_side):
    model = models[padding_side]
    batched = model.encode_query(TEXTS, task_type="qa", batch_size=3)
    single = np.concatenate([model.encode_query([t], task_type="qa") for t in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_task_type_and_prompt_name_paths_agree_for_all_ten(models):
    model = models["right"]
    for task in TABLE_1:
        for role, method in (("query", model.encode_query), ("document", model.encode_document)):
            by_task_type = method(TEXTS, task_type=task)
            by_prompt_name = model.encode(TEXTS, prompt_name=f"{task}_{role}")
            np.testing.assert_array_equal(by_task_type, by_prompt_name)
    np.testing.assert_array_equal(model.encode_query(TEXTS, task_type="techqa"), model.encode_query(TEXTS, task_type="qa"))


def test_eos_survives_truncation(tiny_qwen_dir):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", max_seq_length=16)
    eos = model.tokenizer.convert_tokens_to_ids("<|endoftext|>")
    features = model.preprocess(["word " * 200, "short"], prompt=TABLE_1["nl2code"][0])
    assert features["input_ids"].shape[1] == 16
    for ids, mask in zip(features["input_ids"], features["attention_mask"]):
        assert ids[mask.bool()][-1].item() == eos


def test_append_eos_off_leaves_text_unclosed(tiny_qwen_dir, reference):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", append_eos=False)
    _, tokenizer = reference
    ids = model.preprocess(["def f(): pass"])["input_ids"][0].tolist()
    assert ids == tokenizer("def f(): pass", add_special_tokens=False)["input_ids"]


def test_preprocess_adds_no_prefix_and_missing_prefix_warns(models, reference):
    model = models["right"]
    _, tokenizer = reference
    with pytest.warns(MissingPrefixWarning, match="task prefix"):
        ids = model.preprocess(["def f(): pass"])["input_ids"][0].tolist()
    assert ids[:-1] == tokenizer("def f(): pass", add_special_tokens=False)["input_ids"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingPrefixWarning)
        model.encode_query(["a"], task_type="nl2code")  # a prefix given: no warning


@pytest.mark.parametrize("bad, error, match", [
    ([None], TypeError, "Input 0 is NoneType"),
    (["ok", 3], TypeError, "Input 1 is int"),
    (["ok", "  "], ValueError, "Input 1 is empty"),
    # The index is the caller's, although batches are sorted by length and cut smaller.
    (["a much longer text than the rest", "b", "c", None], TypeError, "Input 3 is NoneType"),
])
def test_bad_texts_name_the_index(models, bad, error, match):
    model = models["right"]
    with pytest.raises(error, match=match):
        model.encode_query(bad, task_type="nl2code", batch_size=1)


def test_unknown_task_type_lists_valid_ones(models):
    model = models["right"]
    with pytest.raises(ValueError, match=r"Unknown task type 'sql'.*nl2code.*code2completion"):
        model.encode_query(["a"], task_type="sql")
    with pytest.raises(ValueError, match="needs a role"):
        model.encode(["a"], task_type="nl2code")
    with pytest.raises(ValueError, match="Both a prompt"):
        model.encode_query(["a"], task_type="nl2code", prompt_name="qa_query")


def test_minilm_encoder_backbone_pools_its_sep_token(minilm_path):
    model = st_jce.build_model(minilm_path, dtype="float32", pooling="last_token")
    assert model[0].append_eos is False  # BERT closes texts with [SEP] already
    backbone, tokenizer = AutoModel.from_pretrained(minilm_path).eval(), AutoTokenizer.from_pretrained(minilm_path)
    text = TABLE_1["code2nl"][0] + "def f(x): return x * 2"
    with torch.no_grad():
        hidden = backbone(**tokenizer([text], return_tensors="pt")).last_hidden_state[0, -1]
    expected = torch.nn.functional.normalize(hidden, dim=-1).numpy()
    np.testing.assert_allclose(model.encode_query(["def f(x): return x * 2"], task_type="code2nl")[0], expected, atol=1e-5)


def test_a_chat_template_never_wraps_the_prefixed_text(tiny_qwen_dir, reference, tmp_path):
    # Qwen2.5-Coder's and SmolLM2's tokenizers ship a chat template; sentence-transformers would render every
    # text through it. The recipe embeds prefix + text + EOS, and the saved model must keep it so.
    backbone_dir = tmp_path / "chat-backbone"
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen_dir)
    tokenizer.chat_template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>{% endfor %}"
    tokenizer.save_pretrained(backbone_dir)
    AutoModel.from_pretrained(tiny_qwen_dir).save_pretrained(backbone_dir)
    model = st_jce.build_model(str(backbone_dir), dtype="float32")
    for loaded in (model, st_jce.load(model.save_pretrained(tmp_path / "saved") or tmp_path / "saved")):
        embedding = loaded.encode_document([TEXTS[0]], task_type="nl2code")[0]
        np.testing.assert_allclose(embedding, hand_embedding(reference, TABLE_1["nl2code"][1] + TEXTS[0]), atol=1e-5)
