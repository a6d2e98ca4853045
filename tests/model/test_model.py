import warnings

import numpy as np
import pytest
import torch

import st_jce


@pytest.fixture(scope="module")
def model(tiny_qwen_dir):
    return st_jce.build_model(tiny_qwen_dir, dtype="float32")


def test_pipeline_is_prefix_prompt_last_token_normalize(model):
    assert [type(m).__name__ for m in model] == ["PrefixPrompt", "LastTokenPooling", "Normalize"]
    assert model.get_embedding_dimension() == 64
    assert model.similarity_fn_name == "cosine"
    assert set(st_jce.named_prompts()).issubset(model.prompts)


def test_empty_input_gives_empty_matrix(model):
    assert model.encode_query([], task_type="nl2code").shape == (0, 64)
    assert model.encode_document([], task_type="nl2code", truncate_dim=16).shape == (0, 16)
    empty = model.encode([], convert_to_tensor=True)
    assert isinstance(empty, torch.Tensor) and empty.shape == (0, 64)


def test_truncate_dim_keeps_leading_dims_and_renormalizes(model):
    texts = ["open a file", "close a socket"]
    full = model.encode_query(texts, task_type="nl2code")
    short = model.encode_query(texts, task_type="nl2code", truncate_dim=16, normalize_embeddings=True)
    expected = full[:, :16] / np.linalg.norm(full[:, :16], axis=1, keepdims=True)
    np.testing.assert_allclose(short, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(short, axis=1), 1.0, atol=1e-6)


def test_explicit_dtype_is_honoured(tiny_qwen_dir):
    assert st_jce.build_model(tiny_qwen_dir, dtype=torch.bfloat16)[0].auto_model.dtype == torch.bfloat16
    assert st_jce.build_model(tiny_qwen_dir, dtype="float32")[0].auto_model.dtype == torch.float32


def test_bf16_embeddings_close_to_fp32(tiny_qwen_dir, model):
    texts = ["parse a date string", "def f(): return 1"]
    bf16 = st_jce.build_model(tiny_qwen_dir, dtype="bfloat16").encode_document(texts, task_type="nl2code")
    fp32 = model.encode_document(texts, task_type="nl2code")
    cosine = (bf16 * fp32).sum(axis=1)
    assert cosine.min() > 0.99


def test_unknown_pooling_and_dtype_are_errors(tiny_qwen_dir):
    with pytest.raises(ValueError, match="Unknown pooling 'cls'"):
        st_jce.build_model(tiny_qwen_dir, pooling="cls")
    with pytest.raises(ValueError, match="Unknown dtype 'int4'"):
        st_jce.build_model(tiny_qwen_dir, dtype="int4")


@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_mean_pooling_averages_the_text_tokens_not_the_prefix(tiny_qwen_dir, padding_side):
    from transformers import AutoModel, AutoTokenizer

    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", pooling="mean", padding_side=padding_side)
    backbone, tokenizer = AutoModel.from_pretrained(tiny_qwen_dir).eval(), AutoTokenizer.from_pretrained(tiny_qwen_dir)
    texts = ["open a file", "close the socket once every pending write has been flushed"]
    embeddings = model.encode_document(texts, task_type="nl2code", batch_size=2)  # one batch, so padding
    prefix = st_jce.PREFIXES["nl2code"]["document"]
    prefix_length = len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    for text, embedding in zip(texts, embeddings):
        ids = tokenizer(prefix + text, add_special_tokens=False)["input_ids"]
        with torch.no_grad():  # the model sees prefix + text + EOS; the mean weighs text + EOS alike
            hidden = backbone(input_ids=torch.tensor([ids + [tokenizer.eos_token_id]])).last_hidden_state[0]
        expected = torch.nn.functional.normalize(hidden[prefix_length:].mean(0), dim=-1).numpy()
        np.testing.assert_allclose(embedding, expected, atol=1e-5)


def test_save_keeps_other_entries_of_the_directory(model, tmp_path):
    target = tmp_path / "run"
    (target / "checkpoint-10").mkdir(parents=True)
    (target / "checkpoint-10" / "optimizer.pt").write_bytes(b"state")
    model.save_pretrained(str(target))
    assert (target / "checkpoint-10" / "optimizer.pt").read_bytes() == b"state"
    assert (target / "modules.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_failed_save_leaves_previous_model_intact(model, tmp_path, monkeypatch):
    target = tmp_path / "model"
    model.save_pretrained(str(target))
    before = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(st_jce.LastTokenPooling, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.save_pretrained(str(target))
    assert {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()} == before
    monkeypatch.undo()
    np.testing.assert_array_equal(st_jce.load(target).encode_query(["a b"], task_type="qa"),
                                  model.encode_query(["a b"], task_type="qa"))


def test_saving_does_not_warn_about_missing_prefixes(model, tmp_path):
    # A save writes st-jce's card, which encodes nothing; were it ever to, that would not be the user's encoding,
    # so st-jce's missing-prefix warning must not fire.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save_pretrained(str(tmp_path / "model"))
    assert not [warning for warning in caught if issubclass(warning.category, st_jce.MissingPrefixWarning)]
    with pytest.warns(st_jce.MissingPrefixWarning):
        model.encode(["def f(): pass"])  # still warns for the user's own unprefixed encoding
