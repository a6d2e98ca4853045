"""``push_model``: publish a saved st-jce model to the Hugging Face Hub, portable or native, with its card.

Examples
--------
>>> from st_jce.model import push_model
>>> push_model("runs/jce-0.5b/final", "me/jce-0.5b")  # doctest: +SKIP
'https://huggingface.co/me/jce-0.5b/commit/...'
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from huggingface_hub import HfApi
from sentence_transformers import SentenceTransformer

from st_jce.model.directory import NATIVE, read_model_dir
from st_jce.model.loading import load
from st_jce.model.portable import export_portable


def push_model(
    model_dir: str | os.PathLike,
    repo_id: str,
    *,
    portable: bool = True,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
) -> str:
    """Upload the st-jce model saved in ``model_dir`` to the Hub repo ``repo_id`` and return the commit URL.

    The model is loaded (which checks that it runs no code and that its weights files are whole) and written
    afresh into a temporary folder: as built-in sentence-transformers modules when ``portable`` (checked to
    load with a plain ``SentenceTransformer``, as users will with ``SentenceTransformer(repo_id)``), else in
    st-jce's native format (needs ``pip install st-jce`` and ``st_jce.load``). A model card for that format
    and repo id goes with it, and everything is uploaded in one commit. Only the model's own files are
    published, not other things in ``model_dir`` such as trainer checkpoints. The card keeps the facts of
    the card in ``model_dir`` (training, evaluation results: ``st_jce_card.json``) and gives ``repo_id`` as
    the place to load the model from.

    Parameters
    ----------
    model_dir : str or PathLike
        A directory written by ``model.save_pretrained`` (st-jce native format).
    repo_id : str
        ``"owner/name"``; the repo is created if it does not exist.
    portable : bool
        Publish the portable format (default) or the native one.
    private : bool
        Create the repo as private (an existing repo keeps its visibility).
    revision : str, optional
        Branch to commit to; created from ``main`` if missing. Default: ``main``.
    token : str, optional
        Hub token; default: the logged-in one (``HF_TOKEN`` or ``hf auth login``).
    commit_message : str, optional
        Default: ``"Upload st-jce model (portable format)"`` or ``(native format)``.

    Returns
    -------
    str
        The URL of the commit.

    Raises
    ------
    FileNotFoundError
        If ``model_dir`` is not a directory with a ``modules.json``.
    ValueError
        If ``model_dir`` holds a portable model rather than a native one, or its weights are corrupt.
    """
    directory = read_model_dir(model_dir)
    if directory.format != NATIVE:
        raise ValueError(f"{str(model_dir)!r} is not in st-jce's native format (its format: {directory.format}). "
                         "Push the native directory it was exported from, or convert it first: "
                         "st_jce.from_portable(path).save_pretrained(new_dir).")
    model = load(model_dir)
    model.model_card_data.model_id = repo_id  # the card's snippets load the model from the Hub
    format_name = "portable" if portable else "native"
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="st-jce-push-") as staging:
        folder = Path(staging) / "model"
        if portable:
            export_portable(model, folder)
            # Users will load it with a plain SentenceTransformer: it must do so before it goes out.
            SentenceTransformer(str(folder), local_files_only=True)
        else:
            model.save_pretrained(str(folder))
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision is not None:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id, folder_path=folder, revision=revision,
            commit_message=commit_message or f"Upload st-jce model ({format_name} format)",
        )
    return commit.commit_url
