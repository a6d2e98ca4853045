"""The recipe's loss: InfoNCE at scale 1/τ inside Matryoshka, and GradCache giving the same loss and gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import st_jce
from st_jce.matryoshka import default_matryoshka_dims, resolve_matryoshka_dims
from st_jce.training import LossArguments, build_loss

QUERIES = ["sort a list", "read a file", "parse json text", "merge two dicts", "reverse a string", "count words"]
DOCUMENTS = ["def s(x):\n    return sorted(x)", "def r(p):\n    return open(p).read()", "import json\njson.loads(t)",
             "def m(a, b):\n    return {**a, **b}", "def rev(s):\n    return s[::-1]", "len(text.split())"]


def batch_features(model, queries=QUERIES, documents=DOCUMENTS):
    return [model.preprocess(queries, prompt=st_jce.PREFIXES["nl2code"]["query"]),
            model.preprocess(documents, prompt=st_jce.PREFIXES["nl2code"]["document"])]


def loss_and_gradients(model, loss_fn, features):
    model.zero_grad()
    loss = loss_fn([dict(feature) for feature in features], None)
    loss.backward()
    return loss.detach(), {name: param.grad.clone() for name, param in model.named_parameters() if param.grad is not None}


@pytest.fixture
def tiny_model(tiny_qwen_dir):
    # float64, so that float rounding stays far below the tolerances of the comparisons.
    return st_jce.build_model(tiny_qwen_dir, dtype="float32", max_seq_length=32).to(torch.float64)


def test_default_dims_halve_to_64():
    assert default_matryoshka_dims(896) == [896, 512, 256, 128, 64]
    assert default_matryoshka_dims(1536) == [1536, 1024, 512, 256, 128, 64]
    assert default_matryoshka_dims(384) == [384, 256, 128, 64]
    assert default_matryoshka_dims(64) == [64]


def test_dims_outside_the_model_are_refused(tiny_model):
    with pytest.raises(ValueError, match=r"matryoshka_dims: \[0, 128\] are outside 1..64"):
        resolve_matryoshka_dims(tiny_model, [128, 32, 0])


def test_loss_dims_always_include_the_full_size(tiny_model):
    assert list(build_loss(tiny_model, LossArguments(matryoshka_dims=[16, 32, 16])).matryoshka_dims) == [64, 32, 16]
    assert list(build_loss(tiny_model, LossArguments()).matryoshka_dims) == [64]  # default_matryoshka_dims(64)
    tiny_model[0].auto_model.config.matryoshka_dimensions = [8]  # dims recorded by an earlier run
    try:
        assert list(build_loss(tiny_model, LossArguments()).matryoshka_dims) == [64, 8]
    finally:
        del tiny_model[0].auto_model.config.matryoshka_dimensions


def test_loss_is_infonce_at_scale_one_over_temperature_summed_over_dims(tiny_model):
    loss_fn = build_loss(tiny_model, LossArguments(temperature=0.05, matryoshka_dims=[64, 32, 16]))
    features = batch_features(tiny_model)
    loss, _ = loss_and_gradients(tiny_model, loss_fn, features)

    # Independent computation: embeddings, truncation + renormalisation, cosine x 20, cross-entropy.
    with torch.no_grad():
        queries, documents = (tiny_model(dict(feature))["sentence_embedding"] for feature in features)
        expected = sum(F.cross_entropy(20.0 * F.normalize(queries[:, :dim], dim=-1)
                                       @ F.normalize(documents[:, :dim], dim=-1).T, torch.arange(len(QUERIES)))
                       for dim in (64, 32, 16))
    assert loss.item() == pytest.approx(expected.item(), abs=1e-5)


def test_cached_loss_matches_plain_loss_and_gradients(tiny_model):
    features = batch_features(tiny_model)
    plain, plain_grads = loss_and_gradients(tiny_model, build_loss(tiny_model, LossArguments()), features)
    cached_fn = build_loss(tiny_model, LossArguments(cached=True, mini_batch_size=4))
    assert type(cached_fn.loss).__name__ == "CachedMultipleNegativesRankingLoss"
    cached, cached_grads = loss_and_gradients(tiny_model, cached_fn, features)

    assert abs(cached.item() - plain.item()) <= 1e-5
    assert plain_grads.keys() == cached_grads.keys() and len(plain_grads) > 0
    worst = max((plain_grads[name] - cached_grads[name]).abs().max().item() for name in plain_grads)
    assert worst <= 1e-5, f"largest gradient difference {worst:.2e}"
    assert max(grad.abs().max().item() for grad in plain_grads.values()) > 1e-3  # the comparison is not vacuous


@pytest.mark.parametrize("world_size, gathers", [(None, False), ("1", False), ("2", True)])
def test_negatives_are_gathered_only_across_several_processes(tiny_model, monkeypatch, world_size, gathers):
    if world_size is None:
        monkeypatch.delenv("WORLD_SIZE", raising=False)
    else:
        monkeypatch.setenv("WORLD_SIZE", world_size)  # what torchrun / accelerate set before the trainer starts
    for cached in (False, True):
        loss = build_loss(tiny_model, LossArguments(cached=cached))
        assert loss.loss.gather_across_devices is gathers
    assert build_loss(tiny_model, LossArguments(gather_across_devices=False)).loss.gather_across_devices is False
