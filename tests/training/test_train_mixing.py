"""Dataset weights scale what the proportional sampler sees; the before / after table reports what it is given."""

from __future__ import annotations

from collections import Counter

import pytest
from datasets import Dataset

from st_jce.ndcg_table import comparison_table
from st_jce.training.mixing import weighted


@pytest.fixture
def rows() -> Dataset:
    return Dataset.from_dict({"query": [f"q{i}" for i in range(10)], "document": [f"d{i}" for i in range(10)]})


@pytest.mark.parametrize("weight, size, most_repeats", [(1.0, 10, 1), (2.0, 20, 2), (2.5, 25, 3), (0.3, 3, 1)])
def test_weight_scales_the_dataset(rows, weight, size, most_repeats):
    scaled = weighted(rows, weight)
    counts = Counter(scaled["query"])
    assert len(scaled) == size and max(counts.values()) == most_repeats
    assert all(scaled["document"][i] == "d" + query[1:] for i, query in enumerate(scaled["query"]))  # pairs stay pairs


def test_fractional_weight_picks_the_same_rows_every_time(rows):
    assert weighted(rows, 0.5)["query"] == weighted(rows, 0.5)["query"]
    assert len(set(weighted(rows, 0.5)["query"])) == 5


def test_comparison_table_reports_each_summary_and_the_gain():
    summaries = {"baseline": {"tasks": {"a": {"task_type": "nl2code", "ndcg_at_10": 0.5},
                                        "b": {"task_type": "qa", "ndcg_at_10": 0.25}}},
                 "after": {"tasks": {"a": {"task_type": "nl2code", "ndcg_at_10": 0.75},
                                     "b": {"task_type": "qa", "ndcg_at_10": 0.5}}}}
    lines = comparison_table(summaries).splitlines()
    cells = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[3:6]] for line in lines[2:]}
    assert cells == {"a": ["50.00", "75.00", "+25.00"], "b": ["25.00", "50.00", "+25.00"],
                     "**average**": ["37.50", "62.50", "+25.00"]}  # nDCG@10 in %
