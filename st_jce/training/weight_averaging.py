"""Averaging the trained weights with the starting ones (WiSE-FT, Wortsman et al., 2022): keeping what the
starting model knows.

Fine-tuning on a narrow set of pairs moves a model away from what made it good elsewhere. The weights
``start + alpha * (trained - start)`` for an ``alpha`` between 0 (the starting model) and 1 (the trained one)
keep most of the gain where the training data looks like the target and lose less where it does not. Only
the parameters that trained are averaged (the frozen ones are equal anyway); the starting values are kept on
the CPU from before the first step (before a checkpoint is resumed, too: the start is the model built, not the
checkpoint). ``alpha`` is the config key ``wise_ft_alpha``, chosen on development data (docs/experiments.md);
:class:`WeightAveragingCallback` applies it when training ends, before the final evaluation and save.

Examples
--------
>>> import torch
>>> layer = torch.nn.Linear(2, 2)
>>> start = trainable_snapshot(layer)
>>> with torch.no_grad():
...     _ = layer.weight.add_(1.0)
>>> average_with_start(layer, start, alpha=0.25)
>>> bool(torch.allclose(layer.weight, start["weight"] + 0.25))
True
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import TrainerCallback


def trainable_snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of every parameter of ``model`` that will train (``requires_grad``), by name."""
    return {name: parameter.detach().to("cpu", copy=True)
            for name, parameter in model.named_parameters() if parameter.requires_grad}


def check_alpha(alpha: float) -> float:
    """``alpha`` if it is a share between 0 and 1, else a ``ValueError`` naming the key."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"wise_ft_alpha: the trained weights' share must be between 0 (the starting model) and 1 "
                         f"(the trained model, no averaging); got {alpha}.")
    return alpha


@torch.no_grad()
def average_with_start(model: nn.Module, start: dict[str, torch.Tensor], alpha: float) -> None:
    """Set each parameter named in ``start`` to ``start + alpha * (current - start)``, in place."""
    check_alpha(alpha)
    parameters = dict(model.named_parameters())
    unknown = sorted(set(start) - set(parameters))
    if unknown:
        raise ValueError(f"the starting weights name parameters the model lacks: {unknown[:3]}")
    for name, start_value in start.items():
        parameter = parameters[name]
        parameter.lerp_(start_value.to(parameter.device, parameter.dtype), 1.0 - alpha)


class WeightAveragingCallback(TrainerCallback):
    """Averages the model with its weights at construction when training ends (``alpha``: the trained share)."""

    def __init__(self, model: nn.Module, alpha: float) -> None:
        self.model = model
        self.alpha = check_alpha(alpha)
        self.start = trainable_snapshot(model)

    def on_train_end(self, args, state, control, **kwargs):
        average_with_start(self.model, self.start, self.alpha)
