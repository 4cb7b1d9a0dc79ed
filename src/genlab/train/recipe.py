"""The contract between a model family and the shared training engine.

A recipe owns its modules, optimisers, loss and sampler; the engine owns everything else
(data batches, seeding, progress bar, logging, checkpoints, resume, DDP, sample grids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from genlab.config import TrainConfig
from genlab.data.datasets import ImageData, load_dataset
from genlab.train.distributed import DistInfo, average_gradients

#: the commands a model's options can belong to
COMMANDS = ("train", "sample", "eval")


@dataclass(frozen=True)
class Option:
    """A command-line option a model takes: ``genlab COMMAND ... --NAME VALUE``.

    ``commands`` says which commands take it: ``train`` sets the config field ``name``,
    ``sample`` passes it to ``sample(n, generator, name=value)`` and ``eval`` to
    ``evaluate(data, name=value)``. An option is passed only when it is given on the command
    line, so the method's own default applies otherwise. Models that declare the same name must
    agree on its type (the flag is one); ``genlab COMMAND --help`` lists each help with its models."""

    name: str
    type: Callable[[str], Any]
    help: str
    commands: tuple[str, ...] = ("sample",)

    def __post_init__(self):
        unknown = set(self.commands) - set(COMMANDS)
        if unknown:
            raise ValueError(f"option {self.name}: unknown command(s) {sorted(unknown)}; choose from {COMMANDS}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


#: options every conditional / latent-prior generator may declare
LABEL = Option("label", int, "class to generate")
TEMPERATURE = Option("temperature", float, "scale of the prior noise")


class Recipe:
    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    Config: ClassVar[type] = TrainConfig
    presets: ClassVar[dict[str, dict]] = {"quick": {}, "full": {}, "book": {}}
    uses_dataset: ClassVar[bool] = True
    #: the command-line options this model takes, each saying which commands take it (see Option);
    #: ``genlab train``, ``sample`` and ``eval`` build their model flags from these declarations
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, cfg, device: torch.device | str = "cpu", dist_info: DistInfo | None = None):
        self.cfg = cfg
        self.device = torch.device(device)
        self.dist = dist_info or DistInfo()
        self.data: ImageData | None = None
        self.nets: dict[str, nn.Module] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}
        self.build()

    # -- what a family implements -------------------------------------------------------
    def build(self) -> None:
        """Create ``self.nets`` (and ``self.opts`` for training)."""
        raise NotImplementedError

    def train_step(self, batch, step: int) -> dict:
        """One optimisation step on ``batch`` = (x, y); returns scalars to log ('loss' required)."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator | None = None, **options) -> torch.Tensor:
        """``n`` new images (N, C, H, W) in [0, 1]."""
        raise NotImplementedError(f"{self.name} does not generate samples")

    def evaluate(self, data: ImageData | None = None, **options) -> dict:
        """Metrics on the held-out split: the one evaluation entry point (the end of training,
        ``genlab eval``, the studio and the zoo checks all call it).

        ``data`` is the model's dataset (None when ``uses_dataset`` is False); ``options`` are
        the model's declared ``eval`` options, passed only when the caller sets them."""
        return {}

    def figures(self, store) -> list:
        """Family-specific pictures written into the run folder at the end of training."""
        return []

    def periodic_eval(self, step: int) -> dict:
        """Optional metrics during training; a 'score' key (higher is better) keeps the best checkpoint."""
        return {}

    def finish_training(self, step: int) -> None:
        """Called once after the last training step, before the final checkpoint is written."""

    def extra_state(self) -> dict:
        """Tensors or plain values beyond nets and optimisers that a resume needs."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    @property
    def sampler_net(self) -> nn.Module:
        """The network ``sample()`` draws with: the EMA copy of the weights where the model keeps one.

        A name for the role, whatever key the network has in ``self.nets`` (those keys name the
        checkpoint's tensors and stay as they are)."""
        raise AttributeError(f"model '{self.name}' has no sampling network")

    # -- shared helpers ---------------------------------------------------------------
    @property
    def can_sample(self) -> bool:
        return type(self).sample is not Recipe.sample

    @classmethod
    def options_for(cls, command: str) -> tuple[Option, ...]:
        """The declared options that ``command`` (train, sample or eval) takes."""
        return tuple(o for o in cls.options if command in o.commands)

    def load_data(self) -> ImageData:
        if self.data is None:
            self.data = load_dataset(self.cfg.data, self.cfg.image_size, self.cfg.channels)
        return self.data

    def optimize(self, name: str, loss: torch.Tensor, clip: float | None = None, params=None) -> None:
        """zero_grad, backward, average gradients across ranks, optional clipping, step."""
        opt = self.opts[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        params = params or [p for g in opt.param_groups for p in g["params"]]
        average_gradients(params, self.dist)
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()

    def state(self) -> dict:
        return {
            "nets": {k: m.state_dict() for k, m in self.nets.items()},
            "opts": {k: o.state_dict() for k, o in self.opts.items()},
            "extra": self.extra_state(),
        }

    def load_state(self, state: dict, with_optimizers: bool = True) -> None:
        from genlab.errors import GenlabError

        try:
            for k, m in self.nets.items():
                m.load_state_dict(state["nets"][k])
            if with_optimizers:
                for k, o in self.opts.items():
                    o.load_state_dict(state["opts"][k])
            self.load_extra_state(state.get("extra", {}))
        except (KeyError, RuntimeError, ValueError) as e:
            detail = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
            raise GenlabError(f"checkpoint does not fit model {self.name} with this config ({detail[:200]})") from None

    def train_mode(self, on: bool = True) -> None:
        for m in self.nets.values():
            m.train(on)


def in_chunks(
    draw: Callable[[int, torch.Tensor | None], torch.Tensor], n: int, chunk: int, labels: torch.Tensor | None = None
) -> Iterator[torch.Tensor]:
    """``draw(k, labels_of_the_chunk)`` for consecutive chunks of at most ``chunk`` of ``n`` samples.

    How every sampler makes many samples with bounded memory: a seeded generator passed into
    ``draw`` carries on from one chunk to the next, so the samples depend on the seed and the
    chunk size, not on how the caller collects them."""
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        yield draw(k, None if labels is None else labels[start : start + k])
