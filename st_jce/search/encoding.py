"""Texts to index vectors: the task prefix of a role, Matryoshka truncation, unit length; what the engines, the
model signature and search all embed with.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> encode_texts(model, ["def f(): pass"], "nl2code", "document", dim=16).shape
(1, 16)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from st_jce.matryoshka import truncate_and_normalize
from st_jce.modules import PrefixPrompt
from st_jce.prefixes import prompt_name
from st_jce.search.settings import DEFAULT_BATCH_SIZE


def encode_texts(model, texts: Sequence[str], task_type: str, role: str, dim: int | None = None, *,
                 batch_size: int = DEFAULT_BATCH_SIZE, pool: dict | None = None,
                 chunk_size: int | None = None) -> np.ndarray:
    """Unit-length float32 embeddings of ``texts`` as ``role`` (``"query"`` / ``"document"``) of ``task_type``,
    truncated to ``dim`` (Matryoshka) and normalized again; ``pool`` is a sentence-transformers
    multi-process pool, which gets ``chunk_size`` texts at a time."""
    encode = model.encode_query if role == "query" else model.encode_document
    if isinstance(model[0], PrefixPrompt):
        prefix = {"task_type": task_type}
    else:
        prefix = {"prompt_name": prompt_name(task_type, role)}
    pool_options = {"pool": pool, "chunk_size": chunk_size} if pool is not None else {}
    embeddings = encode(list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False,
                        **pool_options, **prefix)
    return truncate_and_normalize(embeddings, dim)
