"""``train``: the jina-code-embeddings recipe end to end.

Five phases, each a function of its own:

1. :func:`check_config`: the whole config (datasets, evaluation folders, checkpoint, teacher) before any work;
2. :func:`build_model_and_loss`: the model (:func:`st_jce.build_model`) and the loss
   (:func:`st_jce.training.build_loss`);
3. :func:`training_data`: every dataset as (query, document) pairs, scaled by its ``weight``; the trainer's
   ``prompts`` give each dataset the query / document prefixes of its task type, so no prefix is typed into a
   config; with a ``teacher``, each dataset's distillation copy (:mod:`st_jce.training.distillation`);
4. :func:`evaluate_and_train`: the zero-shot baseline and the untrained model on the local folders (if any),
   training with the no-duplicates batch sampler and proportional dataset mixing, the trained model;
5. :func:`save_and_publish`: ``output_dir/final`` (st-jce format; its model card, like the checkpoints', names
   the data, the loss and the hyperparameters, and the results), the before / after table, the push if asked.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from datasets import DatasetDict
from sentence_transformers import SentenceTransformerTrainingArguments
from transformers import TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from st_jce.backbones import resolve_backbone
from st_jce.data import DatasetSpec, load_pairs, validate_specs
from st_jce.evaluation.folder_entries import parse_data
from st_jce.model import CodeEmbedder, build_model, push_model
from st_jce.model.loading import load_model
from st_jce.modules import MissingPrefixWarning
from st_jce.ndcg_table import comparison_table
from st_jce.pooling import resolve_pooling
from st_jce.prefixes import ROLES, prompt_prefix
from st_jce.training.arguments import DataArguments, LossArguments, ModelArguments
from st_jce.training.distillation import (
    DISTANCE_METRIC,
    distillation_loss,
    load_teacher,
    teacher_datasets,
    with_teacher_copies,
)
from st_jce.training.evaluator import LocalRetrievalEvaluator
from st_jce.training.freezing import train_top_layers
from st_jce.training.loss import build_loss
from st_jce.training.mixing import weighted
from st_jce.training.trainer import CodeEmbedderTrainer
from st_jce.training.weight_averaging import WeightAveragingCallback

logger = logging.getLogger(__name__)

FINAL_DIR = "final"
EVAL_DIR = "eval"
TRAINING_ARGS_FILE = "training_args.bin"  # the trainer's pickle; st_jce.load accepts no pickles


@contextmanager
def model_card_widgets_unprefixed():
    """Silence :class:`st_jce.MissingPrefixWarning` in the trainer: its only unprefixed texts are those of
    sentence-transformers' model card statistics and widget (training batches always carry their prefixes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingPrefixWarning)
        yield


