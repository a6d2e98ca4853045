"""Distillation from a teacher's own embeddings (``teacher:`` in the config; off by default).

Besides the recipe's contrastive loss, the model also learns to give every training text the embedding a
teacher model gives it — with the teacher's own pooling and no prefixes. The teacher encodes each distinct
query and document once before training (under DDP, each process a share); each dataset ``NAME`` then gets
a copy ``NAME-teacher`` whose ``label`` column holds those embeddings, trained with sentence-transformers'
``EmbedDistillLoss`` (cosine distance) under the same prefixes, and drawn ``teacher_weight`` times as often
as ``NAME``.

Why: a backbone that was pre-trained as an embedding model for another pooling (all-MiniLM-L6-v2: mean
pooling) starts with a poor last-token state; a short run relearns more of its pre-trained geometry for that
state from the teacher's dense targets than from in-batch negatives alone. The CPU demo uses the backbone
itself as teacher.

Examples
--------
>>> import numpy as np
>>> from datasets import Dataset
>>> pairs = Dataset.from_dict({"query": ["add two numbers"], "document": ["def add(a, b):\\n    return a + b"]})
>>> vectors = {"add two numbers": np.array([1.0, 0.0]), "def add(a, b):\\n    return a + b": np.array([0.0, 1.0])}
>>> labelled_pairs(pairs, vectors)[0]["label"]
[[1.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import EmbedDistillLoss
from sentence_transformers.util import all_gather, get_rank, get_world_size

from st_jce.model.loading import load_model
from st_jce.training.mixing import weighted

TEACHER_SUFFIX = "-teacher"
DISTANCE_METRIC = "cosine"  # bounded, and blind to the norm the teacher's own pipeline may or may not fix


def load_teacher(name: str, student: SentenceTransformer, device: str | None = None) -> SentenceTransformer:
    """The teacher as it is (its own modules and pooling) on ``device`` (under DDP: the process's own GPU),
    checked to embed in the student's size.

    Raises
    ------
    ValueError
        Naming ``teacher`` if the two embedding sizes differ.
    """
    teacher = load_model(name, device=device)
    teacher_dim, student_dim = teacher.get_embedding_dimension(), student.get_embedding_dimension()
    if teacher_dim != student_dim:
        raise ValueError(f"teacher: {name!r} embeds in {teacher_dim} dimensions but the model in {student_dim}; "
                         "pick a teacher of the same size (e.g. the backbone itself) or drop `teacher`.")
    return teacher


def teacher_vectors(teacher: SentenceTransformer, texts: list[str], *, max_seq_length: int, batch_size: int,
                    autocast_dtype: torch.dtype | None = None) -> dict[str, np.ndarray]:
    """The teacher's embedding of each distinct text, read at most ``max_seq_length`` tokens as the student is.

    Under DDP every process encodes its share of the texts (every ``world_size``-th one) and the shares are
    gathered, so each process gets the same vectors in a ``1 / world_size`` of the time; every process
    must call it.
    """
    distinct = list(dict.fromkeys(texts))
    rank, world_size = get_rank(), get_world_size()
    teacher.max_seq_length = min(teacher.max_seq_length or max_seq_length, max_seq_length)
    # As LocalRetrievalEvaluator encodes: in the training precision when it is a mixed one.
    precision = torch.autocast(teacher.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None)
    with torch.inference_mode(), precision:
        share = teacher.encode(distinct[rank::world_size], batch_size=batch_size, convert_to_tensor=True,
                               show_progress_bar=True)
    share = share.float().reshape(-1, teacher.get_embedding_dimension())
    embeddings = _gathered_shares(share, len(distinct), world_size) if world_size > 1 else share.cpu().numpy()
    return dict(zip(distinct, embeddings))


def _gathered_shares(share: torch.Tensor, count: int, world_size: int) -> np.ndarray:
    """Every process's ``share`` (rows ``rank::world_size`` of ``count``), gathered back into row order."""
    padded = share.new_zeros((-(-count // world_size), share.shape[1]))  # all_gather takes equal shapes
    padded[:len(share)] = share
    gathered = all_gather(padded).reshape(world_size, -1, share.shape[1]).cpu().numpy()
    # Row i of rank r's share is text i * world_size + r, so interleaving the shares restores the order; the
    # padding rows land after the last text.
    return gathered.transpose(1, 0, 2).reshape(-1, share.shape[1])[:count]


def labelled_pairs(pairs: Dataset, vectors: Mapping[str, np.ndarray]) -> Dataset:
    """``pairs`` with a ``label`` column of shape (rows, 2, dim): the query's and the document's teacher vector."""
    labels = [np.stack([vectors[query], vectors[document]]).tolist()
              for query, document in zip(pairs["query"], pairs["document"])]
    return pairs.add_column("label", labels)


def teacher_datasets(teacher: SentenceTransformer, pairs: Mapping[str, Dataset], weights: Mapping[str, float], *,
                     teacher_weight: float, max_seq_length: int, batch_size: int,
                     autocast_dtype: torch.dtype | None = None) -> DatasetDict:
    """The ``NAME-teacher`` datasets: each dataset's pairs (scaled by ``weight × teacher_weight``) with labels.

    ``pairs`` are the datasets before weighting; the teacher (:func:`load_teacher`) encodes each distinct text
    of all of them once (under DDP, shared out between the processes).
    """
    chosen = {name: weighted(rows, weights[name] * teacher_weight) for name, rows in pairs.items()}
    texts = [text for rows in chosen.values() for column in ("query", "document") for text in rows[column]]
    vectors = teacher_vectors(teacher, texts, max_seq_length=max_seq_length, batch_size=batch_size,
                              autocast_dtype=autocast_dtype)
    return DatasetDict({name + TEACHER_SUFFIX: labelled_pairs(rows, vectors) for name, rows in chosen.items()})


def with_teacher_copies(by_dataset: Mapping[str, Any], teacher_value: Any = None) -> dict[str, Any]:
    """A per-dataset mapping (prompts, losses) extended to the ``NAME-teacher`` copies: each copy gets
    ``teacher_value``, or its dataset's own value when that is ``None``.

    Examples
    --------
    >>> with_teacher_copies({"a": "prefix"})
    {'a': 'prefix', 'a-teacher': 'prefix'}
    >>> with_teacher_copies({"a": "contrastive"}, "distillation")
    {'a': 'contrastive', 'a-teacher': 'distillation'}
    """
    return {**by_dataset, **{name + TEACHER_SUFFIX: value if teacher_value is None else teacher_value
                             for name, value in by_dataset.items()}}


def distillation_loss(model: SentenceTransformer) -> EmbedDistillLoss:
    """Cosine distance between the model's embedding of each column and the teacher's (the ``label``)."""
    return EmbedDistillLoss(model, distance_metric=DISTANCE_METRIC)
