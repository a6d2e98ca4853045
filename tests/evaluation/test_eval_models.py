"""The models ``evaluate`` accepts: an st-jce directory (through ``st_jce.load``) and its portable export (plain
sentence-transformers) are the same model, so they must score the same; a loaded model is left as it was."""

from __future__ import annotations

import pytest
from sentence_transformers import SentenceTransformer

import st_jce
from st_jce.evaluation import evaluate
from st_jce.matryoshka import resolve_matryoshka_dims
from st_jce.model import load_model


@pytest.fixture
def native_and_portable_dirs(tiny_qwen_dir, tmp_path):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32")
    native = tmp_path / "native"
    model.save_pretrained(str(native))
    return native, st_jce.export_portable(model, tmp_path / "portable")


def test_native_and_portable_score_the_same(native_and_portable_dirs, mbpp_slice, tmp_path):
    native, portable = native_and_portable_dirs
    assert isinstance(load_model(native), st_jce.CodeEmbedder)
    assert not isinstance(load_model(portable), st_jce.CodeEmbedder)
    scores = {}
    for name, folder in (("native", native), ("portable", portable)):
        summary = evaluate(str(folder), data=[(mbpp_slice, "qa")], matryoshka_dims=[16], max_seq_length=128,
                           output_dir=tmp_path / name, show_progress_bar=False, dtype="float32")
        scores[name] = summary["tasks"]["mbpp-slice"]["by_dim"]
        assert summary["settings"]["max_seq_length"] == 128
    assert scores["native"] == pytest.approx(scores["portable"], abs=1e-4)
    assert all(0.0 <= score <= 1.0 for score in scores["native"].values())


def test_a_loaded_model_keeps_its_own_max_seq_length(minilm_path, mbpp_slice, tmp_path):
    model = SentenceTransformer(minilm_path, device="cpu")
    own_length = model.max_seq_length
    summary = evaluate(model, data=[(mbpp_slice, "nl2code")], matryoshka_dims=[384], max_seq_length=64,
                       output_dir=tmp_path / "out", show_progress_bar=False)
    assert summary["settings"]["max_seq_length"] == 64
    assert model.max_seq_length == own_length


def test_default_matryoshka_dims(minilm_path):
    model = SentenceTransformer(minilm_path, device="cpu")
    assert resolve_matryoshka_dims(model) == [384, 256, 128, 64]  # full dim, then powers of two down to 64
    model[0].auto_model.config.matryoshka_dimensions = [32, 96]  # recorded dims win
    assert resolve_matryoshka_dims(model) == [384, 96, 32]
    with pytest.raises(ValueError, match=r"\[512\] are outside 1..384"):
        resolve_matryoshka_dims(model, [128, 512])
