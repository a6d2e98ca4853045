"""``LocalRetrievalEvaluator``: nDCG@10 on local BEIR folders as a sentence-transformers evaluator.

It runs :func:`st_jce.evaluation.evaluate` (the same prefixes and metric as ``st-jce eval``), so the
trainer can call it before training, every ``eval_steps`` and at the end; under DDP the trainer runs it
on the main process while the others help encode.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from statistics import mean

import torch
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator

from st_jce.evaluation import evaluate


class LocalRetrievalEvaluator(SentenceEvaluator):
    """Evaluate a model on local BEIR folders (``"PATH:TASK_TYPE"``) with its task-type prefixes.

    Parameters
    ----------
    data : sequence of str
        ``"PATH:TASK_TYPE"`` entries, e.g. ``"../shared/data/mbpp:nl2code"``.
    output_dir : str or PathLike
        Where each evaluation's mteb results, ``summary.json`` and ``report.md`` go (one subfolder per call).
    matryoshka_dims : sequence of int, optional
        nDCG@10 is also reported at these truncations.
    batch_size : int
        Encoding batch size.
    max_seq_length : int, optional
        Token limit while evaluating; the model's own limit is restored afterwards.
    use_prefixes : bool
        ``False`` evaluates a baseline as it is, without task prefixes.
    autocast_dtype : torch.dtype, optional
        Encode under ``torch.autocast`` in this dtype (e.g. ``torch.bfloat16`` when training in bf16, as the
        trainer's own evaluation does); the weights are not touched.

    Attributes
    ----------
    last_summary : dict or None
        The summary (``{"tasks": {name: {"ndcg_at_10", "by_dim", ...}}, ...}``) of the latest call.
    """

    def __init__(self, data: Sequence[str], output_dir: str | os.PathLike, *, matryoshka_dims: Sequence[int] | None = None,
                 batch_size: int = 8, max_seq_length: int | None = None, use_prefixes: bool = True,
                 autocast_dtype: torch.dtype | None = None, name: str = "local") -> None:
        super().__init__()
        self.data = list(data)
        self.output_dir = Path(output_dir)
        self.matryoshka_dims = list(matryoshka_dims) if matryoshka_dims else None
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.use_prefixes = use_prefixes
        self.autocast_dtype = autocast_dtype
        self.name = name
        self.primary_metric = "mean_ndcg@10"
        self.last_summary: dict | None = None

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        run_dir = self.output_dir / (f"step-{steps}" if steps >= 0 else "final")
        previous_length = model.max_seq_length
        precision = torch.autocast(model.device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None)
        try:
            with precision:
                summary = evaluate(model, data=self.data, matryoshka_dims=self.matryoshka_dims, output_dir=run_dir,
                                   batch_size=self.batch_size, max_seq_length=self.max_seq_length or previous_length,
                                   use_prefixes=self.use_prefixes)
        finally:
            model.max_seq_length = previous_length
        self.last_summary = summary
        scores = {f"{task}_ndcg@10": result["ndcg_at_10"] for task, result in summary["tasks"].items()}
        scores["mean_ndcg@10"] = mean(scores.values())
        metrics = self.prefix_name_to_metrics(scores, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def get_config_dict(self) -> dict:
        return {"data": self.data, "max_seq_length": self.max_seq_length, "use_prefixes": self.use_prefixes,
                "autocast_dtype": str(self.autocast_dtype) if self.autocast_dtype else None}
