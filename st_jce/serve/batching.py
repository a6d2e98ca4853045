"""Dynamic batching: requests from concurrent clients gathered into one encode, run off the event loop.

A forward over many texts costs little more than one over a few, so the server does not encode each request
alone: :class:`DynamicBatcher` holds the first request of a batch for at most ``max_wait_ms`` while others
arrive (or until the batch holds ``max_batch_tokens``), runs one encode per task prefix in its one worker
thread, and hands each request its own rows back through a future. Requests that arrive while an encode runs
form the next batch, so under load batches grow by themselves. A failing encode fails every request of its
batch with :class:`EncodeError`; the loop goes on.

Examples
--------
>>> import asyncio
>>> import numpy as np
>>> def encode(texts, task_type, role):
...     return np.array([[len(text), role == "query"] for text in texts], dtype=np.float32)
>>> async def two_clients():
...     async with DynamicBatcher(encode, max_wait_ms=5) as batcher:
...         return await asyncio.gather(batcher.embed(["ab"], "nl2code", "query", tokens=1),
...                                     batcher.embed(["abc", "d"], "nl2code", "document", tokens=2))
>>> [vectors.tolist() for vectors in asyncio.run(two_clients())]
[[[2.0, 1.0]], [[3.0, 0.0], [1.0, 0.0]]]
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

# encode(texts, task_type, role) -> one row per text
Encode = Callable[[Sequence[str], str, str], np.ndarray]


class EncodeError(RuntimeError):
    """The encode of a batch failed (or the server stopped before it ran); every request of the batch gets it."""


@dataclass
class _Job:
    texts: list[str]
    task_type: str
    role: str
    tokens: int
    future: asyncio.Future = field(repr=False)


class DynamicBatcher:
    """Gathers :meth:`embed` calls into batches and encodes each batch in one worker thread.

    Parameters
    ----------
    encode : callable
        ``encode(texts, task_type, role)``, an array with one row per text; it runs in the worker thread, one
        call at a time, so the model never sees two threads.
    max_wait_ms : float
        How long the first request of a batch waits for others when the server is idle.
    max_batch_tokens : int
        A batch stops taking requests once it holds this many tokens; a larger request is a batch of its own.

    Use it as an async context manager (or :meth:`start` / :meth:`close`) inside the event loop that serves.
    """

    def __init__(self, encode: Encode, *, max_wait_ms: float = 5.0, max_batch_tokens: int = 8192) -> None:
        if max_wait_ms < 0 or max_batch_tokens < 1:
            raise ValueError(f"max_wait_ms must be >= 0 and max_batch_tokens >= 1; got {max_wait_ms}, "
                             f"{max_batch_tokens}.")
        self.encode = encode
        self.max_wait_s = max_wait_ms / 1000
        self.max_batch_tokens = max_batch_tokens
        self._queue: collections.deque[_Job] = collections.deque()
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def __aenter__(self) -> DynamicBatcher:
        self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    def start(self) -> None:
        """Start the batching loop in the running event loop."""
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="st-jce-encode")
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Stop the loop; requests still waiting fail with :class:`EncodeError`."""
        if self._worker is None:
            return
        self._worker.cancel()
        try:
            await self._worker
        except asyncio.CancelledError:
            pass
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def embed(self, texts: Sequence[str], task_type: str, role: str, *, tokens: int) -> np.ndarray:
        """The rows ``encode`` gives ``texts``, computed in a batch with whatever other requests are waiting.

        ``tokens`` is what the texts weigh against ``max_batch_tokens``.
        """
        if self._worker is None or self._worker.done():
            raise EncodeError("the batcher is not running: start it (async with DynamicBatcher(...)) first")
        job = _Job(list(texts), task_type, role, tokens, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        self._arrived.set()
        return await job.future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        batch: list[_Job] = []
        try:
            while True:
                batch = await self._next_batch()
                try:
                    rows = await loop.run_in_executor(self._executor, self._encode_batch, batch)
                except Exception as error:  # a failing encode must answer every request, never leave it waiting
                    _fail(batch, EncodeError(f"encoding failed: {type(error).__name__}: {error}"))
                    continue
                for job, vectors in zip(batch, rows):
                    if not job.future.done():  # the client may have gone away
                        job.future.set_result(vectors)
        finally:  # stopped (or broken): nobody may wait for an answer that will not come
            _fail([*batch, *self._queue], EncodeError("the server stopped before this request was encoded; "
                                                      "send it again"))
            self._queue.clear()

    async def _next_batch(self) -> list[_Job]:
        while not self._queue:
            self._arrived.clear()
            await self._arrived.wait()
        batch = [self._queue.popleft()]
        tokens = batch[0].tokens
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while tokens < self.max_batch_tokens:
            if not self._queue:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), deadline - asyncio.get_running_loop().time())
                except asyncio.TimeoutError:
                    break
                continue
            if tokens + self._queue[0].tokens > self.max_batch_tokens:
                break
            job = self._queue.popleft()
            batch.append(job)
            tokens += job.tokens
        return batch

    def _encode_batch(self, batch: list[_Job]) -> list[np.ndarray]:
        """Each job's rows: one ``encode`` per (task type, role) over the texts of its jobs."""
        rows: list[np.ndarray | None] = [None] * len(batch)
        groups: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
        for position, job in enumerate(batch):
            groups[job.task_type, job.role].append(position)
        for (task_type, role), positions in groups.items():
            vectors = self.encode([text for position in positions for text in batch[position].texts], task_type, role)
            ends = list(accumulate(len(batch[position].texts) for position in positions))
            for position, start, end in zip(positions, [0, *ends], ends):
                rows[position] = vectors[start:end]
        return rows


def _fail(jobs: list[_Job], error: EncodeError) -> None:
    for job in jobs:
        if not job.future.done():
            job.future.set_exception(error)
