"""benchmarks/repo_search.py: each setting is Index.search with its options, a query's windows cover it in order and
each fits the model, and the windows' setting searches with the normalized mean of their query embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import repo_search

import st_jce
from st_jce.prefixes import prefix_of
from st_jce.search import Index, build_index

FILES = {"io/csv_tools.py": "import csv\n\n\ndef read_rows(path):\n    return list(csv.DictReader(open(path)))\n",
         "text/words.py": "def count_words(text):\n    return len(text.split())\n"}
LONG = "read_rows fails on an empty file; the traceback follows. " * 40


@pytest.fixture(scope="module")
def indexes(tiny_qwen_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("repo-search")
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    model.max_seq_length = 64
    for relative, text in FILES.items():
        (root / "tree" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "tree" / relative).write_text(text)
    build_index(root / "tree", root / "indexes" / "g1", model, show_progress=False)
    return root / "indexes", model


def test_parse_setting():
    assert repo_search.parse_setting("mix=lexical_weight=0.3,tests=last") == ("mix", {"lexical_weight": 0.3,
                                                                                    "tests": "last"})
    assert repo_search.parse_setting("dense=") == ("dense", {})


def test_windows_cover_the_query_and_fit_the_model(indexes):
    _, model = indexes
    prefix = prefix_of(model, "nl2code", "query")
    windows = repo_search.query_windows(model, LONG, prefix)
    assert len(windows) > 1 and "".join(windows) == LONG
    for window in windows:
        assert len(model.tokenizer(prefix + window)["input_ids"]) <= model.max_seq_length
    assert repo_search.query_windows(model, "short", prefix) == ["short"]


def test_settings_search_as_index_search_does(indexes):
    folder, model = indexes
    questions = [{"id": "q1", "group": "g1", "query": "count the words"}, {"id": "q2", "group": "g1", "query": LONG},
                 {"id": "q3", "group": "missing", "query": "anything"}]
    settings = {"dense": {}, "lexical": {"lexical_weight": 2.0}, "windows": {"windows": "mean"}}
    results = repo_search.search_all(questions, folder, settings, model)
    assert [line["id"] for line in results["dense"]] == ["q1", "q2"]  # no index for "missing": a miss for score.py
    index = Index(folder / "g1", model=model)
    for name, options in (("dense", {}), ("lexical", {"lexical_weight": 2.0})):
        expected = index.search(["count the words", LONG], k=repo_search.K, **options)
        assert [[hit["id"] for hit in line["hits"]] for line in results[name]] == [[hit.id for hit in hits]
                                                                                    for hits in expected]
    # By hand: the windows' query embeddings, averaged and normalized, searched as one embedding.
    windows = repo_search.query_windows(model, LONG, prefix_of(model, "nl2code", "query"))
    mean = model.encode_query(windows, task_type="nl2code", convert_to_numpy=True).mean(axis=0)
    [expected] = index.search_embeddings((mean / np.linalg.norm(mean))[None].astype(np.float32), k=repo_search.K,
                                         tests="auto", query_texts=[LONG])
    assert [hit["id"] for hit in results["windows"][1]["hits"]] == [hit.id for hit in expected]
