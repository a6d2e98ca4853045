"""Fixtures of the publishing tests: ``hub_server``, a loopback Hugging Face Hub (see hub_server.py)."""

from hub_server import hub_server  # noqa: F401  (registers the fixture for the tests in this folder)
