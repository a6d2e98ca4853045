"""Training data of st-jce: (query, document) pairs, each dataset tagged with one task type.

Sources: the paper's public training sets under their Hub ids (:data:`REGISTRY`), any Hub dataset,
local JSONL / JSON / Parquet / CSV files, and pairs of every task type mined offline from what is installed
(:mod:`st_jce.data.mining`: the Python standard library and packages, their rewrites, their docs, their npm
twins; :data:`MINING_TASK_TYPES` maps each kind to its task type).

Examples
--------
>>> from st_jce.data import load_pairs, validate_specs
>>> specs = validate_specs([{"source": "stdlib", "mining": {"kind": "nl2code"}, "max_samples": 8}])
>>> pairs = load_pairs(specs[0])
>>> specs[0].resolved_task_type, pairs.column_names, len(pairs)
('nl2code', ['query', 'document'], 8)
"""

from st_jce.data.mining import MINING_KINDS, MINING_TASK_TYPES, mine_pairs
from st_jce.data.pairs import load_pairs
from st_jce.data.registry import NOT_REGISTERED, REGISTRY, RegistryEntry
from st_jce.data.spec import SOURCES, DatasetSpec
from st_jce.data.validation import validate_specs

__all__ = [
    "MINING_KINDS", "MINING_TASK_TYPES", "NOT_REGISTERED", "REGISTRY", "SOURCES", "DatasetSpec", "RegistryEntry", "load_pairs",
    "mine_pairs", "validate_specs",
]
