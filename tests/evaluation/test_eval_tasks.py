"""The task-type mapping and the paper's figures, checked against mteb's registry and against RECIPE.md
(its excerpt in tests/fixtures)."""

from __future__ import annotations

import re

import mteb
import pytest

from st_jce import TASK_TYPES
from st_jce.evaluation import PAPER_NDCG_AT_10, PAPER_ROW_BY_TASK, TASK_TYPE_BY_MTEB_TASK, resolve_tasks

RECIPE_TYPE_NAMES = {"NL2Code": "nl2code", "TechQA": "qa", "Code2Code": "code2code", "Code2NL": "code2nl",
                     "Code2Completion": "code2completion"}


def normalized(name: str) -> str:
    """Lower-case letters and digits only, '+' spelled out, a trailing 'retrieval' dropped."""
    name = re.sub(r"[^a-z0-9+]", "", name.lower()).replace("+", "plus")
    return name.removesuffix("retrieval") or name


def recipe_table_4b(recipe_text: str) -> dict[str, str]:
    """Normalized evaluation-task name -> task type, as listed under "Task types of the evaluation sets"."""
    block = recipe_text.split("Task types of the evaluation sets (Table 4b):", 1)[1].split("\n\n", 1)[0]
    types = {}
    for label, names in re.findall(r"(NL2Code|TechQA|Code2Code|Code2NL|Code2Completion)\s*—\s*([^;.]+)", block):
        for name in names.split(","):
            types[normalized(name.strip())] = RECIPE_TYPE_NAMES[label]
    return types


def test_every_mapped_task_is_an_mteb_retrieval_task_with_a_valid_type():
    for name, task_type in TASK_TYPE_BY_MTEB_TASK.items():
        assert mteb.get_task(name).metadata.type == "Retrieval"
        assert task_type in TASK_TYPES


def test_mapping_agrees_with_table_4b(recipe_text):
    table = recipe_table_4b(recipe_text)
    for name, task_type in TASK_TYPE_BY_MTEB_TASK.items():
        key = normalized(name)
        # mteb sometimes adds a word (SWE-Bench -> SWEbenchCodeRetrieval): fall back to the longest prefix
        match = key if key in table else max((entry for entry in table if key.startswith(entry)), key=len)
        assert table[match] == task_type, name


def test_every_table_4b_task_that_mteb_has_is_mapped(recipe_text):
    table = recipe_table_4b(recipe_text)
    in_mteb = {normalized(task.metadata.name): task.metadata.name for task in mteb.get_tasks()}
    missing = [in_mteb[key] for key in table if key in in_mteb and in_mteb[key] not in TASK_TYPE_BY_MTEB_TASK]
    assert not missing


def test_paper_figures_are_table_2_of_recipe(recipe_text):
    rows = {}
    for line in recipe_text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and re.fullmatch(r"\d+\.\d+", cells[1]) and "AVG" not in cells[0]:
            rows[cells[0].rstrip("*")] = (float(cells[1]), float(cells[2]))
    assert rows == PAPER_NDCG_AT_10
    assert set(PAPER_ROW_BY_TASK.values()) <= set(rows)


@pytest.mark.parametrize("benchmark_name", ["MTEB(Code, v1)", "CoIR"])
def test_code_benchmarks_need_no_task_type(benchmark_name):
    selected = resolve_tasks(benchmark=benchmark_name)
    expected = [task.metadata.name for task in mteb.get_benchmark(benchmark_name).tasks]
    assert [task.metadata.name for task, _ in selected] == expected
    assert {task_type for _, task_type in selected} <= set(TASK_TYPES)


def test_unmapped_task_needs_a_task_type():
    with pytest.raises(ValueError, match=r"No task type is known for \['SciFact'\].*--task-type"):
        resolve_tasks(tasks=["SciFact"])
    [(task, task_type)] = resolve_tasks(tasks=["SciFact"], task_type="techqa")
    assert (task.metadata.name, task_type) == ("SciFact", "qa")


def test_unknown_task_and_non_retrieval_task_are_refused():
    with pytest.raises(ValueError, match="Unknown mteb task"):
        resolve_tasks(tasks=["NoSuchTask123"])
    with pytest.raises(ValueError, match="STS12 is a STS task"):
        resolve_tasks(tasks=["STS12"], task_type="qa")
    with pytest.raises(ValueError, match="Nothing to evaluate"):
        resolve_tasks()
