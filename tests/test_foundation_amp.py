"""amp=bf16: every registered recipe's training step runs under bfloat16 autocast and keeps float32 weights."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.registry import MODELS, get_recipe
from genlab.train.distributed import init_distributed
from genlab.train.engine import build_config, step_context
from genlab.utils.runtime import seed_everything
from helpers import train_steps


@pytest.mark.parametrize("model", MODELS)
def test_training_steps_under_bf16_autocast(model):
    cls = get_recipe(model)
    extra = {"learning_starts": 64, "batch_size": 32} if model == "dqn" else {}  # reach DQN's updates within the test
    cfg = build_config(cls, "quick", {"amp": "bf16", "progress": False, **extra})
    seed_everything(0)
    device = torch.device("cpu")
    recipe = cls(cfg, device, init_distributed(device))
    logs = train_steps(recipe, 80 if model == "dqn" else 2, 0, step_context(cfg, device))
    assert math.isfinite(float(torch.as_tensor(logs["loss"]).detach()))
    assert all(p.dtype == torch.float32 for net in recipe.nets.values() for p in net.parameters())
    if model == "dqn":
        assert recipe.n_updates > 0  # the updates ran under autocast (autograd's path, not the written-out gradients)
