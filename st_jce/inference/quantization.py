"""int8 weights for CPU inference: the backbone's ``nn.Linear`` layers as dynamically quantized modules.

On CPUs without native bf16 (AVX2-only ones, e.g. AMD EPYC before Zen 4) ``dtype="auto"`` computes in
fp32, since emulated bf16 is ~10x slower. :func:`quantize_int8` (``build_model(..., dtype="int8")``)
applies ``torch.ao.quantization.quantize_dynamic``: every ``nn.Linear`` weight of the backbone is stored
as int8 with one scale per output channel, and each call quantizes its input to 8 bits on the fly
(:class:`Int8Linear`), so the matrix products, nearly all of the compute, run fbgemm's int8 kernels.
The embedding matrix, the norms and the attention scores stay fp32.

What follows from the dynamic quantization:

- an input gets one range per call (per tensor, over the whole padded batch), so an int8 embedding
  depends slightly on the other texts of its batch, and on whether the prefix cache
  (:class:`st_jce.inference.PrefixKVCache`, which composes with int8) computed the prefix on its own;
- inference only: the int8 modules have no gradients, so training, gradients or a move to a GPU raise
  an error naming the fix;
- not saved: int8 weights are a property of the machine that runs them, not of the model, so saving
  raises; save the fp32 (or bf16) model and quantize after loading:
  ``quantize_int8(st_jce.load(path, device="cpu"))``.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="int8")
>>> is_int8(model), model.encode_query(["sort a list"], task_type="nl2code").shape
(True, (1, 64))
"""

from __future__ import annotations

import warnings

import torch
from sentence_transformers import SentenceTransformer
from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

SAVE_HINT = ("save the fp32 model instead (st_jce.build_model(..., dtype='float32')) and quantize after loading: "
             "st_jce.inference.quantization.quantize_int8(st_jce.load(path, device='cpu'))")


def quantize_int8(model: SentenceTransformer | torch.nn.Module) -> SentenceTransformer | torch.nn.Module:
    """Turn the ``nn.Linear`` layers of ``model``'s backbone into int8 modules, in place, and return ``model``.

    Parameters
    ----------
    model : SentenceTransformer or torch.nn.Module
        An st-jce / sentence-transformers model (its first module's ``auto_model`` is quantized) or a
        ``transformers`` backbone, on the CPU. bf16 / fp16 weights are upcast to fp32 first.
        A model that is already int8 is returned as it is.

    Returns
    -------
    SentenceTransformer or torch.nn.Module
        ``model``, for inference on the CPU only.

    Raises
    ------
    ValueError
        If the backbone is not on the CPU (fbgemm's int8 kernels are CPU kernels).

    Examples
    --------
    >>> layer = quantize_int8(torch.nn.Sequential(torch.nn.Linear(8, 4)))
    >>> layer[0]
    Int8Linear(in_features=8, out_features=4, dtype=torch.qint8, qscheme=torch.per_channel_affine)
    """
    backbone = _backbone(model)
    if is_int8(backbone):
        return model
    device = next(backbone.parameters()).device
    int8_device(device)
    backbone.float()
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; the eager API still works in this torch.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao")
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_(tensor|channel)")
        # One scale per output channel: a per-tensor scale loses the small rows of each weight matrix
        # (MiniLM on MBPP, nDCG@10: fp32 0.740; int8 per tensor 0.674, per channel 0.717 with PyTorch's
        # 7-bit inputs, 0.733 with Int8Linear's 8-bit ones).
        quantize_dynamic(backbone, {torch.nn.Linear: per_channel_dynamic_qconfig},
                         mapping={torch.nn.Linear: Int8Linear}, inplace=True)
    backbone.register_forward_pre_hook(_check_inference, with_kwargs=True)
    backbone.register_state_dict_pre_hook(_refuse_state_dict)
    return model


class Int8Linear(DynamicQuantizedLinear):
    """PyTorch's ``DynamicQuantizedLinear`` with 8-bit inputs instead of its 7-bit default.

    PyTorch keeps inputs to 7 bits so that AVX2's ``vpmaddubsw`` (pairs of u8 x s8 products summed into a
    saturating int16) can never saturate. The lost bit costs more than the rare saturation: the cosine of
    MiniLM's int8 embeddings to fp32 ones on MBPP rises from 0.978 to 0.994 on average with 8 bits
    (0.992 with fbgemm forced to its AVX2 kernels, ``FBGEMM_ENABLE_INSTRUCTIONS=AVX2``, saturation included).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.quantized.linear_dynamic(x, self._packed_params._packed_params, reduce_range=False)

    def _get_name(self) -> str:
        return "Int8Linear"


def is_int8(model: SentenceTransformer | torch.nn.Module) -> bool:
    """Whether ``model`` holds int8 (dynamically quantized) Linear layers."""
    return any(isinstance(module, DynamicQuantizedLinear) for module in model.modules())


def int8_device(device: str | torch.device | None) -> str:
    """The device an int8 model runs on: the CPU (``None`` too); any other device raises ``ValueError``.

    Examples
    --------
    >>> int8_device(None)
    'cpu'
    """
    if device is not None and torch.device(device).type != "cpu":
        raise ValueError(f"dtype='int8' runs on the CPU only (fbgemm kernels), got device={str(device)!r}: on a GPU "
                         "use dtype='auto' (bf16 or fp16), or pass device='cpu'.")
    return "cpu"


def _backbone(model: SentenceTransformer | torch.nn.Module) -> torch.nn.Module:
    return model[0].auto_model if isinstance(model, SentenceTransformer) else model


def _check_inference(module: torch.nn.Module, args, kwargs) -> None:
    if module.training or torch.is_grad_enabled():
        raise RuntimeError("This backbone has int8 weights, which are for inference only (no gradients): encode "
                           "with model.encode* or under torch.inference_mode(); to train or fine-tune, build the "
                           "model with dtype='float32' (or 'auto').")
    device = next(module.parameters()).device
    if device.type != "cpu":
        raise RuntimeError(f"This backbone has int8 weights, which run on the CPU only, but it was moved to {device}: "
                           "move it back with model.to('cpu'), or build a GPU model with dtype='auto'.")


def _refuse_state_dict(module: torch.nn.Module, prefix: str, keep_vars: bool) -> None:
    raise RuntimeError(f"This model has int8 weights, which st-jce does not save: {SAVE_HINT}.")
