"""The same seed gives the same numbers as the code before its restructuring: the loss after a few
training steps of one model per family, recorded once. A refactor that changes behaviour fails here.

The tolerance is relative 1e-4, for float rounding that differs between CPU kinds (AVX2 / AVX-512
kernels); a real change of the computation moves these numbers by far more."""

from __future__ import annotations

import pytest
import torch

from genlab.registry import get_recipe
from genlab.train.distributed import init_distributed
from genlab.train.engine import build_config
from genlab.utils.runtime import seed_everything
from helpers import train_steps

#: model -> (preset, overrides, training steps, the loss after them)
RECORDED = {
    "ae": ("quick", {}, 3, 0.2527045011520386),
    "dcgan": ("book", {}, 3, 2.1016740798950195),
    "ddpm": ("book", {"base_channels": 8}, 3, 0.9990848898887634),
    "dqn": ("quick", {"learning_starts": 16, "batch_size": 16}, 40, 0.012257195077836514),
}


@pytest.mark.parametrize("model", RECORDED)
def test_the_same_seed_gives_the_recorded_loss(model):
    preset, overrides, steps, expected = RECORDED[model]
    cls = get_recipe(model)
    cfg = build_config(cls, preset, {"progress": False, "seed": 0, **overrides})
    seed_everything(cfg.seed)
    device = torch.device("cpu")
    recipe = cls(cfg, device, init_distributed(device))
    logs = train_steps(recipe, steps, cfg.seed)
    assert float(torch.as_tensor(logs["loss"]).detach()) == pytest.approx(expected, rel=1e-4)
