"""The fast encoding path on the real Qwen2.5-Coder-0.5B shape (random weights, real tokenizer): the same
embeddings as the plain sentence-transformers pipeline of the same weights. Slow: ~2 GB of weights."""

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from workspace import qwen_tokenizer_files, real_qwen2

import st_jce

pytestmark = pytest.mark.slow

QUERIES = ["Write a python function to find the first repeated character in a given string.",
           "Write a function to sort a list of tuples by their second element.", "reverse a linked list"]
CODE = ["def first_repeated_char(s):\n    seen = set()\n    for c in s:\n        if c in seen:\n            return c\n"
        "        seen.add(c)\n    return None", "def by_second(items):\n    return sorted(items, key=lambda t: t[1])",
        "x = 1"]


@pytest.fixture(scope="module")
def real_shape_dir(tmp_path_factory):
    if qwen_tokenizer_files() is None:
        pytest.skip("needs the Qwen2.5 tokenizer in ../shared/tokenizers/qwen2.5 (shared/ folder absent)")
    return str(real_qwen2(tmp_path_factory.mktemp("qwen2-0.5b"), "0.5b"))


def cosines(first, second):
    return np.sum(first * second, axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_fp32_equals_plain_sentence_transformers(real_shape_dir, tmp_path, padding_side):
    model = st_jce.build_model(real_shape_dir, dtype="float32", padding_side=padding_side)
    assert model.get_embedding_dimension() == 896
    plain = SentenceTransformer(str(st_jce.export_portable(model, tmp_path / "portable")), device="cpu")
    for encode, texts, name in ((model.encode_query, QUERIES, "nl2code_query"),
                                (model.encode_document, CODE, "nl2code_document")):
        ours = encode(texts, task_type="nl2code")
        assert cosines(ours, plain.encode(texts, prompt_name=name)).min() >= 0.9999
    assert len(model[0].prefix_cache) == 2  # the query and the document prefix, each computed once


def test_bf16_stays_close_to_fp32(real_shape_dir):
    fp32 = st_jce.build_model(real_shape_dir, dtype="float32").encode_document(CODE, task_type="nl2code")
    bf16 = st_jce.build_model(real_shape_dir, dtype="bfloat16").encode_document(CODE, task_type="nl2code")
    assert cosines(fp32, bf16.astype(np.float32)).min() >= 0.99
