"""Helpers of the serve tests: a server on a free loopback port, and the official OpenAI client pointed at it."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import numpy as np
import openai
import uvicorn

SERVED_NAME = "tiny-coder"  # the model id the test servers answer to


@contextmanager
def running_server(app):
    """``app`` served by uvicorn in a thread on a free port of 127.0.0.1; yields its base URL, stops it after."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{listening.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)


def client(base_url: str, api_key: str = "unused") -> openai.OpenAI:
    """The official OpenAI client pointed at a server (no retries: every answer counts)."""
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, timeout=60)


def cosines(a, b) -> np.ndarray:
    """Row-wise cosine similarity of two stacks of vectors."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
