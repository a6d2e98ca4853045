"""What a saved model directory is: which format, which modules, which named prompts, read without loading it.

Three formats matter to st-jce:

- ``native``: st-jce's own modules (``st_jce.PrefixPrompt`` ...), as ``model.save_pretrained`` writes them;
  loaded by :func:`st_jce.load` (or ``SentenceTransformer(path, trust_remote_code=True)``);
- ``portable``: built-in sentence-transformers modules with the ten ``{task}_{role}`` prompts, as
  :func:`st_jce.export_portable` writes them and ``jinaai/jina-code-embeddings-*`` are published; loaded
  by a plain ``SentenceTransformer(path)``, turned native by :func:`st_jce.from_portable`;
- ``other``: any other sentence-transformers model (a baseline such as MiniLM).

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> model_format([module_type(module) for module in model], model.prompts)
'native'
>>> directory = read_model_dir(st_jce.export_portable(model, tempfile.mkdtemp()))
>>> directory.format, directory.modules[1]["type"].rsplit(".", 1)[-1]
('portable', 'Pooling')
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from st_jce.prefixes import ROLES, TASK_TYPES, prompt_name

NATIVE, PORTABLE, OTHER = "native", "portable", "other"
MODULES_FILE = "modules.json"
ST_CONFIG_FILE = "config_sentence_transformers.json"
TASK_PROMPT_NAMES = frozenset(prompt_name(task, role) for task in TASK_TYPES for role in ROLES)


def module_type(module) -> str:
    """The type sentence-transformers records in ``modules.json`` for ``module``, e.g. ``"st_jce.PrefixPrompt"``."""
    return f"{type(module).__module__}.{type(module).__name__}"


def model_format(module_types: Iterable[str], prompts: Mapping[str, str]) -> str:
    """``"native"``, ``"portable"`` or ``"other"`` for a model of these module types and named prompts."""
    module_types = list(module_types)
    if any(kind.startswith("st_jce.") for kind in module_types):
        return NATIVE
    if module_types and module_types[0].endswith(".Transformer") and TASK_PROMPT_NAMES <= set(prompts):
        return PORTABLE
    return OTHER


@dataclass(frozen=True)
class ModelDirectory:
    """A sentence-transformers model directory and its ``modules.json`` entries."""

    path: Path
    modules: list[dict[str, Any]]

    @property
    def prompts(self) -> dict[str, str]:
        """The named prompts (``config_sentence_transformers.json``), ``{}`` if it has none."""
        return dict(self.read_json(ST_CONFIG_FILE).get("prompts") or {})

    @property
    def format(self) -> str:
        """``"native"``, ``"portable"`` or ``"other"`` (see the module docstring)."""
        return model_format((str(entry.get("type", "")) for entry in self.modules), self.prompts)

    def read_json(self, relative_path: str | os.PathLike) -> dict[str, Any]:
        """The JSON file at ``relative_path`` inside the directory, ``{}`` if there is none."""
        file = self.path / relative_path
        return json.loads(file.read_text()) if file.is_file() else {}


def read_model_dir(model_dir: str | os.PathLike) -> ModelDirectory:
    """Read the description of the model saved in ``model_dir`` (no weights are loaded).

    Raises
    ------
    FileNotFoundError
        If ``model_dir`` has no ``modules.json``, saying what to pass instead.
    """
    path = Path(model_dir)
    modules_file = path / MODULES_FILE
    if not modules_file.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} has no {MODULES_FILE}, so it is not a sentence-transformers model: pass a directory that "
            "model.save_pretrained(...) or st_jce.export_portable(...) wrote, or a Hub id of one; to make a model "
            "from a backbone, use st_jce.build_model(...)."
        )
    return ModelDirectory(path, json.loads(modules_file.read_text()))
