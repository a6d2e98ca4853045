"""``CodeEmbedderTrainer``: sentence-transformers' trainer that also logs training throughput.

Every training log line (loss, learning rate, ...) gains ``samples_per_second`` (query–document pairs)
and ``tokens_per_second`` (non-padding tokens of queries and documents), summed over all processes and
measured since the previous log line. A ``TrainerCallback`` cannot see the batches, so the counting
happens in the public ``compute_loss`` / ``log`` hooks.
"""

from __future__ import annotations

import time

import torch
from sentence_transformers import SentenceTransformerTrainer


class CodeEmbedderTrainer(SentenceTransformerTrainer):
    """A ``SentenceTransformerTrainer`` whose training logs include samples/s and tokens/s."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.samples_seen = 0
        self.tokens_seen = 0
        self.window_start: float | None = None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if model.training:
            masks = [value for key, value in inputs.items() if key.endswith("attention_mask")]
            if masks:
                if self.window_start is None:
                    self.window_start = time.perf_counter()
                self.samples_seen += masks[0].shape[0]
                self.tokens_seen += int(sum(mask.sum() for mask in masks))
        return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                    num_items_in_batch=num_items_in_batch)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self.window_start is not None:
            # log() runs on every process for training logs, so the counts can be summed across them.
            counts = torch.tensor([self.samples_seen, self.tokens_seen], dtype=torch.float64,
                                  device=self.args.device)
            samples, tokens = self.accelerator.reduce(counts, reduction="sum").tolist()
            elapsed = max(time.perf_counter() - self.window_start, 1e-9)
            logs = {**logs, "samples_per_second": round(samples / elapsed, 2),
                    "tokens_per_second": round(tokens / elapsed, 1)}
            self.samples_seen = self.tokens_seen = 0
            self.window_start = time.perf_counter()
        super().log(logs, start_time)
