"""Check a whole ``datasets:`` list before training starts, so a bad config fails in seconds.

Examples
--------
>>> from st_jce.data import validate_specs
>>> specs = validate_specs([{"name": "cosqa"}, {"source": "stdlib", "mining": {"kind": "code2nl"}}])
>>> [spec.name for spec in specs]
['cosqa', 'stdlib-code2nl']
>>> validate_specs([{"name": "cosqa"}, {"name": "cosqa"}])
Traceback (most recent call last):
...
ValueError: Invalid `datasets` config:
  datasets[1].name: duplicate name 'cosqa' (also datasets[0]); give each dataset a unique name.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from st_jce.data.local import local_columns
from st_jce.data.mining import package_root
from st_jce.data.spec import DatasetSpec, config_key

logger = logging.getLogger(__name__)


def _file_problems(spec: DatasetSpec, index: int) -> list[str]:
    """What is wrong with the files a spec reads (local files and their columns, mining roots and packages)."""
    if spec.source == "local":
        try:
            available = local_columns(spec.path)
        except ValueError as error:
            return [f"{config_key(index, 'path')}: {error}"]
        # A dotted name reaches into a struct column: its first part must be a column.
        return [f"{config_key(index, key)}: column {column!r} not in {spec.path!r}; available columns: {available}."
                for key, column in (("query_column", spec.query_column), ("document_column", spec.document_column))
                if column not in available and column.split(".", 1)[0] not in available]
    if spec.source == "stdlib":
        problems = [f"{config_key(index, 'mining.roots')}: folder {root!r} does not exist; fix or remove it."
                    for root in spec.mining.get("roots", []) if not Path(root).expanduser().is_dir()]
        for name in spec.mining.get("packages", []):
            try:
                package_root(name)
            except ModuleNotFoundError as error:
                problems.append(f"{config_key(index, 'mining.packages')}: {error}")
        return problems
    return []


def validate_specs(specs: list[DatasetSpec | dict[str, Any]]) -> list[DatasetSpec]:
    """Check every spec cheaply and return them as :class:`DatasetSpec` objects.

    Checks: each entry's keys and values (source, registry name, task type, mining options), unique
    names, local files exist and have the configured columns (reading only their header / first
    record), mining roots exist and mining packages are installed. Hub datasets cannot be checked offline;
    they fail when loaded.
    Registry entries that contain a public evaluation set (``eval_overlap``) are logged as warnings.

    Raises
    ------
    ValueError
        Listing every problem, one per line, each naming its key (``datasets[2].task_type: ...``).
    """
    if not specs:
        raise ValueError("Invalid `datasets` config: the list is empty; add at least one dataset entry.")
    problems: list[str] = []
    checked: list[DatasetSpec] = []
    first_index: dict[str, int] = {}
    for index, spec in enumerate(specs):
        try:
            spec = DatasetSpec.from_dict(spec, index) if isinstance(spec, dict) else spec
            spec.check(index)
        except ValueError as error:
            problems.append(str(error))
            continue
        checked.append(spec)
        if spec.name in first_index:
            problems.append(f"{config_key(index, 'name')}: duplicate name {spec.name!r} (also "
                            f"datasets[{first_index[spec.name]}]); give each dataset a unique name.")
        first_index.setdefault(spec.name, index)
        problems.extend(_file_problems(spec, index))
        if spec.source == "registry" and spec.entry.eval_overlap:
            logger.warning("datasets[%d] %r contains the %s evaluation set: %s", index, spec.name,
                           spec.entry.eval_overlap, spec.entry.note)
    if problems:
        raise ValueError("Invalid `datasets` config:\n  " + "\n  ".join(problems))
    return checked
