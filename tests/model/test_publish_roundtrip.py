"""Push a tiny st-jce model to a loopback Hub with the real huggingface_hub client and load it back by repo id."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import HfApi, ModelCard, constants, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError
from sentence_transformers import SentenceTransformer

import st_jce
from st_jce.cli import main
from st_jce.model import push_model, write_model_card

QUERIES = ["read a json file", "reverse a linked list"]
DOCUMENTS = ["import json\ndef load(path):\n    return json.load(open(path))", "def rev(node): ..."]
EVAL_SUMMARY = {"tasks": {"mbpp": {"task_type": "nl2code", "ndcg_at_10": 0.5, "by_dim": {"64": 0.5, "32": 0.25}}}}


@pytest.fixture(scope="module")
def native_dir(tmp_path_factory, tiny_qwen_dir):
    """A saved tiny st-jce model with a card (and its inputs) written the way train_st.py does."""
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    folder = tmp_path_factory.mktemp("native") / "model"
    model.save_pretrained(str(folder))
    (folder / "checkpoint-10").mkdir()  # trainer leftovers must not be published
    (folder / "checkpoint-10" / "trainer_state.json").write_text("{}")
    write_model_card(folder, model=model, portable=False, eval_summary=EVAL_SUMMARY,
                     training={"loss": {"name": "MatryoshkaLoss", "matryoshka_dims": [64, 32]}})
    return folder


def reference_embeddings(model_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    model = st_jce.load(model_dir)
    return (model.encode_query(QUERIES, task_type="nl2code"),
            model.encode_document(DOCUMENTS, task_type="nl2code"))


def assert_fresh_cache():
    cache = Path(constants.HF_HUB_CACHE)
    assert not cache.exists() or not any(cache.glob("models--*")), "the cache must start empty"


def assert_weights_went_through_lfs(repo_id: str, revision: str | None = None):
    files = {f.path: f for f in HfApi().list_repo_tree(repo_id, recursive=True, revision=revision)
             if hasattr(f, "lfs")}
    weights = files["model.safetensors"]
    assert weights.lfs is not None, "model.safetensors must be stored through LFS"
    local = hf_hub_download(repo_id, "model.safetensors", revision=revision)
    assert hashlib.sha256(Path(local).read_bytes()).hexdigest() == weights.lfs.sha256
    assert not any(path.startswith("checkpoint-") for path in files)
    return files


def test_st_jce_push_portable_loads_with_plain_sentence_transformer(hub_server, native_dir, monkeypatch, capsys):
    expected_queries, expected_documents = reference_embeddings(native_dir)

    assert main(["push", str(native_dir), "me/jce-tiny"]) == 0

    assert capsys.readouterr().out.strip().startswith(f"{hub_server}/me/jce-tiny/commit/")
    assert_fresh_cache()
    loaded = SentenceTransformer("me/jce-tiny")
    modules_file = Path(hf_hub_download("me/jce-tiny", "modules.json"))
    assert Path(constants.HF_HUB_CACHE) in modules_file.parents
    np.testing.assert_allclose(loaded.encode_query(QUERIES, prompt_name="nl2code_query"), expected_queries,
                               atol=1e-6)
    np.testing.assert_allclose(loaded.encode_document(DOCUMENTS, prompt_name="nl2code_document"),
                               expected_documents, atol=1e-6)
    assert not any(entry["type"].startswith("st_jce.") for entry in json.loads(modules_file.read_text()))
    assert_weights_went_through_lfs("me/jce-tiny")

    card = ModelCard.load("me/jce-tiny")
    assert card.data.library_name == "sentence-transformers"
    assert card.data.eval_results[0].metric_value == 50.0
    assert 'SentenceTransformer("me/jce-tiny")' in card.text and "st_jce.load" not in card.text

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # loading again needs nothing but the cache
    offline = SentenceTransformer("me/jce-tiny", local_files_only=True)
    np.testing.assert_allclose(offline.encode_query(QUERIES, prompt_name="nl2code_query"), expected_queries,
                               atol=1e-6)


def test_native_push_to_a_branch_loads_with_st_jce_load(hub_server, native_dir):
    expected_queries, expected_documents = reference_embeddings(native_dir)

    url = push_model(native_dir, "me/jce-tiny-native", portable=False, revision="v1", private=True,
                     commit_message="first release")

    assert "/me/jce-tiny-native/commit/" in url
    api = HfApi()
    assert [commit.title for commit in api.list_repo_commits("me/jce-tiny-native", revision="v1")][0] \
        == "first release"
    with pytest.raises(RepositoryNotFoundError):  # private: invisible without the token
        api.model_info("me/jce-tiny-native", token=False)
    assert_fresh_cache()
    loaded = st_jce.load("me/jce-tiny-native", revision="v1")
    np.testing.assert_array_equal(loaded.encode_query(QUERIES, task_type="nl2code"), expected_queries)
    np.testing.assert_array_equal(loaded.encode_document(DOCUMENTS, task_type="nl2code"), expected_documents)
    np.testing.assert_array_equal(loaded.encode(QUERIES, prompt_name="nl2code_query"), expected_queries)
    assert_weights_went_through_lfs("me/jce-tiny-native", revision="v1")

    card = ModelCard.load(hf_hub_download("me/jce-tiny-native", "README.md", revision="v1"))
    assert 'st_jce.load("me/jce-tiny-native")' in card.text and "pip install st-jce" in card.text
    with pytest.raises(EntryNotFoundError):  # the branch got the commit, main did not
        hf_hub_download("me/jce-tiny-native", "modules.json")


def test_pushing_a_portable_directory_asks_for_the_native_one(hub_server, native_dir, tmp_path):
    portable = st_jce.export_portable(st_jce.load(native_dir), tmp_path / "portable")
    with pytest.raises(ValueError, match="from_portable"):
        push_model(portable, "me/wrong")
    with pytest.raises(FileNotFoundError, match="save_pretrained"):
        push_model(tmp_path / "missing", "me/wrong")


def test_train_st_push_to_hub_uploads_the_final_model(hub_server, tiny_qwen_dir, tmp_path):
    from st_jce.training import parse_args, train

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": f"return the number {index}",
                                         "document": f"def number_{index}():\n    return {index}"}) + "\n"
                             for index in range(16)))
    datasets = [{"name": "pairs", "source": "local", "path": str(pairs), "task_type": "nl2code"}]
    argv = ["--backbone", tiny_qwen_dir, "--max_seq_length", "32", "--output_dir", str(tmp_path / "run"),
            "--max_steps", "2", "--per_device_train_batch_size", "4", "--save_strategy", "no", "--report_to", "none",
            "--use_cpu", "true", "--datasets", json.dumps(datasets),
            "--push_to_hub", "true", "--hub_model_id", "me/jce-trained"]

    final_dir = train(*parse_args(argv))

    expected = st_jce.load(final_dir).encode_query(QUERIES, task_type="nl2code")
    assert_fresh_cache()
    loaded = SentenceTransformer("me/jce-trained")  # portable, the default format of --push_to_hub
    np.testing.assert_allclose(loaded.encode_query(QUERIES, prompt_name="nl2code_query"), expected, atol=1e-6)
    assert ModelCard.load("me/jce-trained").data.library_name == "sentence-transformers"
