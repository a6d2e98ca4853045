"""``DynamicBatcher`` with a recording encode: what shares an encode, what waits, and what a failure does."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from st_jce.serve.batching import DynamicBatcher, EncodeError


class RecordingEncode:
    """An encode whose rows say which text they are for; records each call's texts."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[list[str], str, str]] = []
        self.fail_on = fail_on

    def __call__(self, texts, task_type, role):
        self.calls.append((list(texts), task_type, role))
        if self.fail_on in texts:
            raise RuntimeError(f"cannot encode {self.fail_on!r}")
        return np.array([[float(text.removeprefix("t")), role == "query"] for text in texts])


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=30))


def test_concurrent_requests_share_one_encode_per_prefix_and_get_their_own_rows():
    encode = RecordingEncode()

    async def clients():
        async with DynamicBatcher(encode, max_wait_ms=50) as batcher:
            return await asyncio.gather(
                batcher.embed(["t1", "t2"], "nl2code", "document", tokens=2),
                batcher.embed(["t3"], "nl2code", "query", tokens=1),
                batcher.embed(["t4"], "nl2code", "document", tokens=1),
                batcher.embed(["t5"], "qa", "document", tokens=1))

    rows = run(clients())
    assert [vectors[:, 0].tolist() for vectors in rows] == [[1, 2], [3], [4], [5]]
    assert [vectors[:, 1].tolist() for vectors in rows] == [[0, 0], [1], [0], [0]]
    assert sorted(encode.calls) == [(["t1", "t2", "t4"], "nl2code", "document"), (["t3"], "nl2code", "query"),
                                    (["t5"], "qa", "document")]


def test_a_batch_stops_at_the_token_budget():
    encode = RecordingEncode()

    async def clients():
        async with DynamicBatcher(encode, max_wait_ms=50, max_batch_tokens=10) as batcher:
            return await asyncio.gather(*(batcher.embed([f"t{index}"], "nl2code", "document", tokens=4)
                                          for index in range(5)))

    rows = run(clients())
    assert [vectors[0, 0] for vectors in rows] == [0, 1, 2, 3, 4]
    assert [texts for texts, *_ in encode.calls] == [["t0", "t1"], ["t2", "t3"], ["t4"]]


def test_an_idle_request_waits_no_longer_than_max_wait():
    async def alone():
        async with DynamicBatcher(RecordingEncode(), max_wait_ms=20) as batcher:
            loop = asyncio.get_running_loop()
            start = loop.time()
            await batcher.embed(["t1"], "nl2code", "query", tokens=1)
            return loop.time() - start

    assert run(alone()) < 1.0


def test_a_failing_encode_fails_its_whole_batch_and_the_next_batch_runs():
    encode = RecordingEncode(fail_on="t2")

    async def clients():
        async with DynamicBatcher(encode, max_wait_ms=50) as batcher:
            failed = await asyncio.gather(batcher.embed(["t1"], "nl2code", "document", tokens=1),
                                          batcher.embed(["t2"], "nl2code", "document", tokens=1),
                                          return_exceptions=True)
            return failed, await batcher.embed(["t3"], "nl2code", "document", tokens=1)

    failed, after = run(clients())
    assert all(isinstance(error, EncodeError) and "cannot encode 't2'" in str(error) for error in failed)
    assert after[:, 0].tolist() == [3]


def test_closing_fails_what_still_waits_and_refuses_new_requests():
    async def clients():
        batcher = DynamicBatcher(RecordingEncode(), max_wait_ms=0)
        batcher.start()
        waiting = asyncio.ensure_future(batcher.embed(["t1"], "nl2code", "document", tokens=1))
        await asyncio.sleep(0)
        await batcher.close()
        with pytest.raises(EncodeError, match="not running"):
            await batcher.embed(["t2"], "nl2code", "document", tokens=1)
        return await asyncio.gather(waiting, return_exceptions=True)

    (outcome,) = run(clients())
    assert isinstance(outcome, EncodeError) and "stopped" in str(outcome)


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="max_batch_tokens"):
        DynamicBatcher(RecordingEncode(), max_batch_tokens=0)
