"""Every bad `datasets:` entry fails before training with a message that names the config key."""

from __future__ import annotations

import pytest

from st_jce import TASK_TYPES
from st_jce.data import MINING_KINDS, MINING_TASK_TYPES, REGISTRY, DatasetSpec, validate_specs


@pytest.mark.parametrize("entry, key, words", [
    ({"name": "no-such-set"}, "datasets[0].name", ["unknown registry dataset 'no-such-set'", "cosqa"]),
    ({"source": "registry", "path": "no-such-set", "name": "mine"}, "datasets[0].path", ["'no-such-set'"]),
    ({"name": "mlquestions"}, "datasets[0].name", ["evaluates on"]),
    ({"name": "x", "source": "hub", "path": "org/x", "task_type": "foo"}, "datasets[0].task_type",
     ["'foo'", *TASK_TYPES]),
    ({"name": "x", "source": "hub", "path": "org/x"}, "datasets[0].task_type", ["required"]),
    ({"name": "x", "source": "local", "task_type": "qa"}, "datasets[0].path", ["missing"]),
    ({"name": "x", "source": "ftp", "task_type": "qa"}, "datasets[0].source", ["'ftp'", "registry", "stdlib"]),
    ({"name": "x", "source": "hub", "path": "org/x", "task_type": "qa", "quey_column": "q"},
     "datasets[0].quey_column", ["unknown key", "query_column"]),
    ({"source": "stdlib"}, "datasets[0].name", ["missing"]),
    ({"name": "s", "source": "stdlib"}, "datasets[0].mining.kind", ["required"]),
    ({"name": "s", "source": "stdlib", "mining": {"kind": "code2code"}}, "datasets[0].mining.kind", ["nl2code"]),
    ({"name": "s", "source": "stdlib", "task_type": "qa"}, "datasets[0].task_type", ["mining.kind"]),
    ({"name": "s", "source": "stdlib", "task_type": "nl2code", "mining": {"kind": "code2nl"}},
     "datasets[0].task_type", ["contradicts"]),
    ({"name": "s", "source": "stdlib", "task_type": "qa", "mining": {"kind": "code2code-rewrite"}},
     "datasets[0].task_type", ["contradicts", "'code2code' pairs"]),
    ({"name": "s", "source": "stdlib", "task_type": "code2code"}, "datasets[0].task_type",
     ["mining.kind", "code2code-rewrite", "code2code-crosslang"]),
    ({"name": "s", "source": "stdlib", "mining": {"kind": "nl2code", "depth": 3}}, "datasets[0].mining",
     ["'depth'"]),
    ({"name": "s", "source": "stdlib", "mining": {"kind": "nl2code", "holdout_fraction": 1.5}},
     "datasets[0].mining.holdout_fraction", ["[0, 1)"]),
    ({"name": "s", "source": "stdlib", "mining": {"kind": "nl2code", "packages": [3]}},
     "datasets[0].mining.packages", ["list of import names"]),
    ({"name": "cosqa", "subset": "python"}, "datasets[0].subset", ["no subsets"]),
    ({"name": "coir-codesearchnet", "subset": "cobol"}, "datasets[0].subset", ["python"]),
    ({"name": "cosqa", "max_samples": 0}, "datasets[0].max_samples", ["positive integer"]),
    ({"name": "cosqa", "weight": -1}, "datasets[0].weight", ["positive number"]),
    ({"name": "cosqa", "mining": {"kind": "nl2code"}}, "datasets[0].mining", ["source: stdlib"]),
])
def test_bad_entry_names_its_key(entry, key, words):
    with pytest.raises(ValueError) as error:
        DatasetSpec.from_dict(entry, index=0)
    message = str(error.value)
    assert message.startswith(key + ":"), message
    for word in words:
        assert word in message, message


def test_index_is_the_position_in_the_list():
    with pytest.raises(ValueError, match=r"^Invalid `datasets` config:\n  datasets\[2\]\.task_type: "):
        validate_specs([{"name": "cosqa"}, {"name": "apps"}, {"name": "x", "source": "hub", "path": "o/x",
                                                              "task_type": "foo"}])


def test_every_problem_is_listed_at_once(tmp_path):
    with pytest.raises(ValueError) as error:
        validate_specs([{"name": "cosqa"}, {"name": "cosqa"}, {"name": "nope"},
                        {"name": "f", "source": "local", "path": str(tmp_path / "missing.csv"), "task_type": "qa"},
                        {"source": "stdlib", "mining": {"kind": "nl2code", "roots": [str(tmp_path / "gone")]}},
                        {"name": "p", "source": "stdlib", "mining": {"kind": "nl2code", "packages": ["json", "gone"]}}])
    lines = str(error.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == [
        "datasets[1].name", "datasets[2].name", "datasets[3].path", "datasets[4].mining.roots",
        "datasets[5].mining.packages"]
    assert "'gone'" in lines[-1] and "'json'" not in lines[-1]
    assert "duplicate name 'cosqa' (also datasets[0])" in lines[0]


def test_empty_list_is_an_error():
    with pytest.raises(ValueError, match="add at least one"):
        validate_specs([])


def test_defaults_and_aliases():
    spec = DatasetSpec.from_dict({"source": "hub", "path": "org/set", "task_type": "TechQA"})
    assert (spec.name, spec.task_type, spec.split, spec.weight) == ("org/set", "qa", "train", 1.0)
    by_path = DatasetSpec.from_dict({"source": "registry", "path": "codetrans-dl", "name": "translation"})
    assert by_path.resolved_task_type == "code2code" and by_path.registry_key == "codetrans-dl"
    mined = DatasetSpec.from_dict({"source": "stdlib", "task_type": "code2completion"})
    assert (mined.name, mined.mining_kind, mined.resolved_task_type) == (
        "stdlib-code2completion", "code2completion", "code2completion")
    roots = DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": "nl2code", "roots": "src"}})
    assert roots.mining["roots"] == ["src"]
    packages = DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": "nl2code", "packages": "json"}})
    assert packages.mining["packages"] == ["json"]


def test_registry_task_type_can_be_overridden_but_is_validated():
    assert DatasetSpec.from_dict({"name": "cosqa", "task_type": "qa"}).resolved_task_type == "qa"
    for key, entry in REGISTRY.items():
        assert DatasetSpec.from_dict({"name": key}).resolved_task_type == entry.task_type


def test_specs_built_in_code_are_checked_too():
    with pytest.raises(ValueError, match=r"datasets\[0\]\.task_type"):
        validate_specs([DatasetSpec(name="x", source="hub", path="org/x", task_type="nonsense")])


def test_every_mining_kind_sets_its_task_type():
    assert set(MINING_TASK_TYPES) == set(MINING_KINDS) and set(MINING_TASK_TYPES.values()) == set(TASK_TYPES)
    for kind, task_type in MINING_TASK_TYPES.items():
        spec = DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": kind, "packages": ["json"]}})
        assert (spec.name, spec.mining_kind, spec.resolved_task_type) == (f"stdlib-{kind}", kind, task_type)
        agreeing = DatasetSpec.from_dict({"source": "stdlib", "task_type": task_type, "mining": {"kind": kind}})
        assert agreeing.resolved_task_type == task_type
