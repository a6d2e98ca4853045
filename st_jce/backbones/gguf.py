"""Turning a GGUF file into a plain transformers folder, once, in a cache.

A GGUF (llama.cpp's format) holds a decoder's quantized weights, its config and its tokenizer in one
file. transformers reads it (``from_pretrained(folder, gguf_file=...)``) and unpacks every weight to
float, but the rest of st-jce (sentence-transformers' ``Transformer``, saving, the prefix cache) works
on a normal folder of safetensors + config + tokenizer. :func:`convert_gguf` writes that folder once
and returns it on every later call:

- it lives in :func:`default_cache_dir` (``$ST_JCE_CACHE/gguf``, else ``~/.cache/st_jce/gguf``), named by
  the GGUF's pinned sha256 or, without one, by its path, size and modification time (a changed file is
  converted again);
- it is written into a hidden sibling and renamed into place, so an interrupted conversion leaves
  nothing half-written; of two processes converting the same file, the first rename wins;
- a GGUF shipped in parts is first concatenated in order and checked against its sha256
  (:func:`assemble_parts`);
- a missing file, a file that is not a GGUF, one cut short, or one whose checksum is not the pinned one
  raises :class:`GGUFFileError`, naming the file and its size.

The weights are saved in float32, the exact values of the dequantized blocks; ``build_model(dtype=...)``
casts them when loading. The LM head and the chat template are left out: the folder is an embedding backbone.

Examples
--------
::

    folder = convert_gguf("qwen2.5-coder-0.5b-instruct-q8_0.gguf")  # converts once, then returns the same folder
    sorted(path.name for path in folder.iterdir())
    # ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer, GgufConfig

GGUF_MAGIC = b"GGUF"
ASSEMBLED_NAME = "model.gguf"
# In every converted folder's name: bump it when what a conversion writes changes, so older folders are not reused.
CONVERSION_VERSION = 1
_CHUNK_BYTES = 16 * 1024 * 1024

logger = logging.getLogger(__name__)


class GGUFFileError(ValueError):
    """A GGUF file (or part of one) is missing, not a GGUF, cut short, or not the pinned one.

    ``path`` is the file; the message names it and says how to fix it.
    """

    def __init__(self, path: str | os.PathLike, message: str):
        self.path = Path(path)
        super().__init__(message)


def default_cache_dir() -> Path:
    """Where converted GGUFs go: ``$ST_JCE_CACHE/gguf`` if ``ST_JCE_CACHE`` is set, else ``~/.cache/st_jce/gguf``."""
    root = os.environ.get("ST_JCE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "st_jce") / "gguf"


def convert_gguf(gguf: str | os.PathLike | Sequence[str | os.PathLike], cache_dir: str | os.PathLike | None = None,
                 *, sha256: str | None = None, name: str | None = None) -> Path:
    """The transformers folder (safetensors, config, tokenizer) of a GGUF, converted on the first call only.

    Parameters
    ----------
    gguf : path or sequence of paths
        A ``.gguf`` file, or the parts of one in order (concatenated into the cache while converting).
    cache_dir : path, optional
        Where the converted folders live; default :func:`default_cache_dir`.
    sha256 : str, optional
        The GGUF's pinned checksum (of the whole file, parts concatenated): checked before converting,
        and the cache key, so a later call finds the folder without reading the GGUF at all.
    name : str, optional
        The start of the folder's name (default: the GGUF's file name, or its first part's).

    Returns
    -------
    Path
        The converted folder; loads with ``AutoModel.from_pretrained`` and :func:`st_jce.build_model`.

    Raises
    ------
    GGUFFileError
        A file is missing, is not a GGUF, is cut short, or does not match ``sha256``.
    """
    parts = [Path(gguf)] if isinstance(gguf, (str, os.PathLike)) else [Path(part) for part in gguf]
    if not parts:
        raise ValueError("convert_gguf: no GGUF file given; pass a .gguf path or the list of its parts.")
    for index, part in enumerate(parts, start=1):
        if not part.is_file():
            which = f"part {index} of {len(parts)} of the GGUF" if len(parts) > 1 else "GGUF file"
            raise GGUFFileError(part, f"{which} not found: {str(part)!r}.")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / f"{name or parts[0].stem}-{_cache_key(parts, sha256)}-v{CONVERSION_VERSION}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.converting-", dir=root))
    try:
        start = time.perf_counter()
        if len(parts) > 1:
            source = assemble_parts(parts, staging / ASSEMBLED_NAME, sha256)
        else:
            source = parts[0]
            if sha256 is not None:
                _check_sha256(source, sha256, _file_sha256(source))
        _check_magic(source)
        try:
            _write_transformers_folder(source, staging)
        except Exception:
            # Parsing a GGUF's metadata takes seconds (a vocabulary of 150k strings) and transformers parses
            # it anyway, so the file is only checked once loading has failed: a corrupt one is named here.
            check_gguf(source)
            raise
        (staging / ASSEMBLED_NAME).unlink(missing_ok=True)
        _rename_unless_there(staging, target)
        logger.info("Converted %s to %s in %.1f s.", parts[0], target, time.perf_counter() - start)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def assemble_parts(parts: Sequence[str | os.PathLike], destination: str | os.PathLike,
                   sha256: str | None = None) -> Path:
    """Concatenate ``parts`` in order into ``destination``; with ``sha256``, check the whole file's checksum.

    On a mismatch ``destination`` is deleted and :class:`GGUFFileError` gives the expected and actual checksums.
    """
    destination = Path(destination)
    digest = hashlib.sha256()
    with destination.open("wb") as out:
        for part in parts:
            with Path(part).open("rb") as stream:
                while chunk := stream.read(_CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
    if sha256 is not None:
        try:
            _check_sha256(destination, sha256, digest.hexdigest(), parts)
        except GGUFFileError:
            destination.unlink()
            raise
    return destination


def check_gguf(path: str | os.PathLike) -> None:
    """Raise :class:`GGUFFileError` unless ``path`` is a whole GGUF file (magic, metadata and every tensor's bytes)."""
    from gguf import GGUFReader  # imported here: only a failed conversion needs it

    path = Path(path)
    _check_magic(path)
    try:
        GGUFReader(path)
    # The reader fails in many ways on a short file (numpy reshapes, dtype views, struct reads).
    except Exception as error:
        raise GGUFFileError(path, f"{str(path)!r} ({path.stat().st_size:,} bytes) is a corrupt or truncated GGUF "
                                  f"({error}): it was probably cut short by an interrupted download or copy; "
                                  "download or reinstall it.") from error


def _check_magic(path: Path) -> None:
    with path.open("rb") as stream:
        magic = stream.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise GGUFFileError(path, f"{str(path)!r} ({path.stat().st_size:,} bytes) is not a GGUF file: it starts with "
                                  f"{magic!r}, not {GGUF_MAGIC!r}. It is corrupt or truncated, or another format; "
                                  "download or reinstall it.")


def _check_sha256(path: Path, expected: str, got: str, parts: Sequence[str | os.PathLike] = ()) -> None:
    if got != expected:
        origin = f" (assembled from {len(parts)} parts: {', '.join(str(part) for part in parts)})" if parts else ""
        raise GGUFFileError(path, f"checksum mismatch of the GGUF {str(path)!r}{origin}: expected sha256 {expected}, "
                                  f"got {got}. A file is corrupt, truncated or from another release; reinstall it.")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_key(parts: list[Path], sha256: str | None) -> str:
    if sha256 is not None:
        return sha256[:16]
    stats = [(str(part.resolve()), part.stat().st_size, part.stat().st_mtime_ns) for part in parts]
    return hashlib.sha256(repr(stats).encode()).hexdigest()[:16]


def _write_transformers_folder(gguf_path: Path, folder: Path) -> None:
    # dequantize=True unpacks every weight into a dense tensor, and transformers then drops the GGUF
    # quantizer (model.hf_quantizer, config.quantization_config) that makes save_pretrained refuse the model.
    model = AutoModel.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32,
                                      quantization_config=GgufConfig(dequantize=True))
    model.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # The folder is a backbone without its LM head, never a chat model; with a chat template, sentence-transformers
    # would render every text as a chat turn (system prompt and all) instead of prefix + text + EOS.
    tokenizer.chat_template = None
    tokenizer.save_pretrained(folder)


def _rename_unless_there(staging: Path, target: Path) -> None:
    try:
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():
            raise
        # Another process converted the same GGUF meanwhile; its folder is as good as this one.
        shutil.rmtree(staging)
