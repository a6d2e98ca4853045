"""The model card (st_jce.model.card): YAML front matter that huggingface_hub parses, and a body that users can act on."""

import json

import pytest
from huggingface_hub import ModelCard

import st_jce
from st_jce import PREFIXES, TASK_TYPES
from st_jce.model.card import build_model_card, read_card_inputs, write_model_card

SUMMARY = {"tasks": {
    "MBPPRetrieval": {"task_type": "nl2code", "ndcg_at_10": 0.8123, "by_dim": {"64": 0.8123, "32": 0.7, "16": 0.5}},
    "StackOverflowQA": {"task_type": "qa", "ndcg_at_10": 0.456, "by_dim": {"64": 0.456, "32": 0.4}},
}}
TRAINING = {
    "datasets": [{"name": "CoSQA", "task_type": "nl2code", "hub_id": "CoIR-Retrieval/cosqa", "pairs": 19604},
                 {"name": "stdlib docstrings", "task_type": "code2nl"}],
    "hyperparameters": {"per_device_train_batch_size": 512, "learning_rate": 1e-4, "max_steps": 1500},
    "loss": {"name": "MatryoshkaLoss", "inner_loss": "MultipleNegativesRankingLoss", "scale": 20.0,
             "matryoshka_dims": [64, 32, 16]},
}


@pytest.fixture(scope="module")
def tiny_model(tiny_qwen_dir):
    return st_jce.build_model(tiny_qwen_dir, dtype="float32")


@pytest.fixture(scope="module")
def full_card(tiny_model):
    card = build_model_card(tiny_model, base_model="Qwen/Qwen2.5-Coder-0.5B", model_id="me/jce-tiny", portable=True,
                            training=TRAINING, eval_summary=SUMMARY, license="apache-2.0")
    return ModelCard(str(card))  # parse the text as the Hub and huggingface_hub would


def test_front_matter_carries_the_hub_fields(full_card):
    data = full_card.data
    assert data.library_name == "sentence-transformers"
    assert data.pipeline_tag == "sentence-similarity"
    assert {"sentence-transformers", "code", "code-search", "matryoshka", "embeddings", "st-jce"} <= set(data.tags)
    assert data.base_model == "Qwen/Qwen2.5-Coder-0.5B"
    assert data.license == "apache-2.0"
    assert data.datasets == ["CoIR-Retrieval/cosqa"]
    assert set(data.language) == {"en", "code"}


def test_model_index_holds_every_evaluated_task_in_percent(full_card):
    results = {result.dataset_name: result for result in full_card.data.eval_results}
    assert set(results) == set(SUMMARY["tasks"])
    for name, summary in SUMMARY["tasks"].items():
        assert results[name].metric_type == "ndcg_at_10"
        assert results[name].metric_value == pytest.approx(100 * summary["ndcg_at_10"], abs=0.005)
    assert full_card.data.model_name == "jce-tiny"


def test_body_lists_every_task_type_with_its_exact_prefixes(full_card):
    for task in TASK_TYPES:
        row = next(line for line in full_card.text.splitlines() if f"(`{task}`)" in line)
        for role in ("query", "document"):
            assert "`" + PREFIXES[task][role].replace("\n", "\\n") + "`" in row


def test_body_has_usage_matryoshka_training_and_citation(full_card):
    text = full_card.text
    assert 'SentenceTransformer("me/jce-tiny")' in text and 'prompt_name="nl2code_query"' in text
    assert "encode_query" in text and "encode_document" in text
    matryoshka_rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
                       for line in text.split("## Matryoshka dimensions")[1].split("##")[0].splitlines()
                       if line.startswith("| ") and "dim 64" not in line}
    assert matryoshka_rows["MBPPRetrieval"] == ["81.23", "70.00", "50.00"]
    assert matryoshka_rows["StackOverflowQA"] == ["45.60", "40.00", "–"]
    assert matryoshka_rows["**average**"] == [f"{100 * (0.8123 + 0.456) / 2:.2f}", "55.00", "–"]
    for key, value in TRAINING["hyperparameters"].items():
        assert f"| `{key}` | `{value!r}` |" in text
    assert "Loss: `MatryoshkaLoss` around `MultipleNegativesRankingLoss` with " in text and "`scale=20.0`" in text
    assert "| CoSQA | NL2Code |" in text and "19,604" in text and "| stdlib docstrings | Code2NL |" in text
    assert "Efficient Code Embeddings from Code Generation Models" in text and "2508.21290" in text
    assert "@misc{" in text


