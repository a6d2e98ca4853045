"""``st_jce.load``: load an st-jce model without ``trust_remote_code``, after checking it runs no code;
``load_model``: that, or any other sentence-transformers model as it is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from sentence_transformers import SentenceTransformer

from st_jce.dtypes import resolve_dtype
from st_jce.model.card import read_card_inputs
from st_jce.model.directory import MODULES_FILE, NATIVE, read_model_dir
from st_jce.model.embedder import CodeEmbedder
from st_jce.model.weights import verify_weights

TRUSTED_MODULE_NAMESPACES = ("sentence_transformers.", "st_jce.")
# Formats that unpickle (and so can run code) when loaded.
PICKLE_WEIGHT_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")


class UnsafeModelError(ValueError):
    """A model directory holds something ``st_jce.load`` will not run: custom code or pickled weights."""


def resolve_model_dir(model_name_or_path: str | os.PathLike, *, revision: str | None = None,
                      token: bool | str | None = None, cache_folder: str | None = None,
                      local_files_only: bool = False) -> Path:
    """A local directory as is; a Hub id downloaded through ``huggingface_hub`` (cache, revision, token)."""
    if Path(model_name_or_path).is_dir():
        return Path(model_name_or_path)
    if Path(model_name_or_path).exists() or str(model_name_or_path).count("/") > 1:
        raise FileNotFoundError(f"{str(model_name_or_path)!r} is neither a model directory nor a Hub id "
                                "('owner/name'): check the path.")
    return Path(snapshot_download(str(model_name_or_path), revision=revision, token=token, cache_dir=cache_folder,
                                  local_files_only=local_files_only))


def check_model_dir(model_dir: str | os.PathLike) -> None:
    """Refuse a directory that would run code or unpickle data when loaded; check its weights files.

    Allowed: ``modules.json`` types from ``sentence_transformers.*`` and ``st_jce.*`` only, no ``*.py``
    file (ST would import a file named after a module type), no ``auto_map`` in a config (transformers
    would fetch modeling code), weights as ``*.safetensors`` only, and every weights file whole.

    Raises
    ------
    UnsafeModelError
        Naming the offending file and what to do instead.
    FileNotFoundError
        If the directory has no ``modules.json`` (:func:`st_jce.model.directory.read_model_dir`).
    """
    model_dir = Path(model_dir)
    for entry in read_model_dir(model_dir).modules:
        if not str(entry.get("type", "")).startswith(TRUSTED_MODULE_NAMESPACES):
            raise UnsafeModelError(
                f"{model_dir / MODULES_FILE}: module type {entry.get('type')!r} is neither sentence_transformers.* nor "
                "st_jce.*; st_jce.load runs no third-party code. If you trust it, load it with "
                "SentenceTransformer(path, trust_remote_code=True)."
            )
    for file in sorted(model_dir.rglob("*")):
        if file.suffix == ".py":
            raise UnsafeModelError(f"{file}: st_jce.load refuses model directories that contain Python code. "
                                   "Remove the file if it is not needed, or load with trust_remote_code=True if you trust it.")
        if file.suffix in PICKLE_WEIGHT_SUFFIXES:
            raise UnsafeModelError(f"{file}: pickled weights can run code when loaded; st_jce.load accepts "
                                   "*.safetensors only. Re-save the model with safe_serialization=True.")
        if file.name in ("config.json", "tokenizer_config.json") and "auto_map" in json.loads(file.read_text()):
            raise UnsafeModelError(f"{file}: 'auto_map' points transformers at custom modeling code, which "
                                   "st_jce.load does not run. Use a backbone that transformers supports natively.")
    verify_weights(model_dir)


def load(model_name_or_path: str | os.PathLike, *, device: str | None = None, dtype: str | torch.dtype | None = None,
         revision: str | None = None, token: bool | str | None = None, cache_folder: str | None = None,
         local_files_only: bool = False) -> CodeEmbedder:
    """Load an st-jce model (a directory or a Hub id) without passing ``trust_remote_code``.

    The directory is checked first (:func:`check_model_dir`); nothing in it is executed. The facts its
    model card was written from (``st_jce_card.json``) come back as ``model.card_inputs``, so the next save
    keeps them.

    Parameters
    ----------
    model_name_or_path : str or PathLike
        A directory written by ``model.save_pretrained`` or a Hub id of one.
    device : str, optional
        Where to put the model (default: a GPU when there is one).
    dtype : "auto", str or torch.dtype, optional
        Compute dtype; ``None`` keeps the dtype the weights were saved in.
    revision, token, cache_folder, local_files_only
        As for ``huggingface_hub.snapshot_download``.

    Examples
    --------
    >>> import tempfile, st_jce
    >>> from st_jce.testing import random_qwen2
    >>> folder = tempfile.mkdtemp()
    >>> st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32").save_pretrained(folder)
    >>> st_jce.load(folder).encode_query(["parse json"], task_type="nl2code").shape
    (1, 64)
    """
    model_dir = resolve_model_dir(model_name_or_path, revision=revision, token=token, cache_folder=cache_folder,
                                  local_files_only=local_files_only)
    check_model_dir(model_dir)
    # trust_remote_code=True only lets ST import the st_jce.* classes checked above; transformers is told
    # explicitly not to run repository code.
    no_remote_code = {"trust_remote_code": False}
    model_kwargs = dict(no_remote_code, **({"dtype": resolve_dtype(dtype, device)} if dtype is not None else {}))
    model = CodeEmbedder(str(model_dir), device=device, trust_remote_code=True, model_kwargs=model_kwargs,
                         processor_kwargs=no_remote_code, config_kwargs=no_remote_code, local_files_only=True)
    model.card_inputs = read_card_inputs(model_dir)
    return model


def load_model(model_name_or_path: str | os.PathLike, *, device: str | None = None,
               dtype: str | torch.dtype | None = None) -> SentenceTransformer:
    """An st-jce model in the native format through :func:`st_jce.load`; any other sentence-transformers model
    (portable st-jce, a baseline) as it is; on ``device`` (default: a GPU when there is one), in ``dtype``
    (:func:`st_jce.dtypes.resolve_dtype`; ``None``: as saved).

    Examples
    --------
    >>> import tempfile, st_jce
    >>> from st_jce.testing import random_qwen2
    >>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
    >>> type(load_model(st_jce.export_portable(model, tempfile.mkdtemp()))).__name__
    'SentenceTransformer'
    """
    model_dir = resolve_model_dir(model_name_or_path)
    if read_model_dir(model_dir).format == NATIVE:
        return load(model_dir, device=device, dtype=dtype)
    model_kwargs = {"dtype": resolve_dtype(dtype, device)} if dtype is not None else None
    return SentenceTransformer(str(model_dir), device=device, model_kwargs=model_kwargs)
