"""What reaches the model during an evaluation, recorded by the model's own input module: the right prefix
for each task type and role, no prefix with ``use_prefixes=False``, and every text encoded only once."""

from __future__ import annotations

import shutil

import pytest
from datasets import Dataset
from eval_helpers import oracle_model, read_jsonl
from mteb.types import PromptType
from torch.utils.data import DataLoader

from st_jce import PREFIXES, TASK_TYPES
from st_jce.evaluation import PrefixedMatryoshkaEncoder, evaluate, resolve_tasks, task_prompts

# One mteb task per task type, for the mteb-registered path (their data is never loaded).
MTEB_TASK_OF_TYPE = {"nl2code": "MBPPRetrieval", "qa": "StackOverflowQA", "code2code": "CodeTransOceanContest",
                     "code2nl": "COIRCodeSearchNetRetrieval", "code2completion": "CodeSearchNetCCRetrieval"}


def texts_of(folder):
    return ([row["text"] for row in read_jsonl(folder / "queries.jsonl")],
            [row["text"] for row in read_jsonl(folder / "corpus.jsonl")])


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_local_folder_texts_reach_the_model_with_their_prefixes(mbpp_slice, tmp_path, task_type):
    folder = shutil.copytree(mbpp_slice, tmp_path / f"slice-{task_type}")
    model = oracle_model(folder)
    evaluate(model, data=[(folder, task_type)], matryoshka_dims=[model.get_embedding_dimension()],
             output_dir=tmp_path / "out", show_progress_bar=False)
    queries, documents = texts_of(folder)
    expected = {PREFIXES[task_type]["query"] + text for text in queries}
    expected |= {PREFIXES[task_type]["document"] + text for text in documents}
    assert set(model[0].received) == expected


def test_no_prefix_sends_the_raw_texts(mbpp_slice, tmp_path):
    model = oracle_model(mbpp_slice)
    evaluate(model, data=[(mbpp_slice, "nl2code")], use_prefixes=False,
             matryoshka_dims=[model.get_embedding_dimension()], output_dir=tmp_path / "out", show_progress_bar=False)
    queries, documents = texts_of(mbpp_slice)
    assert set(model[0].received) == set(queries) | set(documents)


def test_oracle_scores_one_and_each_text_is_encoded_once_for_all_dims(mbpp_slice, tmp_path):
    model = oracle_model(mbpp_slice)
    full = model.get_embedding_dimension()
    summary = evaluate(model, data=[f"{mbpp_slice}:nl2code"], matryoshka_dims=[8, 32], output_dir=tmp_path / "out",
                       show_progress_bar=False)
    queries, documents = texts_of(mbpp_slice)
    assert len(model[0].received) == len(queries) + len(documents)
    scores = summary["tasks"]["mbpp-slice"]
    assert scores["ndcg_at_10"] == pytest.approx(1.0)
    assert sorted(scores["by_dim"]) == [8, 32, full]
    # One-hot slots beyond the truncation vanish, so truncated scores must fall below 1 but stay in 0..1.
    assert all(0.0 <= scores["by_dim"][dim] < 1.0 for dim in (8, 32))


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_mteb_tasks_get_the_prefixes_of_their_task_type(mbpp_slice, task_type):
    [(task, resolved_type)] = resolve_tasks(tasks=[MTEB_TASK_OF_TYPE[task_type]])
    assert resolved_type == task_type
    model = oracle_model(mbpp_slice)
    encoder = PrefixedMatryoshkaEncoder(model, task_prompts(model, {task.metadata.name: resolved_type}),
                                        name="test/oracle", revision="test")
    queries, documents = texts_of(mbpp_slice)
    for role, texts in (("query", queries[:3]), ("document", documents[:3])):
        model[0].received.clear()
        loader = DataLoader(Dataset.from_dict({"text": texts}), batch_size=2)
        encoder.encode(loader, task_metadata=task.metadata, hf_split="test", hf_subset="default",
                       prompt_type=PromptType(role), show_progress_bar=False)
        assert sorted(model[0].received) == sorted(PREFIXES[task_type][role] + text for text in texts)


def test_a_models_own_named_prompts_win_over_the_defaults(mbpp_slice):
    model = oracle_model(mbpp_slice)
    model.prompts = {"qa_query": "Q: ", "qa_document": "A: "}
    assert task_prompts(model, {"local": "qa", "other": "nl2code"}) == {
        "local-query": "Q: ", "local-document": "A: ",
        "other-query": PREFIXES["nl2code"]["query"], "other-document": PREFIXES["nl2code"]["document"],
    }
