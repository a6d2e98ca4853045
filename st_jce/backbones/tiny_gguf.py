"""A tiny random-weight Qwen2 decoder written as a GGUF, as llama.cpp lays one out: for tests and examples.

Its matrices are ``Q8_0``-quantized, so loading it exercises transformers' dequantization; its tokenizer
is byte-level BPE over the 256 bytes plus a few merges, so any text tokenizes, ``<|endoftext|>`` is its
EOS and pad token, and it has a chat template, as the GGUFs of instruct models do.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from gguf import GGUFReader
>>> reader = GGUFReader(write_tiny_gguf(Path(tempfile.mkdtemp()) / "tiny.gguf"))
>>> reader.fields["general.architecture"].contents(), len(reader.tensors)
('qwen2', 26)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, LlamaFileType, TokenType
from gguf.quants import quantize

TINY_SHAPE = dict(hidden=64, layers=2, heads=4, kv_heads=2, ffn=128)
_MERGES = ("Ġ t", "h e", "Ġt he", "e r", "i n", "Ġ a")  # Ġ: byte-level BPE's stand-in for a space
_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_CHAT_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"


def write_tiny_gguf(path: str | os.PathLike, *, seed: int = 0) -> Path:
    """Write the tiny Qwen2 GGUF (:data:`TINY_SHAPE`, weights drawn with ``seed``) to ``path`` and return it."""
    hidden, layers, heads, kv_heads, ffn = TINY_SHAPE.values()
    kv_width = kv_heads * hidden // heads
    tokens = [*_byte_tokens(), *(merge.replace(" ", "") for merge in _MERGES), *_SPECIAL_TOKENS]
    token_types = [TokenType.NORMAL] * (len(tokens) - len(_SPECIAL_TOKENS)) + [TokenType.CONTROL] * len(_SPECIAL_TOKENS)
    eos = tokens.index("<|endoftext|>")

    writer = GGUFWriter(str(path), "qwen2")
    writer.add_name("tiny-qwen2")
    writer.add_block_count(layers)
    writer.add_context_length(512)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(10_000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(LlamaFileType.MOSTLY_Q8_0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges(list(_MERGES))
    writer.add_eos_token_id(eos)
    writer.add_pad_token_id(eos)
    writer.add_add_bos_token(False)
    writer.add_chat_template(_CHAT_TEMPLATE)

    rng = np.random.default_rng(seed)

    def matrix(name: str, rows: int, columns: int) -> None:
        weights = (rng.standard_normal((rows, columns)) * 0.1).astype(np.float32)
        writer.add_tensor(name, quantize(weights, GGMLQuantizationType.Q8_0), raw_dtype=GGMLQuantizationType.Q8_0)

    def vector(name: str, size: int, mean: float = 0.0) -> None:
        writer.add_tensor(name, (mean + rng.standard_normal(size) * 0.1).astype(np.float32))

    # llama.cpp's tensor names; transformers maps them back to Qwen2's.
    matrix("token_embd.weight", len(tokens), hidden)
    for layer in range(layers):
        block = f"blk.{layer}"
        vector(f"{block}.attn_norm.weight", hidden, mean=1.0)
        for name, width in (("attn_q", hidden), ("attn_k", kv_width), ("attn_v", kv_width)):
            matrix(f"{block}.{name}.weight", width, hidden)
            vector(f"{block}.{name}.bias", width)
        matrix(f"{block}.attn_output.weight", hidden, hidden)
        vector(f"{block}.ffn_norm.weight", hidden, mean=1.0)
        matrix(f"{block}.ffn_gate.weight", ffn, hidden)
        matrix(f"{block}.ffn_up.weight", ffn, hidden)
        matrix(f"{block}.ffn_down.weight", hidden, ffn)
    vector("output_norm.weight", hidden, mean=1.0)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(path)


def _byte_tokens() -> list[str]:
    """The 256 single-byte tokens of byte-level BPE, in byte order (GPT-2's printable stand-in characters)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    others = [byte for byte in range(256) if byte not in printable]
    characters = dict(zip(printable, printable)) | {byte: 256 + index for index, byte in enumerate(others)}
    return [chr(characters[byte]) for byte in range(256)]
