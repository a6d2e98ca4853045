"""End to end: st-jce's encode (prefix cache, token-budget batches) equals the plain sentence-transformers
pipeline of the same weights (``export_portable`` loaded with ``SentenceTransformer``)."""

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

import st_jce

TEXTS = [
    "def add(a, b):\n    return a + b",
    "Write a python function to identify non-prime numbers.",
    "x",
    "import os\nfor root, dirs, files in os.walk('.'):\n    print(root, len(files))",
    "SELECT name FROM users WHERE id = 3; -- a longer text, cut by max_seq_length " * 3,
]


@pytest.fixture(scope="module", params=["right", "left"])
def models(request, tiny_qwen_dir, tmp_path_factory):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", max_seq_length=32, padding_side=request.param)
    plain = SentenceTransformer(str(st_jce.export_portable(model, tmp_path_factory.mktemp("portable"))), device="cpu")
    return model, plain


def cosines(first, second):
    return np.sum(first * second, axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))


@pytest.mark.parametrize("task_type", st_jce.TASK_TYPES)
def test_encode_equals_plain_sentence_transformers(models, task_type):
    model, plain = models
    model[0].prefix_cache.clear()
    queries = model.encode_query(TEXTS, task_type=task_type, batch_size=2)
    documents = model.encode_document(TEXTS, task_type=task_type, batch_size=2)
    assert cosines(queries, plain.encode(TEXTS, prompt_name=f"{task_type}_query")).min() >= 0.9999
    assert cosines(documents, plain.encode(TEXTS, prompt_name=f"{task_type}_document")).min() >= 0.9999
    # ...and the cache ran for both prefixes, rather than stepping aside for the plain forward.
    cached_prefixes = {ids for ids, *_ in model[0].prefix_cache.entries}
    for role in ("query", "document"):
        prefix_ids = model.tokenizer(model[0].prefix(task_type, role), add_special_tokens=False)["input_ids"]
        assert tuple(prefix_ids) in cached_prefixes, role


def test_prefix_states_are_cached(models):
    model, _ = models
    model.encode_query(TEXTS, task_type="qa")
    assert len(model[0].prefix_cache) > 0
    model.train()
    assert len(model[0].prefix_cache) == 0
    model.eval()


@pytest.mark.parametrize("max_batch_tokens", [0, 24, 4096])
def test_token_budget_batches_keep_the_embeddings_and_their_order(models, max_batch_tokens):
    model, plain = models
    model.max_batch_tokens = max_batch_tokens  # 0: plain fixed-count batches; 24: a text or two per batch
    try:
        documents = model.encode_document(TEXTS, task_type="code2code", batch_size=3)
    finally:
        model.max_batch_tokens = None
    assert cosines(documents, plain.encode(TEXTS, prompt_name="code2code_document")).min() >= 0.9999


def test_prefix_cache_can_be_switched_off_and_the_choice_is_saved(tiny_qwen_dir, tmp_path):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", max_seq_length=32)
    cached = model.encode_query(TEXTS, task_type="nl2code")
    model[0].use_prefix_cache = False
    model[0].prefix_cache.clear()
    uncached = model.encode_query(TEXTS, task_type="nl2code")
    assert len(model[0].prefix_cache) == 0
    assert cosines(cached, uncached).min() >= 0.9999
    model.save_pretrained(str(tmp_path / "model"))
    assert st_jce.load(tmp_path / "model")[0].use_prefix_cache is False
