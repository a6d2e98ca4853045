"""Training without padding (st_jce.varlen): the same embeddings, loss and gradients as the padded batch, for the
plain and the cached (GradCache) loss, both padding sides, last-token and mean pooling."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from train_helpers import torchrun
from transformers import AutoModel

import st_jce
from st_jce.training import LossArguments, build_loss

QUERIES = ["sort a list", "read a whole file into one string", "parse json", "merge two dicts, the second wins",
           "reverse a string", "count the words of a text file, ignoring case and punctuation"]
DOCUMENTS = ["def s(x):\n    return sorted(x)", "def r(p):\n    with open(p) as f:\n        return f.read()",
             "import json\njson.loads(t)", "def m(a, b):\n    return {**a, **b}", "s[::-1]",
             "def count(path):\n    words = open(path).read().lower().split()\n    return len(words)"]


def build(tiny_qwen_dir, padding_side, pooling, unpad_inputs):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", max_seq_length=48, padding_side=padding_side,
                               pooling=pooling)
    model[0].unpad_inputs = unpad_inputs
    return model.train()


def features_of(model, queries=QUERIES, documents=DOCUMENTS):
    return [model.preprocess(queries, prompt=st_jce.PREFIXES["nl2code"]["query"]),
            model.preprocess(documents, prompt=st_jce.PREFIXES["nl2code"]["document"])]


def count_backbone_rows(model) -> list[tuple[int, int]]:
    """The (rows, tokens) shape of every backbone forward from now on, as its token embedding sees them
    (sentence-transformers calls the backbone's ``forward`` itself, past module hooks)."""
    shapes = []
    model[0].auto_model.get_input_embeddings().register_forward_hook(
        lambda module, args, output: shapes.append(tuple(args[0].shape)))
    return shapes


def hand_pooled(tiny_qwen_dir, features, pooling):
    """The expected sentence embeddings: the padded backbone's hidden states, indexed by hand."""
    backbone = AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="sdpa", dtype=torch.float32)
    with torch.no_grad():
        hidden = backbone(input_ids=features["input_ids"], attention_mask=features["attention_mask"]).last_hidden_state
    vectors = []
    for row, mask in enumerate(features["attention_mask"].bool()):
        real = mask.nonzero().flatten().tolist()
        if pooling == "last_token":
            vectors.append(hidden[row, real[-1]])
        else:  # the mean of the text's tokens: the prefix's are left out
            vectors.append(hidden[row, real[features["prompt_length"]:]].mean(dim=0))
    return F.normalize(torch.stack(vectors), dim=-1)


@pytest.mark.parametrize("pooling", ["last_token", "mean"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_unpadded_embeddings_are_the_hand_indexed_states(tiny_qwen_dir, padding_side, pooling):
    model = build(tiny_qwen_dir, padding_side, pooling, unpad_inputs=None)  # the default rule: training unpads
    shapes = count_backbone_rows(model)
    for features in features_of(model):
        expected = hand_pooled(tiny_qwen_dir, features, pooling)
        real_tokens = int(features["attention_mask"].sum())
        assert real_tokens < features["attention_mask"].numel()  # the batch is padded
        got = model(dict(features))["sentence_embedding"]
        assert shapes[-1] == (1, real_tokens)  # the backbone ran the real tokens alone
        assert F.cosine_similarity(got, expected).min().item() >= 0.9999
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def loss_and_gradients(model, loss_fn, features=None):
    model.zero_grad()
    loss = loss_fn([dict(feature) for feature in features or features_of(model)], None)
    loss.backward()
    return loss.item(), {name: param.grad.clone() for name, param in model.named_parameters() if param.grad is not None}


@pytest.mark.parametrize("pooling", ["last_token", "mean"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("cached", [False, True])
def test_unpadded_loss_and_gradients_equal_the_padded_ones(tiny_qwen_dir, cached, padding_side, pooling):
    results = {}
    for unpad in (False, True):
        model = build(tiny_qwen_dir, padding_side, pooling, unpad_inputs=unpad)
        shapes = count_backbone_rows(model)
        loss_fn = build_loss(model, LossArguments(cached=cached, mini_batch_size=4, matryoshka_dims=[64, 32]))
        results[unpad] = loss_and_gradients(model, loss_fn)
        assert all(rows == 1 for rows, _ in shapes) == unpad and shapes  # which path ran
    assert_same_loss_and_gradients(results[True], results[False])


@pytest.mark.parametrize("cached", [False, True])
def test_two_processes_unpadded_equal_one_process_on_the_union_batch(tiny_qwen_dir, tmp_path, cached):
    torchrun(Path(__file__).with_name("distributed_unpadded_loss.py"), [tiny_qwen_dir, str(tmp_path), str(int(cached))],
             tmp_path)
    ddp = torch.load(tmp_path / "ddp.pt")
    model = build(tiny_qwen_dir, "right", "last_token", unpad_inputs=False)
    loss_fn = build_loss(model, LossArguments(matryoshka_dims=[64, 32]))  # one process: nothing to gather
    assert_same_loss_and_gradients((ddp["loss"], ddp["grads"]), loss_and_gradients(model, loss_fn))


def assert_same_loss_and_gradients(got, expected):
    (loss, grads), (expected_loss, expected_grads) = got, expected
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert grads.keys() == expected_grads.keys() and len(grads) > 10
    for name, grad in expected_grads.items():
        # Relative to the tensor's scale: float32 rounding differs by the order in which the two paths add up.
        worst = (grads[name] - grad).abs().max().item()
        assert worst <= 1e-4 * grad.abs().max().item(), f"{name}: differs by {worst:.2e}"
    assert max(grad.abs().max().item() for grad in expected_grads.values()) > 1e-3  # not vacuous
