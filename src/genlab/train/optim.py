"""Weight-update helpers shared by the recipes: the EMA of a network's weights."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """Exponential moving average of ``model``'s weights into ``ema``, with a warm-up
    (decay <= (1 + step) / (10 + step)) so that short runs are not dominated by the random
    initial weights; buffers (batch-norm statistics) are copied."""
    d = min(decay, (1 + step) / (10 + step))
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - d)
    for be, b in zip(ema.buffers(), model.buffers()):
        be.copy_(b)