def test_native_card_points_at_st_jce(tiny_model):
    card = build_model_card(tiny_model, model_id="me/jce-native", portable=False)
    assert 'st_jce.load("me/jce-native")' in card.text and "pip install st-jce" in card.text
    assert 'task_type="nl2code"' in card.text
    assert 'SentenceTransformer("me/jce-native", trust_remote_code=True)' in card.text
    assert 'SentenceTransformer("me/jce-native")' not in card.text


def test_card_without_measurements_has_no_results(tiny_model):
    card = ModelCard(str(build_model_card(tiny_model)))
    assert card.data.eval_results is None and "model-index" not in str(card).split("---")[1]
    assert card.data.base_model is None  # the tiny backbone is a local folder, not a Hub id
    assert "## Evaluation" not in card.text and "## Training" not in card.text
    assert "No Matryoshka dimensions are recorded for this model" in card.text  # none invented


def test_matryoshka_dims_recorded_in_the_model_config_are_shown(tiny_qwen_dir):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    model[0].auto_model.config.matryoshka_dimensions = [32, 16]
    card = build_model_card(model)
    assert "| Matryoshka dimensions | 64, 32, 16 |" in card.text and "truncate_dim=16" in card.text


@pytest.mark.parametrize("kwargs, message", [
    ({"training": {"optimizer": "adamw"}}, "unknown keys \\['optimizer'\\]"),
    ({"training": {"datasets": [{"name": "x"}]}}, "needs 'name' and 'task_type'"),
    ({"training": {"datasets": {"x": "sql"}}}, "Unknown task type 'sql'"),
    ({"training": {"loss": {"scale": 20}}}, "needs a 'name'"),
    ({"eval_summary": {"tasks": {"t": {"task_type": "qa", "ndcg_at_10": 81.2}}}}, "fractions in 0..1"),
    ({"eval_summary": {"results": {}}}, "needs a 'tasks' mapping"),
    ({"base_model": "/tmp/qwen"}, "not a Hub id"),
    ({"matryoshka_dims": [128, 32]}, r"\[128\] are outside 1..64"),
])
def test_bad_inputs_name_what_to_fix(tiny_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_model_card(tiny_model, **kwargs)


def test_write_model_card_keeps_its_inputs_for_push(tiny_model, tmp_path):
    summary_file = tmp_path / "summary.json"
    summary_file.write_text(json.dumps(SUMMARY))
    readme = write_model_card(tmp_path, model=tiny_model, eval_summary=summary_file, training=TRAINING,
                              portable=False)
    assert readme == tmp_path / "README.md"
    written = ModelCard.load(readme)
    assert {r.dataset_name for r in written.data.eval_results} == set(SUMMARY["tasks"])
    inputs = read_card_inputs(tmp_path)
    assert inputs["eval_summary"] == SUMMARY and inputs["training"] == TRAINING and "portable" not in inputs
    assert str(build_model_card(tiny_model, portable=False, **inputs)) == readme.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "st_jce_card.json", "summary.json"]


def test_bad_inputs_leave_the_previous_card(tiny_model, tmp_path):
    write_model_card(tmp_path, model=tiny_model, license="mit")
    before = (tmp_path / "README.md").read_text()
    with pytest.raises(ValueError):
        write_model_card(tmp_path, model=tiny_model, training={"bogus": 1})
    assert (tmp_path / "README.md").read_text() == before


def test_backbone_hub_id_is_kept_for_later_pushes(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(tiny_model.model_card_data, "base_model", "Qwen/Qwen2.5-Coder-0.5B")
    write_model_card(tmp_path, model=tiny_model)
    assert read_card_inputs(tmp_path)["base_model"] == "Qwen/Qwen2.5-Coder-0.5B"
    assert ModelCard.load(tmp_path / "README.md").data.base_model == "Qwen/Qwen2.5-Coder-0.5B"
