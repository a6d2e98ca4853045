"""One entry of a training config's ``datasets:`` list.

Examples
--------
>>> from st_jce.data import DatasetSpec
>>> DatasetSpec.from_dict({"name": "cosqa"}).resolved_task_type
'nl2code'
>>> spec = DatasetSpec.from_dict({"name": "my-qa", "source": "local", "path": "qa.jsonl", "task_type": "techqa",
...                               "query_column": "question", "document_column": "answer"})
>>> spec.task_type
'qa'
>>> DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": "code2nl"}}, index=3).name
'stdlib-code2nl'
>>> DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": "code2code-rewrite"}}).resolved_task_type
'code2code'
>>> DatasetSpec.from_dict({"name": "x", "source": "hub", "path": "org/x", "task_type": "foo"}, index=2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: datasets[2].task_type: Unknown task type 'foo'. Valid task types: [...]; aliases: 'techqa' (= 'qa').
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any

from st_jce.data.mining import DEFAULT_HOLDOUT_FRACTION, MINING_KINDS, MINING_OPTIONS, MINING_TASK_TYPES
from st_jce.data.registry import RegistryEntry, registry_entry
from st_jce.prefixes import TASK_TYPES, resolve_task_type

SOURCES: tuple[str, ...] = ("registry", "hub", "local", "stdlib")


def config_key(index: int, key: str) -> str:
    """How an error names a key of the config: ``datasets[2].task_type``."""
    return f"datasets[{index}].{key}"


@dataclass
class DatasetSpec:
    """Where one training dataset comes from, how its columns map to (query, document), and its task type.

    Attributes
    ----------
    name
        Unique; becomes the trainer's dataset name. Defaults to ``path`` for ``registry`` / ``hub``
        sources and to ``stdlib-<kind>`` for ``stdlib``.
    source
        ``"registry"`` (``path``, or else ``name``, is a key of :data:`~st_jce.data.REGISTRY`), ``"hub"``
        (``path`` is a Hub dataset id, with ``subset`` / ``split``), ``"local"`` (``path`` is a
        .jsonl / .json / .parquet / .csv file or a glob) or ``"stdlib"`` (mined from installed Python source).
    task_type
        One of :data:`st_jce.TASK_TYPES` (alias ``techqa``). Required unless the registry entry or the
        mining kind supplies it.
    path, subset, split
        Where the rows are (see ``source``). For ``stdlib``, ``split`` is ``"train"`` or ``"test"``
        (the held-out functions); local files are a single ``"train"`` split.
    query_column, document_column
        The columns holding the query and document texts (dotted names reach into struct columns).
        For registry sources the entry's mapping applies unless these are changed from their defaults.
    max_samples
        Keep at most this many pairs, sampled after a fixed-seed shuffle.
    mining
        For ``stdlib``: ``kind`` (one of :data:`~st_jce.data.MINING_KINDS`, e.g. ``nl2code``,
        ``code2code-rewrite``, ``qa-docs``; it sets the task type), ``roots`` (extra source folders),
        ``packages`` (installed packages by import name), ``holdout_fraction``, ``seed``, ``max_code_chars``.
    weight
        Proportional mixing factor relative to the other datasets.
    """

    name: str
    source: str = "registry"
    task_type: str | None = None
    path: str | None = None
    subset: str | None = None
    split: str = "train"
    query_column: str = "query"
    document_column: str = "document"
    max_samples: int | None = None
    mining: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0

    @property
    def registry_key(self) -> str:
        """The :data:`~st_jce.data.REGISTRY` key of a registry source."""
        return self.path or self.name

    @property
    def entry(self) -> RegistryEntry:
        """The registry entry of a registry source."""
        return registry_entry(self.registry_key)

    @property
    def mining_kind(self) -> str | None:
        """For ``stdlib``: the pairs to mine, from ``mining.kind`` or else the task type."""
        return self.mining.get("kind") or (resolve_task_type(self.task_type) if self.task_type else None)

    @property
    def resolved_task_type(self) -> str:
        """The canonical task type: the spec's own, else the registry entry's, else the mining kind."""
        if self.task_type:
            return resolve_task_type(self.task_type)
        if self.source == "registry":
            return self.entry.task_type
        if self.source == "stdlib" and self.mining.get("kind") in MINING_TASK_TYPES:
            return MINING_TASK_TYPES[self.mining["kind"]]
        raise ValueError(f"Dataset {self.name!r} has no task type: set `task_type` to one of {list(TASK_TYPES)}.")

    def check(self, index: int = 0) -> None:
        """Raise a ``ValueError`` naming the config key if this spec cannot work (cheap: reads no data)."""
        key = partial(config_key, index)
        if self.source not in SOURCES:
            raise ValueError(f"{key('source')}: unknown source {self.source!r}; use one of {list(SOURCES)}.")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"{key('name')}: missing; give each dataset a unique, non-empty name.")
        if self.task_type is not None:
            try:
                resolve_task_type(self.task_type)
            except ValueError as error:
                raise ValueError(f"{key('task_type')}: {error}") from None
        if self.max_samples is not None and (isinstance(self.max_samples, bool)
                                             or not isinstance(self.max_samples, int) or self.max_samples < 1):
            raise ValueError(f"{key('max_samples')}: must be a positive integer or null; got {self.max_samples!r}.")
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) or not self.weight > 0:
            raise ValueError(f"{key('weight')}: must be a positive number; got {self.weight!r}.")
        for column in ("query_column", "document_column"):
            if not isinstance(getattr(self, column), str) or not getattr(self, column):
                raise ValueError(f"{key(column)}: must be a column name; got {getattr(self, column)!r}.")
        if self.mining and self.source != "stdlib":
            raise ValueError(f"{key('mining')}: only used with `source: stdlib`; remove it or change the source.")
        {"registry": self._check_registry, "hub": self._check_hub, "local": self._check_local,
         "stdlib": self._check_stdlib}[self.source](key)

    def _check_registry(self, key) -> None:
        try:
            entry = self.entry
        except ValueError as error:
            raise ValueError(f"{key('path' if self.path else 'name')}: {error}") from None
        if self.subset is not None and self.subset not in entry.subsets:
            choices = f"one of {list(entry.subsets)}" if entry.subsets else "nothing (it has no subsets)"
            raise ValueError(f"{key('subset')}: {self.registry_key!r} has no subset {self.subset!r}; set it to "
                             f"{choices}.")

    def _check_hub(self, key) -> None:
        if not self.path:
            raise ValueError(f"{key('path')}: missing; set it to the Hub dataset id, e.g. 'org/dataset'.")
        self._require_task_type(key)

    def _check_local(self, key) -> None:
        if not self.path:
            raise ValueError(f"{key('path')}: missing; set it to a .jsonl/.json/.parquet/.csv file or a glob.")
        if self.split != "train":
            raise ValueError(f"{key('split')}: local files are one 'train' split; got {self.split!r}. Point a "
                             f"separate entry's `path` at the held-out file instead.")
        self._require_task_type(key)

    def _require_task_type(self, key) -> None:
        if self.task_type is None:
            raise ValueError(f"{key('task_type')}: required for source {self.source!r}; set it to one of "
                             f"{list(TASK_TYPES)}.")

    def _check_stdlib(self, key) -> None:
        unknown = sorted(set(self.mining) - set(MINING_OPTIONS))
        if unknown:
            raise ValueError(f"{key('mining')}: unknown option(s) {unknown}; valid: {list(MINING_OPTIONS)}.")
        kind = self.mining.get("kind")
        task_type = resolve_task_type(self.task_type) if self.task_type else None
        if kind is None and task_type is None:
            raise ValueError(f"{key('mining.kind')}: required for source 'stdlib'; set it to one of "
                             f"{list(MINING_KINDS)}.")
        if kind is not None and kind not in MINING_KINDS:
            raise ValueError(f"{key('mining.kind')}: unknown kind {kind!r}; use one of {list(MINING_KINDS)}.")
        if kind is None and task_type not in MINING_KINDS:
            kinds = [name for name, made in MINING_TASK_TYPES.items() if made == task_type] or list(MINING_KINDS)
            raise ValueError(f"{key('task_type')}: stdlib mining has no kind named {task_type!r}; set "
                             f"`mining.kind` to one of {kinds}.")
        if kind is not None and task_type is not None and MINING_TASK_TYPES[kind] != task_type:
            raise ValueError(f"{key('task_type')}: {task_type!r} contradicts mining.kind {kind!r} (which makes "
                             f"{MINING_TASK_TYPES[kind]!r} pairs); drop `task_type` (the kind sets it).")
        if self.split not in ("train", "test"):
            raise ValueError(f"{key('split')}: mined pairs have splits 'train' and 'test'; got {self.split!r}.")
        fraction = self.mining.get("holdout_fraction", DEFAULT_HOLDOUT_FRACTION)
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:
            raise ValueError(f"{key('mining.holdout_fraction')}: must be a number in [0, 1); got {fraction!r}.")
        for option in ("seed", "max_code_chars"):
            value = self.mining.get(option, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key('mining.' + option)}: must be a non-negative integer; got {value!r}.")
        for option, items in (("roots", "folder paths"), ("packages", "import names")):
            value = self.mining.get(option, [])
            if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
                raise ValueError(f"{key('mining.' + option)}: must be a list of {items}; got {value!r}.")

    @classmethod
    def from_dict(cls, data: dict[str, Any], index: int = 0) -> DatasetSpec:
        """Build and :meth:`check` a spec from one ``datasets:`` entry; errors name ``datasets[index].<key>``."""
        if not isinstance(data, dict):
            raise ValueError(f"datasets[{index}]: must be a mapping such as {{name: cosqa}}; got {data!r}.")
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ValueError(f"{config_key(index, unknown[0])}: unknown key; valid keys: {valid}.")
        values = dict(data)
        source = values.get("source", "registry")
        mining = values.get("mining") or {}
        if not isinstance(mining, dict):
            raise ValueError(f"{config_key(index, 'mining')}: must be a mapping such as {{kind: nl2code}}.")
        values["mining"] = dict(mining)
        for option in ("roots", "packages"):
            if isinstance(values["mining"].get(option), str):
                values["mining"][option] = [values["mining"][option]]
        if not values.get("name"):
            if source in ("registry", "hub") and values.get("path"):
                values["name"] = values["path"]
            elif source == "stdlib" and (values["mining"].get("kind") or values.get("task_type")):
                values["name"] = f"stdlib-{values['mining'].get('kind') or values.get('task_type')}"
            else:
                raise ValueError(f"{config_key(index, 'name')}: missing; give each dataset a unique name.")
        spec = cls(**values)
        spec.check(index)
        if spec.task_type is not None:
            spec.task_type = resolve_task_type(spec.task_type)
        return spec
