"""Every model directory st-jce writes carries st-jce's model card, for the format it is in: save_pretrained,
export_portable, train_st.py's final/ and checkpoints, and st-jce push (both formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard, hf_hub_download
from train_helpers import run_argv, write_beir_folder, write_pairs

import st_jce
from st_jce.training import parse_args, train

SUMMARY = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.5, "by_dim": {"64": 0.5, "32": 0.25}}}}
# What sentence-transformers' generic card says, which is wrong for an st-jce model.
GENERIC_CARD_PHRASES = ("This is a [sentence-transformers]", "sentence_transformers_model_id", "weather")


def task_prompts(model) -> dict[str, str]:
    """The ten ``{task}_{role}`` prompts of ``model``, its prefixes (not ST's own ``query`` / ``document``)."""
    prompts = {name: text for name, text in model.prompts.items() if "_" in name}
    assert len(prompts) == 10
    return prompts


def check_card(card: ModelCard, *, portable: bool, prompts: dict[str, str], location: str,
               base_model: str | None = None, evaluated: set[str] | None = None) -> str:
    """Assert what every card holds; return its text for the checks of one path."""
    data, text = card.data, card.text
    assert data.library_name == "sentence-transformers" and data.pipeline_tag == "sentence-similarity"
    assert {"sentence-transformers", "st-jce", "code", "embeddings"} <= set(data.tags)
    assert data.base_model == base_model
    assert data.license == "apache-2.0"
    assert {result.dataset_name for result in data.eval_results or []} == (evaluated or set())
    for name, prefix in prompts.items():
        task, role = name.rsplit("_", 1)
        row = next(line for line in text.splitlines() if f"(`{task}`)" in line)
        query_cell, document_cell = row.split("|")[3:5]
        assert (query_cell if role == "query" else document_cell).strip() == "`" + prefix.replace("\n", "\\n") + "`"
    assert "model.encode_query(" in text and "model.encode_document(" in text
    assert 'prompt_name="nl2code_query"' in text and "## Matryoshka dimensions" in text
    if portable:
        assert f'model = SentenceTransformer("{location}")' in text and "st_jce.load(" not in text
    else:
        assert "pip install st-jce" in text and f'model = st_jce.load("{location}")' in text
        assert 'task_type="nl2code"' in text and f'SentenceTransformer("{location}", trust_remote_code=True)' in text
        assert "pip install -U sentence-transformers" not in text
    assert not [phrase for phrase in GENERIC_CARD_PHRASES if phrase in text]
    return text


@pytest.fixture
def custom_model(tiny_qwen_dir):
    """A tiny model whose facts the card can only know from the model: an edited prefix, a base model."""
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    model.prompts["qa_query"] = "Question:\n"
    model.card_inputs = {"base_model": "Qwen/Qwen2.5-Coder-0.5B", "eval_summary": SUMMARY}
    return model


def test_save_pretrained_writes_the_native_card(custom_model, tmp_path):
    custom_model.save_pretrained(str(tmp_path / "model"))
    text = check_card(ModelCard.load(tmp_path / "model" / "README.md"), portable=False, location="path/to/model",
                      prompts=task_prompts(custom_model), base_model="Qwen/Qwen2.5-Coder-0.5B", evaluated={"mbpp"})
    assert "`Question:\\n`" in text
    custom_model.save_pretrained(str(tmp_path / "named"), model_name="me/jce-tiny")  # as ST's push_to_hub does
    check_card(ModelCard.load(tmp_path / "named" / "README.md"), portable=False, location="me/jce-tiny",
               prompts=task_prompts(custom_model), base_model="Qwen/Qwen2.5-Coder-0.5B", evaluated={"mbpp"})
    custom_model.save_pretrained(str(tmp_path / "bare"), create_model_card=False)
    assert not (tmp_path / "bare" / "README.md").exists()


def test_export_portable_writes_the_portable_card(custom_model, tmp_path):
    folder = st_jce.export_portable(custom_model, tmp_path / "portable")
    check_card(ModelCard.load(folder / "README.md"), portable=True, location="path/to/model",
               prompts=task_prompts(custom_model), base_model="Qwen/Qwen2.5-Coder-0.5B", evaluated={"mbpp"})
    # The facts travel with the model: back to native and saved again, the card still has them.
    native = st_jce.from_portable(folder, dtype="float32")
    native.save_pretrained(str(tmp_path / "native"))
    check_card(ModelCard.load(tmp_path / "native" / "README.md"), portable=False, location="path/to/model",
               prompts=task_prompts(custom_model), base_model="Qwen/Qwen2.5-Coder-0.5B", evaluated={"mbpp"})


def check_training_card(folder: Path, prompts: dict[str, str], evaluated: set[str] | None = None) -> str:
    text = check_card(ModelCard.load(folder / "README.md"), portable=False, location="path/to/model",
                      prompts=prompts, evaluated=evaluated)
    record = json.loads((folder / "st_jce_card.json").read_text())["training"]
    loss = record["loss"]
    assert loss["scale"] == pytest.approx(1 / loss["temperature"])  # the recipe's scale = 1/τ
    assert ("Loss: `MatryoshkaLoss` around `MultipleNegativesRankingLoss` with "
            f"`matryoshka_dims={loss['matryoshka_dims']!r}`, `scale={loss['scale']!r}`, "
            f"`temperature={loss['temperature']!r}`") in text
    assert "(scale = 1/temperature)." in text and "| pairs | NL2Code |" in text
    assert f"| `max_steps` | `{record['hyperparameters']['max_steps']!r}` |" in text
    return text


@pytest.fixture
def trained_run(tiny_qwen_dir, tmp_path):
    """train_st.py for 2 steps, a checkpoint at each step, and an evaluation folder."""
    beir = write_beir_folder(tmp_path / "synthetic-code", write_pairs(tmp_path / "eval.jsonl", count=16))
    argv = run_argv(tiny_qwen_dir, write_pairs(tmp_path / "pairs.jsonl"), tmp_path / "run", max_steps=2,
                    save_strategy="steps", save_steps=1, eval_data=[f"{beir}:nl2code"], use_cpu="true")
    return train(*parse_args(argv))


def test_training_writes_the_card_into_final_and_every_checkpoint(trained_run, hub_server):
    prompts = task_prompts(st_jce.load(trained_run))
    final_text = check_training_card(trained_run, prompts, evaluated={"synthetic-code"})
    assert "| Matryoshka dimensions | 64 |" in final_text
    checkpoints = sorted(trained_run.parent.glob("checkpoint-*"))
    assert [path.name for path in checkpoints] == ["checkpoint-1", "checkpoint-2"]
    for checkpoint in checkpoints:  # saved before the final evaluation: no results yet
        check_training_card(checkpoint, prompts)

    for portable, repo_id in ((True, "me/jce-portable"), (False, "me/jce-native")):
        st_jce.model.push_model(trained_run, repo_id, portable=portable)
        card = ModelCard.load(hf_hub_download(repo_id, "README.md"))
        text = check_card(card, portable=portable, location=repo_id, prompts=prompts, evaluated={"synthetic-code"})
        assert "Loss: `MatryoshkaLoss` around `MultipleNegativesRankingLoss`" in text
        assert card.data.model_name == repo_id.split("/")[1]
