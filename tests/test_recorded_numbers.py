"""The same seed gives the same numbers as the code before its restructuring: the loss after a few
training steps of one model per family, recorded once. A refactor that changes behaviour fails here.

The tolerance is relative 1e-4, for float rounding that differs between CPU kinds (AVX2 / AVX-512
kernels); a real change of the computation moves these numbers by far more. The few-shot loss is
the exception: its logits are differences of large squared distances, so rounding alone moves it
by a few tenths of a percent (one torch thread against two), while a real change (the learning
rate 10% higher, one query fewer) moves it by several percent."""

from __future__ import annotations

import pytest
import torch

from genlab.data import datasets, omniglot
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
    "protonet": ("quick", {}, 3, 5.122241973876953),
    "clip": ("quick", {"batch_size": 32}, 3, 3.629371166229248),
}
#: relative tolerance where it is not 1e-4 (see the module docstring)
TOLERANCE = {"protonet": 1e-2}


@pytest.fixture(autouse=True)
def as_in_a_fresh_process(monkeypatch):
    """One torch thread (the suite runs alone with two, under xdist with one), and the data read
    afresh rather than from the in-process caches that other tests share."""
    monkeypatch.setattr(datasets, "embedded_mnist", datasets.embedded_mnist.__wrapped__)
    monkeypatch.setattr(omniglot, "load_omniglot", omniglot.load_omniglot.__wrapped__)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("model", RECORDED)
def test_the_same_seed_gives_the_recorded_loss(model):
    preset, overrides, steps, expected = RECORDED[model]
    cls = get_recipe(model)
    cfg = build_config(cls, preset, {"progress": False, "seed": 0, **overrides})
    seed_everything(cfg.seed)
    device = torch.device("cpu")
    recipe = cls(cfg, device, init_distributed(device))
    logs = train_steps(recipe, steps, cfg.seed)
    loss = float(torch.as_tensor(logs["loss"]).detach())
    assert loss == pytest.approx(expected, rel=TOLERANCE.get(model, 1e-4))
