"""The registry of the paper's Hub training sets, and the join of BEIR-layout sets, on offline fixtures."""

from __future__ import annotations

import re

import datasets
import pytest
from workspace import shared_dir

from st_jce import resolve_task_type
from st_jce.data import NOT_REGISTERED, REGISTRY, DatasetSpec, load_pairs
from st_jce.data.beir import BeirFormatError, load_beir_hub
from st_jce.data.registry import CODESEARCHNET_LANGUAGES, LAYOUTS

RECIPE_SECTIONS = {"NL2Code": "nl2code", "TechQA": "qa", "Code2Code": "code2code", "Code2NL": "code2nl",
                   "Code2Completion": "code2completion"}


def _coir_like(texts: dict[str, str], titles: dict[str, str] | None = None) -> datasets.Dataset:
    """A corpus or queries table with CoIR's columns (ids, partition, text, title, language)."""
    titles = titles or {}
    return datasets.Dataset.from_dict({
        "_id": list(texts), "partition": ["train"] * len(texts), "text": list(texts.values()),
        "title": [titles.get(i, "") for i in texts], "language": ["python"] * len(texts)})


def _coir_repo(tag: str) -> dict:
    """Configs of a CoIR-style repository: corpus and queries (one split each), qrels by split."""
    corpus = _coir_like({f"c{i}": f"{tag} code {i}" for i in range(5)}, titles={"c3": f"{tag} title"})
    queries = _coir_like({f"q{i}": f"{tag} query {i}" for i in range(4)})
    train = datasets.Dataset.from_dict({"query-id": ["q0", "q1", "q1", "q2", "q3", "q9"],
                                        "corpus-id": ["c0", "c1", "c3", "c2", "c4", "c0"],
                                        "score": [1, 1, 1, 0, 1, 1]})
    test = datasets.Dataset.from_dict({"query-id": ["q3"], "corpus-id": ["c2"], "score": [1]})
    return {"corpus": {"corpus": corpus}, "queries": {"queries": queries}, "qrels": {"train": train, "test": test}}


def _expected_pairs(repo: dict, split: str) -> list[tuple[str, str]]:
    """The join, computed independently with pandas merges."""
    corpus = repo["corpus"]["corpus"].to_pandas()
    corpus["document"] = (corpus["title"] + " " + corpus["text"]).str.strip()
    queries = repo["queries"]["queries"].to_pandas().rename(columns={"text": "query"})
    qrels = repo["qrels"][split].to_pandas()
    joined = (qrels[qrels["score"] > 0]
              .merge(queries[["_id", "query"]], left_on="query-id", right_on="_id")
              .merge(corpus[["_id", "document"]], left_on="corpus-id", right_on="_id"))
    return list(zip(joined["query"], joined["document"]))


class FakeHub:
    """Stands in for ``datasets.load_dataset``: serves fixture configs and records each call."""

    def __init__(self, repositories: dict[str, dict]):
        self.repositories = repositories
        self.calls = []

    def __call__(self, path, name=None, *, split=None, revision=None, data_files=None, **kwargs):
        self.calls.append({"path": path, "name": name, "split": split, "revision": revision, "data_files": data_files})
        config = self.repositories[path][data_files or name]
        return config[split] if split else datasets.DatasetDict(config)


def _beir_configs(repo: dict, language: str | None = None) -> dict:
    names = (f"{language}-corpus", f"{language}-queries", f"{language}-qrels") if language else (
        "corpus", "queries", "default")
    return dict(zip(names, (repo["corpus"], repo["queries"], repo["qrels"])))


def test_hub_beir_pairs_match_an_independent_merge(monkeypatch, caplog):
    repo = _coir_repo("x")
    monkeypatch.setattr(datasets, "load_dataset", FakeHub({"org/x": _beir_configs(repo)}))
    data = load_beir_hub("org/x", "train")
    pairs = data.pairs()
    expected = _expected_pairs(repo, "train")
    assert list(zip(pairs["query"], pairs["document"])) == expected
    assert ("x query 1", "x title x code 3") in expected, "title is prepended as mteb does"
    assert len(expected) == 4, "score 0 and unknown query ids are left out"
    assert "1 unknown query id" in caplog.text, "the lenient Hub reader says what it skipped"


def test_hub_beir_reader_is_strict_on_request(monkeypatch):
    monkeypatch.setattr(datasets, "load_dataset", FakeHub({"org/x": _beir_configs(_coir_repo("x"))}))
    with pytest.raises(BeirFormatError, match=r"org/x \[default/train\], row 5: query-id 'q9' is not in the queries"):
        load_beir_hub("org/x", "train", strict=True)


def test_registry_beir_entry_loads_the_train_qrels(monkeypatch):
    repo = _coir_repo("cosqa")
    hub = FakeHub({"CoIR-Retrieval/cosqa": _beir_configs(repo)})
    monkeypatch.setattr(datasets, "load_dataset", hub)
    pairs = load_pairs(DatasetSpec.from_dict({"name": "cosqa"}))
    assert list(zip(pairs["query"], pairs["document"])) == _expected_pairs(repo, "train")
    assert {call["revision"] for call in hub.calls} == {REGISTRY["cosqa"].revision}
    assert [call["name"] for call in hub.calls] == ["corpus", "queries", "default"]
    held_out = load_pairs(DatasetSpec.from_dict({"name": "cosqa"}), split="test")
    assert list(zip(held_out["query"], held_out["document"])) == _expected_pairs(repo, "test")


