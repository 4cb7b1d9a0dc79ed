"""Chapter 5.6: Model-Agnostic Meta-Learning (Finn et al. 2017) with a functional inner loop.

For each task of a meta-batch the inner loop takes a few gradient steps on the support loss,
theta' = theta - alpha * grad L_support(theta), and runs the network with the ADAPTED
parameters through ``torch.func.functional_call`` (the book's ``functional_forward`` compared
layer names with parameter names, so its adapted parameters were never used). The outer step
minimises the query loss of the adapted parameters: second order by default (the graph of the
inner gradients is kept), first order (FOMAML) as an option.

Batch norm follows the MAML paper: no running statistics, every forward pass normalises with
the statistics of its own batch (transductive), and the BN scales and shifts are adapted like
every other parameter. The query pass sees the support images too, so a single query image
still gets sound statistics.

``head="zero"`` (default) starts every task from a zero-initialised linear head of as many
outputs as the task has classes (the "zeroing trick"): the model then works for any number of
ways and for any label order. ``head="learned"`` is the paper's learned head of ``ways`` outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from genlab.errors import GenlabError
from genlab.fewshot.base import FewShotConfig, FewShotRecipe
from genlab.fewshot.nets import Conv4


@dataclass
class MAMLConfig(FewShotConfig):
    hidden: int = 64
    inner_lr: float = 0.4  # alpha
    inner_steps: int = 3  # inner gradient steps while meta-training
    eval_inner_steps: int = 0  # inner gradient steps on new tasks (0: inner_steps; more steps overshoot)
    first_order: bool = False  # FOMAML: drop the second-order terms
    meta_batch: int = 4  # tasks per outer step
    head: str = "zero"  # zero | learned


class MAMLNet(nn.Module):
    def __init__(self, channels: int, hidden: int, image_size: int, ways: int, ink_norm: str = "none"):
        super().__init__()
        self.encoder = Conv4(channels, hidden, track_bn=False, ink_norm=ink_norm)
        self.head = nn.Linear(self.encoder.out_dim(image_size), ways)

    def forward(self, x):
        return self.head(self.encoder(x))


def inner_loop(model: nn.Module, params: dict, x, y, lr: float, steps: int, create_graph: bool) -> dict:
    """``steps`` gradient steps on the loss of (x, y); returns the adapted parameters."""
    for _ in range(steps):
        loss = F.cross_entropy(functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph)
        params = {k: p - lr * g for (k, p), g in zip(params.items(), grads)}
    return params


class MAMLRecipe(FewShotRecipe):
    name = "maml"
    Config = MAMLConfig
    presets = {
        # half of the tasks from one alphabet, like held-out tasks (drawn from two alphabets)
        "quick": {
            "steps": 400,
            "ways": 5,
            "shots": 1,
            "queries": 5,
            "lr": 1e-3,
            "meta_batch": 4,
            "inner_steps": 2,
            "hard": 0.5,
            "eval_episodes": 200,
        },
        "full": {
            "steps": 3000,
            "ways": 5,
            "shots": 1,
            "queries": 15,
            "lr": 1e-3,
            "meta_batch": 16,
            "inner_steps": 3,
            "eval_episodes": 600,
        },
        # the book's settings: one task per update, 5 inner steps of 0.01, a learned head
        "book": {
            "steps": 2000,
            "ways": 5,
            "shots": 1,
            "queries": 15,
            "lr": 1e-3,
            "meta_batch": 1,
            "head": "learned",
            "inner_lr": 0.01,
            "inner_steps": 5,
            "rotations": False,
        },
    }

    def build(self):
        if self.cfg.head not in ("zero", "learned"):
            raise GenlabError(f"maml head must be 'zero' or 'learned', got {self.cfg.head!r}")
        net = MAMLNet(self.cfg.channels, self.cfg.hidden, self.cfg.image_size, self.cfg.ways, self.cfg.ink_norm).to(
            self.device
        )
        self.nets["model"] = net
        self.opts["model"] = torch.optim.Adam(net.parameters(), lr=self.cfg.lr)

    def task_params(self, ways: int, detach: bool) -> dict:
        """Starting point of the inner loop: the meta-parameters (and a zero head of ``ways`` outputs)."""
        params = dict(self.nets["model"].named_parameters())
        if self.cfg.head == "zero":
            d = params["head.weight"].shape[1]
            params["head.weight"] = torch.zeros(ways, d, device=self.device, requires_grad=True)
            params["head.bias"] = torch.zeros(ways, device=self.device, requires_grad=True)
        elif ways != self.cfg.ways:
            raise GenlabError(
                f"this MAML run has a learned {self.cfg.ways}-way head; evaluate it with --ways {self.cfg.ways} (or train with head=zero)"
            )
        if detach:
            params = {k: p.detach().requires_grad_() for k, p in params.items()}
        return params

    def adapted_logits(
        self, support_x, support_y, query_x, ways: int, steps: int, create_graph: bool, detach: bool = False
    ):
        """Query logits after ``steps`` inner steps on the support set (support + queries in one BN batch)."""
        model = self.nets["model"]
        params = inner_loop(
            model, self.task_params(ways, detach), support_x, support_y, self.cfg.inner_lr, steps, create_graph
        )
        return functional_call(model, params, (torch.cat([support_x, query_x]),))[len(support_x) :]

    def train_step(self, batch, step):
        g = self.generator(step)
        losses, accs = [], []
        for _ in range(self.cfg.meta_batch):
            ep = self.train_episode(step, g)
            logits = self.adapted_logits(
                ep.support_x,
                ep.support_y,
                ep.query_x,
                ep.ways,
                self.cfg.inner_steps,
                create_graph=not self.cfg.first_order,
            )
            losses.append(F.cross_entropy(logits, ep.query_y))
            accs.append((logits.argmax(1) == ep.query_y).float().mean())
        loss = torch.stack(losses).mean()
        self.optimize("model", loss)
        return {"loss": loss, "acc": torch.stack(accs).mean()}

    def classify(self, support_x, support_y, query_x, ways):
        with torch.enable_grad():
            logits = self.adapted_logits(
                support_x,
                support_y,
                query_x,
                ways,
                self.cfg.eval_inner_steps or self.cfg.inner_steps,
                create_graph=False,
                detach=True,
            )
        return logits.detach()
