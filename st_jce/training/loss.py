"""The recipe's loss: InfoNCE over in-batch negatives at scale ``1/τ`` inside ``MatryoshkaLoss``.

``MultipleNegativesRankingLoss`` scores every query against every document of the batch (cosine
similarity times ``scale``) and takes the cross-entropy with the pair's own document as the target,
which is the paper's InfoNCE. ``CachedMultipleNegativesRankingLoss`` (GradCache) computes the same loss
and gradients with memory bounded by its mini-batch size. With ``gather_across_devices`` the documents
of every DDP process are negatives for every query, so the global batch behaves as one big batch.

Examples
--------
>>> from sentence_transformers import SentenceTransformer
>>> from st_jce.testing import minilm_dir
>>> from st_jce.training import LossArguments, build_loss
>>> loss = build_loss(SentenceTransformer(str(minilm_dir())), LossArguments())  # doctest: +SKIP
>>> loss.matryoshka_dims, loss.loss.scale  # doctest: +SKIP
([384, 256, 128, 64], 20.0)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
)

from st_jce.training.arguments import LossArguments

SMALLEST_DEFAULT_DIM = 64


def default_matryoshka_dims(dim: int) -> list[int]:
    """The full size and the powers of two below it, down to 64 (the released models' dims).

    Examples
    --------
    >>> default_matryoshka_dims(896), default_matryoshka_dims(1536), default_matryoshka_dims(64)
    ([896, 512, 256, 128, 64], [1536, 1024, 512, 256, 128, 64], [64])
    """
    powers = [2 ** power for power in range(SMALLEST_DEFAULT_DIM.bit_length() - 1, dim.bit_length())]
    return sorted({dim, *(size for size in powers if size < dim)}, reverse=True)


def resolve_matryoshka_dims(dims: Sequence[int] | None, embedding_dim: int) -> list[int]:
    """``dims`` (or the default for ``embedding_dim``) largest first, checked against the model's size.

    Raises
    ------
    ValueError
        Naming ``matryoshka_dims`` if a size exceeds the model's embedding size.
    """
    if dims is None:
        return default_matryoshka_dims(embedding_dim)
    too_large = sorted(dim for dim in dims if dim > embedding_dim)
    if too_large:
        raise ValueError(f"matryoshka_dims: {too_large} exceed the model's embedding size {embedding_dim}; use "
                         f"sizes up to {embedding_dim}, e.g. {default_matryoshka_dims(embedding_dim)}.")
    return sorted(set(dims), reverse=True)


def build_loss(model: SentenceTransformer, loss_args: LossArguments) -> MatryoshkaLoss:
    """(Cached)MultipleNegativesRankingLoss with scale ``1/temperature`` inside ``MatryoshkaLoss``."""
    dims = resolve_matryoshka_dims(loss_args.matryoshka_dims, model.get_embedding_dimension())
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
