"""The Matryoshka dimensions of a model: the truncation sizes it is trained, evaluated and described at.

A trained st-jce model records them as ``matryoshka_dimensions`` in its backbone's ``config.json`` (the
convention vLLM, sglang and jina-embeddings-v3 read); training (:func:`st_jce.training.build_loss`),
evaluation (:func:`st_jce.evaluation.evaluate`) and the model card all resolve them here.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> recorded_matryoshka_dims(model) is None, resolve_matryoshka_dims(model, [16, 32])
(True, [64, 32, 16])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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


def recorded_matryoshka_dims(model) -> list[int] | None:
    """The dims recorded in the backbone config of ``model`` (``matryoshka_dimensions``), ``None`` if none."""
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    return [int(dim) for dim in getattr(config, "matryoshka_dimensions", None) or []] or None


def resolve_matryoshka_dims(model, dims: Sequence[int] | None = None) -> list[int]:
    """``dims`` (default: the recorded ones, else :func:`default_matryoshka_dims`) with the full embedding size,
    distinct, largest first.

    Parameters
    ----------
    model : sentence_transformers.SentenceTransformer
        The model whose embeddings are truncated.
    dims : sequence of int, optional
        Truncation sizes, each between 1 and the model's embedding size.

    Raises
    ------
    ValueError
        Naming ``matryoshka_dims`` and the sizes outside ``1..embedding size``.
    """
    full = model.get_embedding_dimension()
    dims = [int(dim) for dim in (dims if dims is not None else recorded_matryoshka_dims(model)
                                 or default_matryoshka_dims(full))]
    outside = sorted({dim for dim in dims if not 0 < dim <= full})
    if outside:
        raise ValueError(f"matryoshka_dims: {outside} are outside 1..{full}, the model's embedding size; choose sizes "
                         f"up to {full}, e.g. {default_matryoshka_dims(full)}.")
    return sorted({full, *dims}, reverse=True)


def truncate_and_normalize(embeddings: np.ndarray, dim: int | None) -> np.ndarray:
    """The first ``dim`` components of each row at unit length, float32 (Matryoshka truncation).

    Examples
    --------
    >>> truncate_and_normalize(np.array([[3.0, 4.0, 12.0]]), 2)
    array([[0.6, 0.8]], dtype=float32)
    """
    truncated = np.asarray(embeddings, dtype=np.float32)[:, :dim]
    norms = np.linalg.norm(truncated, axis=1, keepdims=True)
    return truncated / np.where(norms == 0, 1, norms)
