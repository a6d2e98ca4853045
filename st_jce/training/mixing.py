"""Dataset weights: how much of each dataset the proportional multi-dataset sampler sees.

The trainer's ``multi_dataset_batch_sampler="proportional"`` draws each batch from one dataset, with
probability proportional to the dataset's size. A dataset entry's ``weight`` scales that size: its rows
are repeated ``floor(weight)`` times plus a fixed-seed sample for the fraction, so a weight of 2 makes
it twice as likely and 0.5 half as likely (half of its rows, the same ones in every run and process).

Examples
--------
>>> from datasets import Dataset
>>> rows = Dataset.from_dict({"query": list("abcd"), "document": list("ABCD")})
>>> len(weighted(rows, 2.5)), len(weighted(rows, 0.5)), weighted(rows, 1.0) is rows
(10, 2, True)
"""

from __future__ import annotations

import math

import numpy as np
from datasets import Dataset

WEIGHT_SEED = 0


def weighted(dataset: Dataset, weight: float, seed: int = WEIGHT_SEED) -> Dataset:
    """``dataset`` with its size scaled by ``weight`` (whole copies, then a seeded sample for the fraction)."""
    if weight == 1.0:
        return dataset
    size = len(dataset)
    copies, fraction = math.floor(weight), weight - math.floor(weight)
    extra = np.random.default_rng(seed).permutation(size)[:round(fraction * size)]
    indices = np.concatenate([np.tile(np.arange(size), copies), np.sort(extra)])
    return dataset.select(indices)
