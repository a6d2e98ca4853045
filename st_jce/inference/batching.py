"""Token-budget batching: batches of texts of similar token length, sized by padded tokens, not by count.

Sentence-transformers sorts texts by character length and cuts fixed-count batches. For code, the
characters-per-token ratio varies a lot (indentation, ``\\r\\n``, identifiers), so a batch of 32
"similar" texts can still hold mostly padding; sorting by token length and capping each batch by its
padded tokens leaves almost none (figures: docs/experiments.md, "Figures moved out of the code"). A
forward over any batch of a few hundred tokens already runs at full speed on CPU, so smaller batches cost
nothing there.

Examples
--------
>>> token_budget_batches([5, 40, 7, 38, 6], max_tokens=80)
[[1, 3], [2, 4, 0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers.util import quantize_embeddings
from tqdm.auto import tqdm

# Padded tokens per forward. CPU: a forward of a few hundred tokens already runs at full speed, and a larger
# one is slower per token (its activations outgrow the caches); GPU: large enough to fill it. The budgets
# were chosen by measurement: docs/experiments.md ("Figures moved out of the code").
DEFAULT_MAX_BATCH_TOKENS = {"cpu": 512, "cuda": 16384}


def default_max_batch_tokens(device: str | torch.device) -> int:
    """The default padded-token budget of one forward on ``device`` (CUDA's for any accelerator)."""
    device_type = torch.device(device).type
    return DEFAULT_MAX_BATCH_TOKENS.get(device_type, DEFAULT_MAX_BATCH_TOKENS["cuda"])


def token_lengths(tokenizer, texts: Sequence[str], max_length: int | None = None) -> list[int]:
    """Number of tokens of each text (special tokens included), capped at ``max_length``."""
    # verbose=False: measuring a text longer than the model's limit is not an error here (it gets truncated).
    lengths = [len(ids) for ids in tokenizer(list(texts), verbose=False)["input_ids"]]
    return lengths if max_length is None else [min(length, max_length) for length in lengths]


def token_budget_batches(
    lengths: Sequence[int], max_tokens: int, max_batch_size: int | None = None
) -> list[list[int]]:
    """Split the indices of ``lengths`` into batches, longest texts first.

    A batch holds texts of neighbouring lengths and at most ``max_tokens`` padded tokens
    (rows × longest row) and ``max_batch_size`` rows; a text longer than ``max_tokens`` gets a batch
    of its own.

    Examples
    --------
    >>> token_budget_batches([3, 9, 4, 8], max_tokens=100, max_batch_size=2)
    [[1, 3], [2, 0]]
    """
    batches: list[list[int]] = []
    batch: list[int] = []
    for index in np.argsort([-length for length in lengths], kind="stable").tolist():
        # Longest first, so the batch's first text sets its padded width.
        if batch and ((len(batch) + 1) * lengths[batch[0]] > max_tokens or len(batch) == max_batch_size):
            batches.append(batch)
            batch = []
        batch.append(index)
    if batch:
        batches.append(batch)
    return batches


def encode_in_token_budget_batches(
    encode: Callable[..., Any],
    inputs: Sequence[str],
    lengths: Sequence[int],
    max_tokens: int,
    *,
    batch_size: int | None = None,
    precision: str = "float32",
    show_progress_bar: bool | None = None,
    **encode_kwargs,
) -> np.ndarray | torch.Tensor | list:
    """Call a sentence-transformers ``encode`` once per :func:`token_budget_batches` batch.

    Parameters
    ----------
    encode : callable
        ``SentenceTransformer.encode`` (bound), called as ``encode(texts, batch_size=len(texts), ...)``.
    inputs : sequence of str
        The texts.
    lengths : sequence of int
        Their token lengths (:func:`token_lengths`).
    max_tokens : int
        Padded-token budget of one batch.
    batch_size : int, optional
        Most rows in one batch.
    precision : str
        As in ``encode``; quantization runs once over all embeddings, as ``encode`` would.
    show_progress_bar : bool, optional
        One bar over the batches.
    **encode_kwargs
        Passed to ``encode`` (``prompt_name``, ``task``, ``convert_to_tensor``, ...).

    Returns
    -------
    numpy.ndarray, torch.Tensor or list
        What ``encode(inputs, ...)`` returns, rows in the order of ``inputs``.

    Examples
    --------
    >>> from st_jce.backbones import minilm_dir
    >>> from sentence_transformers import SentenceTransformer
    >>> model = SentenceTransformer(str(minilm_dir()))
    >>> texts = ["def f(): pass", "x", "import os\\nprint(os.getcwd())"]
    >>> lengths = token_lengths(model.tokenizer, texts)
    >>> embeddings = encode_in_token_budget_batches(model.encode, texts, lengths, max_tokens=16)
    >>> bool(np.allclose(embeddings, model.encode(texts), atol=1e-5))
    True
    """
    batches = token_budget_batches(lengths, max_tokens, batch_size)
    results = [
        encode([inputs[index] for index in batch], batch_size=len(batch), show_progress_bar=False, **encode_kwargs)
        for batch in tqdm(batches, desc="Batches", disable=not show_progress_bar)
    ]
    restore = np.argsort(np.concatenate(batches), kind="stable")
    if isinstance(results[0], np.ndarray):
        embeddings = np.concatenate(results)[restore]
    elif isinstance(results[0], torch.Tensor):
        embeddings = torch.cat(results)[torch.from_numpy(restore).to(results[0].device)]
    else:
        rows = [row for result in results for row in result]
        embeddings = [rows[position] for position in restore]
    if precision != "float32":
        # As encode does: quantize with ranges taken over all embeddings, then keep the output type.
        quantized = quantize_embeddings(embeddings, precision=precision)
        embeddings = torch.as_tensor(quantized) if isinstance(embeddings, torch.Tensor) else quantized
    return embeddings