def test_multilingual_beir_entry_concatenates_languages(monkeypatch):
    repos = {language: _coir_repo(language) for language in CODESEARCHNET_LANGUAGES}
    configs = {}
    for language, repo in repos.items():
        configs.update(_beir_configs(repo, language))
    monkeypatch.setattr(datasets, "load_dataset", FakeHub({"CoIR-Retrieval/CodeSearchNet": configs}))
    every = load_pairs(DatasetSpec.from_dict({"name": "coir-codesearchnet"}))
    expected = [pair for language in CODESEARCHNET_LANGUAGES for pair in _expected_pairs(repos[language], "train")]
    assert list(zip(every["query"], every["document"])) == expected
    python_only = load_pairs(DatasetSpec.from_dict({"name": "coir-codesearchnet", "subset": "python"}))
    assert list(zip(python_only["query"], python_only["document"])) == _expected_pairs(repos["python"], "train")


def test_column_entries_rename_swap_and_flatten(monkeypatch):
    spider = datasets.Dataset.from_dict({"db_id": ["db"] * 2, "query": ["SELECT a FROM t", "SELECT b FROM t"],
                                         "question": ["what is a", "what is b"], "query_toks": [["SELECT"]] * 2})
    wikisql = datasets.Dataset.from_dict({"phase": [1], "question": ["how many"],
                                          "sql": [{"human_readable": "SELECT COUNT x", "sel": 0}]})
    commits = datasets.Dataset.from_dict({"message": ["Fix typo", ""], "new_contents": ["print('hi')", "x"],
                                          "old_contents": ["print('hj')", "y"]})
    hub = FakeHub({"xlangai/spider": {"spider": {"train": spider}},
                   "Salesforce/wikisql": {None: {"train": wikisql}},
                   "bigcode/commitpackft": {"data/python/data.jsonl": {"train": commits}}})
    monkeypatch.setattr(datasets, "load_dataset", hub)
    spider_pairs = load_pairs(DatasetSpec.from_dict({"name": "spider"}))
    # Spider's SQL column is called "query": it must end up as the document, the question as the query.
    assert spider_pairs.to_list() == [{"query": q, "document": d} for q, d in zip(spider["question"], spider["query"])]
    assert load_pairs(DatasetSpec.from_dict({"name": "wikisql"})).to_list() == [
        {"query": "how many", "document": "SELECT COUNT x"}]
    assert load_pairs(DatasetSpec.from_dict({"name": "commitpackft"})).to_list() == [
        {"query": "Fix typo", "document": "print('hi')"}]
    overridden = load_pairs(DatasetSpec.from_dict({"name": "commitpackft", "document_column": "old_contents"}))
    assert overridden["document"] == ["print('hj')"]
    assert hub.calls[-1]["data_files"] == "data/python/data.jsonl"


def test_entries_are_well_formed():
    assert len(REGISTRY) >= 15
    for key, entry in REGISTRY.items():
        assert resolve_task_type(entry.task_type) == entry.task_type, key
        assert entry.layout in LAYOUTS, key
        assert entry.revision is None or re.fullmatch(r"[0-9a-f]{40}", entry.revision), key
        assert entry.verified or entry.note, f"{key}: unverified entries must say why"
        if entry.layout == "columns":
            assert len(entry.subsets) <= 1 and entry.query_column != entry.document_column, key
        else:
            assert (entry.query_column, entry.document_column, entry.data_files) == ("query", "document", None), key
        if entry.data_files and "{subset}" in entry.data_files:
            assert entry.subsets, key
    assert not set(REGISTRY) & set(NOT_REGISTERED)


def test_registry_agrees_with_the_recipe(recipe_text):
    section = recipe_text.split("Training datasets by task type", 1)[1].split("## Evaluation", 1)[0]
    task_of_hub_id = {}
    for block in re.split(r"\n- (?=\w+:)", section)[1:]:
        task_type = RECIPE_SECTIONS[block.split(":", 1)[0]]
        for hub_id in re.findall(r"`([\w.-]+/[\w.-]+)`", block):
            task_of_hub_id[hub_id] = task_type
    assert len(task_of_hub_id) >= 15, "RECIPE.md's dataset list could not be parsed"
    registered = {entry.hub_id: entry.task_type for entry in REGISTRY.values()}
    reasons = " ".join(NOT_REGISTERED.values())
    for hub_id, task_type in task_of_hub_id.items():
        assert hub_id in registered or hub_id in reasons, f"{hub_id} is neither registered nor explained"
        if hub_id in registered:
            assert registered[hub_id] == task_type, hub_id


@pytest.mark.skipif(shared_dir() is None, reason="../shared (the evaluation sets) is absent")
def test_registry_names_real_evaluation_sets_as_overlaps():
    for entry in REGISTRY.values():
        if entry.eval_overlap:
            assert (shared_dir() / "data" / entry.eval_overlap).is_dir(), entry.eval_overlap
