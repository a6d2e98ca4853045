"""The recipe's loss: InfoNCE over in-batch negatives at scale ``1/τ`` inside ``MatryoshkaLoss``.

``MultipleNegativesRankingLoss`` scores every query against every document of the batch (cosine
similarity times ``scale``) and takes the cross-entropy with the pair's own document as the target,
which is the paper's InfoNCE. ``CachedMultipleNegativesRankingLoss`` (GradCache) computes the same loss
and gradients with memory bounded by its mini-batch size. With ``gather_across_devices`` the documents
of every DDP process are negatives for every query, so the global batch behaves as one big batch.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> from st_jce.training import LossArguments, build_loss
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> loss = build_loss(model, LossArguments(temperature=0.05, matryoshka_dims=[32, 16]))
>>> list(loss.matryoshka_dims), type(loss.loss).__name__, loss.loss.scale
([64, 32, 16], 'MultipleNegativesRankingLoss', 20.0)
"""

from __future__ import annotations

import os

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
)

from st_jce.matryoshka import resolve_matryoshka_dims
from st_jce.training.arguments import LossArguments


def build_loss(model: SentenceTransformer, loss_args: LossArguments) -> MatryoshkaLoss:
    """(Cached)MultipleNegativesRankingLoss with scale ``1/temperature`` inside ``MatryoshkaLoss``, at the dims of
    :func:`st_jce.matryoshka.resolve_matryoshka_dims` (the full size always among them)."""
    dims = resolve_matryoshka_dims(model, loss_args.matryoshka_dims)
    # One process has nothing to gather (and sentence-transformers would warn at every step).
    gather = loss_args.gather_across_devices and _runs_on_several_processes()
    if loss_args.cached:
        contrastive = CachedMultipleNegativesRankingLoss(
            model, scale=loss_args.scale, mini_batch_size=loss_args.mini_batch_size, gather_across_devices=gather)
    else:
        contrastive = MultipleNegativesRankingLoss(model, scale=loss_args.scale, gather_across_devices=gather)
    return MatryoshkaLoss(model, contrastive, matryoshka_dims=dims)


def _runs_on_several_processes() -> bool:
    """Whether training runs distributed: a process group of several ranks, or a launcher (torchrun,
    accelerate) that set ``WORLD_SIZE`` above one before the trainer creates the group."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size() > 1
    return int(os.environ.get("WORLD_SIZE", "1")) > 1
