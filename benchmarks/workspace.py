"""Where this project's workspace keeps what the tests and benchmarks read but the package never ships: the
``shared/`` folder beside the checkout (``$ST_JCE_SHARED`` overrides it), with the real Qwen2.5 tokenizer's files,
the evaluation sets and the repository-search development split."""

from __future__ import annotations

import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The workspace's ``shared/`` folder (``$ST_JCE_SHARED``, else ``shared`` beside the checkout or the working
    directory), if present."""
    for candidate in (os.environ.get("ST_JCE_SHARED"), CHECKOUT.parent / "shared", Path.cwd().parent / "shared"):
        if candidate and Path(candidate, "tokenizers").is_dir():
            return Path(candidate)
    return None


def qwen_tokenizer_files() -> Path | None:
    """The folder of the Qwen2.5 tokenizer's ``vocab.json`` / ``merges.txt`` / ``special_tokens.json``, if present."""
    root = shared_dir()
    folder = root / "tokenizers" / "qwen2.5" if root else None
    return folder if folder and (folder / "vocab.json").is_file() else None


def real_qwen2(output_dir: str | Path, shape: str = "tiny", **options) -> Path:
    """:func:`st_jce.testing.random_qwen2` with the real Qwen2.5 tokenizer (raises where the workspace lacks it)."""
    from st_jce.testing import qwen_tokenizer, random_qwen2

    folder = qwen_tokenizer_files()
    if folder is None:
        raise FileNotFoundError("the Qwen2.5 tokenizer was not found: set ST_JCE_SHARED to a folder whose "
                                "tokenizers/qwen2.5 holds vocab.json, merges.txt and special_tokens.json.")
    return random_qwen2(output_dir, shape, tokenizer=qwen_tokenizer(folder), **options)