def dataset_prompts(specs: list[DatasetSpec], prompts: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The trainer's ``prompts``: dataset name -> column -> the prefix of the dataset's task type.

    ``prompts`` are the model's own (``model.prompts``), so a model is trained with the prefixes it encodes with.

    Examples
    --------
    >>> from st_jce import named_prompts
    >>> from st_jce.data import DatasetSpec
    >>> spec = DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": "code2nl"}})
    >>> dataset_prompts([spec], named_prompts())["stdlib-code2nl"]["document"]
    'Candidate comment:\\n'
    """
    return {spec.name: {role: prompt_prefix(prompts, spec.resolved_task_type, role) for role in ROLES}
            for spec in specs}


def resolve_checkpoint(training_args: SentenceTransformerTrainingArguments) -> str | None:
    """The checkpoint ``--resume_from_checkpoint`` names: a ``checkpoint-*`` folder, or ``last`` for the newest
    one in ``output_dir``."""
    value = training_args.resume_from_checkpoint
    if not value:
        return None
    if value == "last":
        checkpoint = get_last_checkpoint(training_args.output_dir) if Path(training_args.output_dir).is_dir() else None
        if checkpoint is None:
            raise ValueError(f"resume_from_checkpoint: 'last', but {training_args.output_dir!r} holds no checkpoint-* "
                             "folder; drop the option to start afresh, or point output_dir at the interrupted run.")
        return checkpoint
    if not (Path(value) / "trainer_state.json").is_file():
        raise ValueError(f"resume_from_checkpoint: {value!r} is not a trainer checkpoint (no trainer_state.json); "
                         "pass a checkpoint-* folder of an earlier run, or 'last'.")
    return value


def check_eval_data(entries: list[str], *, skip_missing: bool = False) -> list[str]:
    """``PATH:TASK_TYPE`` entries, normalised; errors name ``eval_data``. Missing folders fail, or with
    ``skip_missing`` are left out with a warning."""
    try:
        parsed = parse_data(entries)
    except ValueError as error:
        raise ValueError(f"eval_data: {error}") from None
    missing = [str(folder) for folder, _ in parsed if not folder.is_dir()]
    if missing and not skip_missing:
        raise ValueError(f"eval_data: folder(s) {missing} do not exist; fix the paths, remove the entries, or set "
                         "eval_skip_missing: true to evaluate on the folders that exist.")
    if missing:
        logger.warning("eval_data: skipping the missing folder(s) %s (eval_skip_missing is true).", missing)
    return [f"{folder}:{task_type}" for folder, task_type in parsed if folder.is_dir()]


def training_record(specs: list[DatasetSpec], sizes: dict[str, int], model_args: ModelArguments,
                    loss_args: LossArguments, training_args: SentenceTransformerTrainingArguments,
                    loss) -> dict[str, Any]:
    """What the model card says about training: datasets, hyperparameters, loss with its parameters."""
    datasets = []
    for spec in specs:
        hub_id = spec.entry.hub_id if spec.source == "registry" else spec.path if spec.source == "hub" else None
        datasets.append({"name": spec.name, "task_type": spec.resolved_task_type, "pairs": sizes[spec.name],
                         **({"hub_id": hub_id} if hub_id else {})})
    hyperparameters = {
        "max_steps": training_args.max_steps, "num_train_epochs": training_args.num_train_epochs,
        "per_device_train_batch_size": training_args.per_device_train_batch_size,
        "global_batch_size": training_args.per_device_train_batch_size * training_args.world_size
        * training_args.gradient_accumulation_steps,
        "learning_rate": training_args.learning_rate, "lr_scheduler_type": str(training_args.lr_scheduler_type.value),
        "warmup_steps": training_args.warmup_steps, "weight_decay": training_args.weight_decay,
        "max_seq_length": model_args.max_seq_length, "pooling": model_args.pooling, "bf16": training_args.bf16,
        **({"trainable_top_layers": model_args.trainable_top_layers} if model_args.trainable_top_layers else {}),
        **({"wise_ft_alpha": model_args.wise_ft_alpha} if model_args.wise_ft_alpha < 1.0 else {}),
        "seed": training_args.seed, "batch_sampler": str(training_args.batch_sampler.value),
        "multi_dataset_batch_sampler": str(training_args.multi_dataset_batch_sampler.value),
    }
    loss_record = {"name": "MatryoshkaLoss", "matryoshka_dims": loss.matryoshka_dims,
                   "inner_loss": type(loss.loss).__name__, "scale": loss_args.scale,
                   "temperature": loss_args.temperature, "gather_across_devices": loss_args.gather_across_devices}
    if loss_args.cached:
        loss_record["mini_batch_size"] = loss_args.mini_batch_size
    if loss_args.teacher:
        loss_record.update(teacher=loss_args.teacher, teacher_weight=loss_args.teacher_weight,
                           teacher_loss=f"EmbedDistillLoss(distance_metric={DISTANCE_METRIC!r})")
    return {"datasets": datasets, "hyperparameters": hyperparameters, "loss": loss_record}


def autocast_dtype(training_args: SentenceTransformerTrainingArguments) -> torch.dtype | None:
    """The mixed precision of training (``None`` without), which encoding outside the trainer also uses."""
    return torch.bfloat16 if training_args.bf16 else torch.float16 if training_args.fp16 else None


def build_evaluator(eval_data: list[str], output_dir: Path, data_args: DataArguments, model_args: ModelArguments,
                    training_args: SentenceTransformerTrainingArguments,
                    dims: list[int]) -> LocalRetrievalEvaluator | None:
    """The evaluator of the local folders (``None`` without any), in the precision of training, as the
    trainer's own evaluation does."""
    if not eval_data:
        return None
    return LocalRetrievalEvaluator(eval_data, output_dir / EVAL_DIR, matryoshka_dims=dims,
                                   batch_size=training_args.per_device_eval_batch_size,
                                   max_seq_length=data_args.eval_max_seq_length or model_args.max_seq_length,
                                   autocast_dtype=autocast_dtype(training_args))


def evaluate_baseline(baseline: str, evaluator: LocalRetrievalEvaluator) -> dict:
    """nDCG@10 of a reference model as it is (its own pooling, no task prefixes)."""
    model = load_model(resolve_backbone(baseline))
    zero_shot = LocalRetrievalEvaluator(evaluator.data, evaluator.output_dir / "baseline", use_prefixes=False,
                                        batch_size=evaluator.batch_size, max_seq_length=evaluator.max_seq_length,
                                        autocast_dtype=evaluator.autocast_dtype, name="baseline")
    zero_shot(model)
    return zero_shot.last_summary


@dataclass
class CheckedConfig:
    """What :func:`check_config` found valid: the datasets, the evaluation folders, where to resume from, the
    teacher."""

    specs: list[DatasetSpec]
    eval_data: list[str]
    checkpoint: str | None
    teacher: str | None


def check_config(data_args: DataArguments, loss_args: LossArguments,
                 training_args: SentenceTransformerTrainingArguments) -> CheckedConfig:
    """Phase 1: the whole config is checked before any work; each error names the key to fix."""
    specs = validate_specs(data_args.datasets)
    eval_data = check_eval_data(data_args.eval_data, skip_missing=data_args.eval_skip_missing)
    checkpoint = resolve_checkpoint(training_args)
    teacher = loss_args.resolved_teacher()
    if training_args.push_to_hub and not training_args.hub_model_id:
        raise ValueError("hub_model_id: required with --push_to_hub; set it to 'owner/name'.")
    return CheckedConfig(specs, eval_data, checkpoint, teacher)


def build_model_and_loss(model_args: ModelArguments, loss_args: LossArguments):
    """Phase 2: the model (top layers only, if asked) and the recipe's loss, whose Matryoshka dims the model's
    config records."""
    model: CodeEmbedder = build_model(
        model_args.resolved_backbone(), max_seq_length=model_args.max_seq_length, dtype=model_args.dtype,
        append_eos=model_args.append_eos, padding_side=model_args.padding_side, pooling=model_args.pooling,
        attn_implementation=model_args.attn_implementation)
    model_args.pooling = resolve_pooling(model_args.pooling, model[0].auto_model.config)  # the card says which ran
    if model_args.trainable_top_layers:
        trainable = train_top_layers(model[0].auto_model, model_args.trainable_top_layers)
        logger.info("Training the top %d layers: %d of %d parameters.", model_args.trainable_top_layers, trainable,
                    sum(parameter.numel() for parameter in model.parameters()))
    loss = build_loss(model, loss_args)
    # The convention that st-jce eval, vLLM and sglang read the truncation sizes from.
    model[0].auto_model.config.matryoshka_dimensions = loss.matryoshka_dims
    return model, loss


def training_data(config: CheckedConfig, model: CodeEmbedder, loss, model_args: ModelArguments,
                  loss_args: LossArguments, training_args: SentenceTransformerTrainingArguments):
    """Phase 3: every dataset's pairs, scaled by its weight, with its task type's prefixes as the trainer's
    prompts; with a teacher, each dataset's distillation copy and its loss. Returns the datasets and the losses."""
    with training_args.main_process_first(desc="loading the training data"):
        pairs = {spec.name: load_pairs(spec) for spec in config.specs}
        teacher_model = load_teacher(config.teacher, model, str(training_args.device)) if config.teacher else None
    weights = {spec.name: spec.weight for spec in config.specs}
    train_dataset = DatasetDict({name: weighted(rows, weights[name]) for name, rows in pairs.items()})
    if teacher_model is not None:  # outside main_process_first: every process encodes a share of the texts
        train_dataset.update(teacher_datasets(
            teacher_model, pairs, weights, teacher_weight=loss_args.teacher_weight,
            max_seq_length=model_args.max_seq_length, batch_size=training_args.per_device_eval_batch_size,
            autocast_dtype=autocast_dtype(training_args)))
        del teacher_model  # released before training allocates
    training_args.prompts = dataset_prompts(config.specs, model.prompts)
    losses = loss
    if config.teacher:
        training_args.prompts = with_teacher_copies(training_args.prompts)
        losses = with_teacher_copies({name: loss for name in pairs}, distillation_loss(model))
    return train_dataset, losses


def evaluate_and_train(trainer: CodeEmbedderTrainer, evaluator: LocalRetrievalEvaluator | None, model: CodeEmbedder,
                       config: CheckedConfig, data_args: DataArguments,
                       training_args: SentenceTransformerTrainingArguments) -> dict[str, dict]:
    """Phase 4: the baseline and the untrained model on the evaluation folders, training, the trained model."""
    results: dict[str, dict] = {}
    if evaluator is not None and data_args.eval_baseline:
        with training_args.main_process_first(desc="evaluating the baseline"):
            if trainer.is_world_process_zero():
                results[f"baseline ({data_args.eval_baseline})"] = evaluate_baseline(data_args.eval_baseline, evaluator)
    if evaluator is not None and data_args.eval_before and config.checkpoint is None:
        trainer.evaluate()
        results["before"] = evaluator.last_summary
    with model_card_widgets_unprefixed():
        trainer.train(resume_from_checkpoint=config.checkpoint)
    if evaluator is not None:
        trainer.evaluate()
        results["after"] = evaluator.last_summary
        model.card_inputs = {**model.card_inputs, "eval_summary": results["after"]}
    return results


def save_and_publish(trainer: CodeEmbedderTrainer, results: dict[str, dict], config: CheckedConfig, push_to_hub: bool,
                     model_args: ModelArguments, training_args: SentenceTransformerTrainingArguments,
                     started: float) -> Path:
    """Phase 5: ``output_dir/final`` (written by the main process), the before / after table, and the push."""
    final_dir = Path(training_args.output_dir) / FINAL_DIR
    with model_card_widgets_unprefixed():
        trainer.save_model(str(final_dir))  # the main process writes it
    if not trainer.is_world_process_zero():
        return final_dir
    (final_dir / TRAINING_ARGS_FILE).unlink(missing_ok=True)
    if results.get("after"):
        print(f"\nnDCG@10 on {len(config.eval_data)} evaluation folder(s):\n{comparison_table(results)}\n", flush=True)
    print(f"Model saved to {final_dir} ({(time.perf_counter() - started) / 60:.1f} min in all)", flush=True)
    if push_to_hub:
        url = push_model(final_dir, training_args.hub_model_id, portable=model_args.push_format == "portable",
                         private=bool(training_args.hub_private_repo), revision=training_args.hub_revision,
                         token=training_args.hub_token)
        print(f"Pushed to {url}", flush=True)
    return final_dir


def train(model_args: ModelArguments, data_args: DataArguments, loss_args: LossArguments,
          training_args: SentenceTransformerTrainingArguments, *,
          callbacks: list[TrainerCallback] | None = None) -> Path:
    """Train, evaluate, save ``output_dir/final`` and push if asked; return the final model's folder.

    ``callbacks`` are added to the trainer's (``transformers.TrainerCallback`` instances).
    """
    started = time.perf_counter()
    config = check_config(data_args, loss_args, training_args)
    model, loss = build_model_and_loss(model_args, loss_args)
    train_dataset, losses = training_data(config, model, loss, model_args, loss_args, training_args)
    # The trainer would push raw checkpoints; the final model is pushed once, in the chosen format, at the end.
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    # Every save (checkpoints, final/) writes these into the model card.
    sizes = {name: len(dataset) for name, dataset in train_dataset.items()}
    model.card_inputs = {"base_model": model_args.base_model,
                         "training": training_record(config.specs, sizes, model_args, loss_args, training_args, loss)}
    evaluator = build_evaluator(config.eval_data, Path(training_args.output_dir), data_args, model_args, training_args,
                                loss.matryoshka_dims)
    if model_args.wise_ft_alpha < 1.0:
        callbacks = [*(callbacks or []), WeightAveragingCallback(model, model_args.wise_ft_alpha)]
    with model_card_widgets_unprefixed():
        trainer = CodeEmbedderTrainer(model=model, args=training_args, train_dataset=train_dataset, loss=losses,
                                      evaluator=evaluator, callbacks=callbacks)
    results = evaluate_and_train(trainer, evaluator, model, config, data_args, training_args)
    return save_and_publish(trainer, results, config, push_to_hub, model_args, training_args, started)
