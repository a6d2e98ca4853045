"""What an index must know of the model that built it, so that it is never queried with another one.

An index records the model's name and revision, its task type's query and document prefixes, the
dimension and precision of its vectors, and **probe embeddings**: the embeddings of
:data:`PROBE_TEXTS` as documents. A query model is accepted when its prefixes equal the recorded ones,
its embeddings are at least as wide as the index's, and it embeds the probes as the recorded model did
(cosine at least :data:`PROBE_MIN_COSINE`, which admits another dtype of the same weights and nothing
else): a copy of the model under another path passes, a retrained or different model is refused.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> signature = model_signature(model, "my-model", None, "nl2code", 32)
>>> check_query_model(signature, model, "code2code")  # the same model, and code documents as nl2code embeds them
'code2code'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from st_jce.prefixes import prefix_of, resolve_task_type
from st_jce.search.encoding import encode_texts

PROBE_TEXTS = ("def add(a, b):\n    return a + b", "Read a CSV file into a list of dictionaries, one per row.")
PROBE_MIN_COSINE = 0.99


class IndexMismatchError(ValueError):
    """The model, prefix or dimension at hand does not match the index; the message says which and the fix."""


def model_signature(model, name: str, revision: str | None, task_type: str, dim: int) -> dict[str, Any]:
    """The manifest's record of ``model``: name, revision, prefixes of ``task_type``, sizes and probe embeddings."""
    task_type = resolve_task_type(task_type)
    return {
        "name": name,
        "revision": revision,
        "task_type": task_type,
        "query_prefix": prefix_of(model, task_type, "query"),
        "document_prefix": prefix_of(model, task_type, "document"),
        "embedding_dim": model.get_embedding_dimension(),
        "dim": dim,
        "max_seq_length": model.max_seq_length,
        "probe_texts": list(PROBE_TEXTS),
        "probe_embeddings": encode_texts(model, PROBE_TEXTS, task_type, "document", dim).tolist(),
    }


def check_query_model(signature: Mapping[str, Any], model, task_type: str | None = None) -> str:
    """Accept ``model`` for queries of ``task_type`` (default: the index's) against an index of ``signature``;
    returns the task type to encode queries with.

    Another task type is accepted when its document prefix is the index's (``code2code`` queries against an
    ``nl2code`` index of code: both embed code as ``"Candidate code snippet:\\n"``).

    Raises
    ------
    IndexMismatchError
        Naming what differs (prefix, dimension, model) and how to fix it.
    """
    built_with = f"the index was built with {signature['name']!r}"
    task_type = resolve_task_type(task_type or signature["task_type"])
    document_prefix = prefix_of(model, task_type, "document")
    if document_prefix != signature["document_prefix"]:
        raise IndexMismatchError(
            f"Task type {task_type!r} embeds documents with {document_prefix!r}, but the index's documents were "
            f"embedded with {signature['document_prefix']!r} (task type {signature['task_type']!r}): search with "
            f"--task-type {signature['task_type']}, or build an index with --task-type {task_type}.")
    if task_type == signature["task_type"] and prefix_of(model, task_type, "query") != signature["query_prefix"]:
        raise IndexMismatchError(
            f"The model's {task_type} query prefix is {prefix_of(model, task_type, 'query')!r}, but {built_with} "
            f"and the query prefix {signature['query_prefix']!r}: search with that model, or rebuild the index.")
    if model.get_embedding_dimension() < signature["dim"]:
        raise IndexMismatchError(
            f"The model embeds in {model.get_embedding_dimension()} dimensions, the index holds {signature['dim']}-"
            f"dimensional vectors ({built_with}): search with that model.")
    probes = encode_texts(model, signature["probe_texts"], signature["task_type"], "document", signature["dim"])
    agreement = probe_agreement(probes, signature["probe_embeddings"])
    if agreement < PROBE_MIN_COSINE:
        raise IndexMismatchError(
            f"The model embeds the index's probe texts differently from the model the index was built with "
            f"(cosine {agreement:.3f} < {PROBE_MIN_COSINE}): {built_with}. Search with that model (--model "
            f"{signature['name']}), or rebuild the index with this one (st-jce index ... --overwrite).")
    return task_type


def probe_agreement(probes: np.ndarray | Sequence, recorded: np.ndarray | Sequence) -> float:
    """The smallest cosine between two models' unit-length probe embeddings, row by row."""
    probes, recorded = np.asarray(probes, dtype=np.float32), np.asarray(recorded, dtype=np.float32)
    if probes.shape != recorded.shape:
        return -1.0
    return float(np.min(np.sum(probes * recorded, axis=1)))
