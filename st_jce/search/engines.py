"""Where the embedding of an index runs: one process, a sentence-transformers multi-process pool, or Ray Data.

Each engine takes the planned shards (lists of document texts) and yields one float32 embedding matrix
per shard, in order; the indexer writes every shard as it comes (:mod:`st_jce.search.store`), so all
three engines read and write the same format and resume each other's runs.

- :class:`LocalEngine`: ``encode_document`` in this process (st-jce's token-budget batches and prefix cache);
- :class:`MultiProcessEngine`: sentence-transformers' ``start_multi_process_pool`` over ``devices``
  (``["cuda:0", "cuda:1"]``, or ``["cpu"] * n``), each worker a copy of the model;
- :class:`RayEngine`: Ray Data ``map_batches`` with one model per actor (a GPU each where the cluster has
  them), loaded by each actor from the model's directory, the results streamed back in order.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> engine = LocalEngine(model, "nl2code", dim=32)
>>> [embeddings.shape for embeddings in engine.embed([["def f(): pass", "x = 1"], ["y = 2"]])]
[(2, 32), (1, 32)]
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence

import numpy as np

from st_jce.search.encoding import encode_texts
from st_jce.search.settings import DEFAULT_BATCH_SIZE

# Texts handed to a Ray actor per call: enough for st-jce's token-budget batching to sort them by length.
RAY_ROWS_PER_CALL = 256


class LocalEngine:
    """Embed in this process. ``dim`` truncates (Matryoshka); ``batch_size`` caps the rows of a forward."""

    def __init__(self, model, task_type: str, dim: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.model, self.task_type, self.dim, self.batch_size = model, task_type, dim, batch_size
        self.pool: dict | None = None  # a sentence-transformers multi-process pool (MultiProcessEngine)

    def embed(self, shards: Sequence[Sequence[str]]) -> Iterator[np.ndarray]:
        """One ``(len(shard), dim)`` matrix per shard, in order."""
        for texts in shards:
            # One piece per worker: each sorts its texts by token length for st-jce's token-budget batches.
            pieces = math.ceil(len(texts) / len(self.pool["processes"])) if self.pool else None
            yield encode_texts(self.model, texts, self.task_type, "document", self.dim, batch_size=self.batch_size,
                               pool=self.pool, chunk_size=pieces)

    def close(self) -> None:
        """Release what the engine holds (processes, actors)."""


class MultiProcessEngine(LocalEngine):
    """Embed through a sentence-transformers multi-process pool, one worker per entry of ``devices``."""

    def __init__(self, model, task_type: str, dim: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 devices: Sequence[str] = ("cpu", "cpu")) -> None:
        super().__init__(model, task_type, dim, batch_size)
        self.pool = model.start_multi_process_pool(list(devices))

    def close(self) -> None:
        self.model.stop_multi_process_pool(self.pool)


class RayEngine:
    """Embed on Ray Data: ``map_batches`` over the texts with ``workers`` actors, each loading the model at
    ``model_dir`` once (``st_jce.model.loading.load_model``), on a GPU each when ``gpus_per_worker`` > 0.

    Parameters
    ----------
    model_dir : str
        A saved model's directory (or Hub id) that every actor can read: on a cluster, shared storage.
    task_type, dim, batch_size
        As for :class:`LocalEngine`.
    workers : int, optional
        Actors (default: one per GPU of the cluster, else one).
    gpus_per_worker : float, optional
        Default: 1 when the cluster has GPUs, else 0.
    address : str, optional
        A running cluster's address for ``ray.init`` (``"auto"``); default: a local one, unless Ray is
        already initialized.
    dtype : str
        Every actor's compute dtype (:func:`st_jce.dtypes.resolve_dtype`; ``"auto"`` follows its hardware).
    """

    def __init__(self, model_dir: str, task_type: str, dim: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE, *,
                 workers: int | None = None, gpus_per_worker: float | None = None, address: str | None = None,
                 dtype: str = "auto") -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        self.gpus_per_worker = (1 if gpus else 0) if gpus_per_worker is None else gpus_per_worker
        self.workers = workers or max(gpus, 1)
        # Actors without a GPU share the CPUs: each gets its part, and torch as many threads.
        self.cpus_per_worker = max(1, int(resources.get("CPU", 1)) // self.workers)
        self.encoder_options = {"model_dir": model_dir, "task_type": task_type, "dim": dim,
                                "batch_size": batch_size, "threads": self.cpus_per_worker, "dtype": dtype}

    def embed(self, shards: Sequence[Sequence[str]]) -> Iterator[np.ndarray]:
        """One matrix per shard, in order, while the actors work through all of them."""
        import ray.data

        sizes = [len(texts) for texts in shards]
        if not sizes:
            return
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # rows come back in input order: shard by shard
        items = [{"text": text} for texts in shards for text in texts]
        blocks = min(len(items), max(self.workers, len(items) // RAY_ROWS_PER_CALL))  # work for every actor
        dataset = ray.data.from_items(items, override_num_blocks=blocks)
        embedded = dataset.map_batches(
            _ActorEncoder, fn_constructor_kwargs=self.encoder_options, batch_size=RAY_ROWS_PER_CALL,
            batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=self.workers),
            num_gpus=self.gpus_per_worker, num_cpus=0 if self.gpus_per_worker else self.cpus_per_worker)
        pending: list[np.ndarray] = []
        shard = 0
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            pending.append(np.asarray(batch["embedding"], dtype=np.float32))
            while shard < len(sizes) and sum(len(part) for part in pending) >= sizes[shard]:
                rows = np.concatenate(pending)
                yield rows[:sizes[shard]]
                pending = [rows[sizes[shard]:]]
                shard += 1

    def close(self) -> None:
        """The actors end with the dataset; a Ray started here stays up for the next run of this process."""


class _ActorEncoder:
    """One Ray actor: loads the model once, embeds every batch it is given."""

    def __init__(self, model_dir: str, task_type: str, dim: int | None, batch_size: int, threads: int,
                 dtype: str) -> None:
        import torch

        from st_jce.model.loading import load_model

        torch.set_num_threads(threads)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.model = load_model(model_dir, dtype=dtype)
        self.task_type, self.dim, self.batch_size = task_type, dim, batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        return {"embedding": encode_texts(self.model, texts, self.task_type, "document", self.dim,
                                          batch_size=self.batch_size)}
