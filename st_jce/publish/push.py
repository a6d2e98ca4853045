"""``push_model``: publish a saved st-jce model to the Hugging Face Hub, portable or native, with its card.

Examples
--------
>>> from st_jce.publish import push_model
>>> push_model("runs/jce-0.5b/final", "me/jce-0.5b")  # doctest: +SKIP
'https://huggingface.co/me/jce-0.5b/commit/...'
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from huggingface_hub import HfApi
from sentence_transformers import SentenceTransformer

from st_jce.publish.card import read_card_inputs, write_model_card


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
    published, not other things in ``model_dir`` such as trainer checkpoints. The card reuses the training
    and evaluation details that :func:`st_jce.publish.write_model_card` saved in ``model_dir``.

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
    import st_jce

    model_dir = Path(model_dir)
    if not (model_dir / "modules.json").is_file():
        raise FileNotFoundError(f"push_model needs a local st-jce model directory (with modules.json), got "
                                f"{str(model_dir)!r}: pass the folder that model.save_pretrained(...) wrote.")
    first_module = json.loads((model_dir / "modules.json").read_text())[0]["type"]
    if not first_module.startswith("st_jce."):
        raise ValueError(f"{str(model_dir)!r} is not in st-jce's native format (its first module is {first_module}). "
                         "Push the native directory it was exported from, or convert it first: "
                         "st_jce.from_portable(path).save_pretrained(new_dir).")
    model = st_jce.load(model_dir)
    card_inputs = {**read_card_inputs(model_dir), "model_id": repo_id, "portable": portable}
    format_name = "portable" if portable else "native"
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="st-jce-push-") as staging:
        folder = Path(staging) / "model"
        if portable:
            st_jce.export_portable(model, folder)
            # The card describes what is published, and a plain SentenceTransformer must load it before it goes out.
            del model
            model = SentenceTransformer(str(folder), local_files_only=True)
        else:
            model.save_pretrained(str(folder))
        write_model_card(folder, model=model, **card_inputs)
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision is not None:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id, folder_path=folder, revision=revision,
            commit_message=commit_message or f"Upload st-jce model ({format_name} format)",
        )
    return commit.commit_url
