"""Fixtures of the serve tests (``tiny_qwen_dir`` comes from ``tests/conftest.py``)."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from serve_helpers import SERVED_NAME, running_server

import st_jce
from st_jce.serve.app import create_app
from st_jce.serve.settings import ServeSettings


@pytest.fixture(scope="session")
def tiny_model(tiny_qwen_dir):
    """The tiny random Qwen2 as an st-jce model, in float32 (deterministic on any CPU)."""
    return st_jce.build_model(tiny_qwen_dir, dtype="float32")


@pytest.fixture
def serve(tiny_model):
    """``serve(**settings)``: the base URL of a server of ``tiny_model`` under those settings, for this test."""
    with ExitStack() as stack:
        def start(**settings) -> str:
            app = create_app(tiny_model, ServeSettings(served_model_name=SERVED_NAME, **settings))
            return stack.enter_context(running_server(app))
        yield start


@pytest.fixture(scope="module")
def base_url(tiny_model):
    """A server of ``tiny_model`` with the default settings, shared by a test module."""
    with running_server(create_app(tiny_model, ServeSettings(served_model_name=SERVED_NAME))) as url:
        yield url
