"""A check that weights files are whole: :func:`verify_weights` turns a truncated or corrupt ``*.safetensors`` file
into a :class:`CorruptWeightsError` that names the file, instead of a stack trace from deep inside safetensors.
(Saves themselves never leave a half-written model: :mod:`st_jce.atomic`.)

Examples
--------
>>> import tempfile, pathlib
>>> verify_weights(pathlib.Path(tempfile.mkdtemp()))
[]
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

# Bytes per element of each safetensors dtype; sub-byte types count in bits below.
SAFETENSORS_DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
}
# safetensors itself refuses headers above 100 MB; a larger length means the first bytes are garbage.
MAX_HEADER_BYTES = 100_000_000


class CorruptWeightsError(ValueError):
    """A weights file is truncated or corrupt. ``path`` is the file, ``reason`` what is wrong with it."""

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(
            f"Corrupt weights file {str(self.path)!r}: {reason}. The file was probably cut short by an interrupted "
            "download or save: delete it and download the model again (e.g. with force_download=True), or save "
            "the model again from a working copy."
        )


def verify_weights(model_dir: str | Path) -> list[Path]:
    """Check every ``*.safetensors`` file under ``model_dir`` (recursively) and return their paths.

    A file passes when its 8-byte header length is sane, the JSON header parses, every tensor's
    byte range matches its dtype and shape, the ranges tile the data section without gaps or
    overlaps, and the file is exactly as long as the header says. Only the header is read.

    Raises
    ------
    CorruptWeightsError
        For the first file that fails, naming it and what is wrong.

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> from safetensors.torch import save_file
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> save_file({"w": torch.zeros(4)}, folder / "model.safetensors")
    >>> [p.name for p in verify_weights(folder)]
    ['model.safetensors']
    >>> _ = (folder / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes()[:-3])
    >>> try:
    ...     verify_weights(folder)
    ... except CorruptWeightsError as error:
    ...     print(error.path.name, "-", error.reason)
    model.safetensors - the file has 13 bytes of tensor data but its header describes 16
    """
    files = sorted(Path(model_dir).rglob("*.safetensors"))
    for file in files:
        _verify_safetensors_file(file)
    return files


def _verify_safetensors_file(file: Path) -> None:
    size = file.stat().st_size
    with open(file, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise CorruptWeightsError(file, f"the file is {size} bytes long, shorter than the 8-byte header length")
        (header_length,) = struct.unpack("<Q", prefix)
        if header_length > MAX_HEADER_BYTES or 8 + header_length > size:
            raise CorruptWeightsError(
                file, f"the header claims {header_length} bytes but the file is only {size} bytes long"
            )
        raw_header = handle.read(header_length)
    try:
        header = json.loads(raw_header.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptWeightsError(file, f"the JSON header does not parse ({error})") from None
    if not isinstance(header, dict):
        raise CorruptWeightsError(file, "the header is not a JSON object")
    ranges = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        ranges.append(_tensor_byte_range(file, name, entry))
    data_length = size - 8 - header_length
    covered = 0
    for start, end, name in sorted(ranges):
        if start != covered:
            raise CorruptWeightsError(file, f"tensor {name!r} starts at byte {start}, expected {covered}")
        covered = end
    if covered != data_length:
        raise CorruptWeightsError(
            file, f"the file has {data_length} bytes of tensor data but its header describes {covered}"
        )


def _tensor_byte_range(file: Path, name: str, entry: object) -> tuple[int, int, str]:
    try:
        dtype, shape, (start, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        bits = SAFETENSORS_DTYPE_BITS[dtype] * math.prod(shape)
        start, end = int(start), int(end)
    except (TypeError, KeyError, ValueError) as error:
        raise CorruptWeightsError(file, f"the header entry of tensor {name!r} is malformed ({error!r})") from None
    if end - start != math.ceil(bits / 8):
        raise CorruptWeightsError(
            file, f"tensor {name!r} ({dtype}, shape {shape}) needs {math.ceil(bits / 8)} bytes, header gives "
            f"{end - start}"
        )
    return start, end, name
