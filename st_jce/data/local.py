"""Local training files: JSONL / JSON / Parquet / CSV, one file or a glob of files of one format.

:func:`local_columns` reads only what it needs to know the column names (the Parquet schema, the CSV
header, the first JSON record), so configs can be checked before anything is loaded.

Examples
--------
>>> import json, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "pairs.jsonl").write_text(json.dumps({"question": "add numbers", "code": "a + b"}) + "\\n")
>>> local_columns(str(folder / "*.jsonl"))
['question', 'code']
>>> load_local(str(folder / "pairs.jsonl"))[0]
{'question': 'add numbers', 'code': 'a + b'}
"""

from __future__ import annotations

import csv
import glob
import json
from pathlib import Path

import datasets

# File suffix -> the `datasets` packaged builder that reads it.
BUILDERS: dict[str, str] = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def local_files(path: str) -> list[Path]:
    """The files ``path`` names (a file or a glob), sorted; ``ValueError`` if none or of mixed/unknown format."""
    files = sorted(Path(match) for match in glob.glob(str(Path(path).expanduser()), recursive=True))
    files = [file for file in files if file.is_file()]
    if not files:
        raise ValueError(f"no file matches {path!r}: set `path` to an existing .jsonl/.json/.parquet/.csv file "
                         f"or a glob such as 'data/*.jsonl'.")
    suffixes = {file.suffix.lower() for file in files}
    unknown = suffixes - set(BUILDERS)
    if unknown:
        raise ValueError(f"{path!r} matches files of unsupported type {sorted(unknown)}: use "
                         f"{sorted(BUILDERS)} files.")
    if len({BUILDERS[suffix] for suffix in suffixes}) > 1:
        raise ValueError(f"{path!r} matches files of several formats {sorted(suffixes)}: use a glob that "
                         f"matches one format, or one dataset entry per format.")
    return files


def _first_json_record(file: Path) -> dict:
    with file.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                break
        else:
            return {}
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = None
    if isinstance(record, dict):
        return record
    # Not JSON Lines: a whole-file JSON array of records (or {"data": [...]}, as `datasets` accepts).
    content = json.loads(file.read_text(encoding="utf-8"))
    if isinstance(content, dict) and len(content) == 1 and isinstance(next(iter(content.values())), list):
        content = next(iter(content.values()))
    return content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}


def local_columns(path: str) -> list[str]:
    """Column names of the first file ``path`` names, read from its header / schema / first record only."""
    file = local_files(path)[0]
    builder = BUILDERS[file.suffix.lower()]
    if builder == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(file).names)
    if builder == "csv":
        with file.open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle), [])
    return list(_first_json_record(file))


def load_local(path: str) -> datasets.Dataset:
    """All rows of the files ``path`` names, as one ``Dataset``."""
    files = local_files(path)
    builder = BUILDERS[files[0].suffix.lower()]
    return datasets.load_dataset(builder, data_files=[str(file) for file in files], split="train")
