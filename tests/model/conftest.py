"""Fixtures of the publishing tests: ``hub_server``, a loopback Hugging Face Hub (see hub_server.py); and the
training tests' helpers (``train_helpers``), for the model cards of training runs."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parents[1] / "training"))

from hub_server import hub_server  # noqa: E402, F401  (registers the fixture for the tests in this folder)
