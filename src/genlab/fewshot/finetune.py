"""The fine-tuning baseline (Chen et al. 2019, "A closer look at few-shot classification").

Pretrain an ordinary classifier over ALL training classes (the background characters and their
rotations) on plain mini-batches; for a new task, freeze the encoder and fit a new head on the
support embeddings only: a cosine head (initialised at the class means, "Baseline++") or a
linear head. An honest few-shot comparison needs this baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlab.errors import GenlabError
from genlab.fewshot.base import FewShotConfig, FewShotRecipe
from genlab.fewshot.episodes import random_affine
from genlab.fewshot.nets import Conv4, prototypes


@dataclass
class FinetuneConfig(FewShotConfig):
    hidden: int = 64
    pool_last: bool = True
    head: str = "cosine"  # cosine | linear (for pretraining and for the new head)
    scale: float = 10.0  # cosine logits = scale * cos(feature, class weight)
    head_steps: int = 100  # Adam steps fitting the new head on the support set
    head_lr: float = 0.01


class Classifier(nn.Module):
    """Linear, or cosine: ``scale`` times the cosine similarity to each class weight."""

    def __init__(self, dim: int, n_classes: int, kind: str = "cosine", scale: float = 10.0):
        super().__init__()
        self.kind, self.scale = kind, scale
        self.weight = nn.Parameter(torch.randn(n_classes, dim) * dim**-0.5)
        self.bias = nn.Parameter(torch.zeros(n_classes)) if kind == "linear" else None

    def forward(self, x):
        if self.kind == "cosine":
            return self.scale * F.normalize(x, dim=1) @ F.normalize(self.weight, dim=1).T
        return F.linear(x, self.weight, self.bias)


class FinetuneRecipe(FewShotRecipe):
    name = "finetune"
    Config = FinetuneConfig
    presets = {
        "quick": {"steps": 300, "batch_size": 128, "lr": 1e-3, "eval_episodes": 200},
        "full": {"steps": 6000, "batch_size": 256, "lr": 1e-3, "affine": 0.5, "pool_last": False, "eval_episodes": 600},
        "book": {"steps": 2000, "batch_size": 64, "lr": 1e-3, "head": "linear", "rotations": False},
    }

    def build(self):
        if self.cfg.head not in ("cosine", "linear"):
            raise GenlabError(f"finetune head must be 'cosine' or 'linear', got {self.cfg.head!r}")
        enc = Conv4(self.cfg.channels, self.cfg.hidden, pool_last=self.cfg.pool_last, ink_norm=self.cfg.ink_norm)
        clf = Classifier(enc.out_dim(self.cfg.image_size), self.pools[0].n_classes, self.cfg.head, self.cfg.scale)
        self.nets["encoder"], self.nets["classifier"] = enc.to(self.device), clf.to(self.device)
        self.opts["model"] = torch.optim.Adam([*enc.parameters(), *clf.parameters()], lr=self.cfg.lr)

    def train_step(self, batch, step):
        g, train = self.generator(step), self.pools[0]
        idx = torch.randint(len(train), (self.cfg.batch_size,), generator=g)
        x, y = train.x[idx], train.y[idx]
        if self.cfg.affine > 0:
            x = random_affine(x, g, self.cfg.affine)
        logits = self.nets["classifier"](self.nets["encoder"](x.to(self.device)))
        loss = F.cross_entropy(logits, y.to(self.device))
        self.optimize("model", loss)
        return {"loss": loss, "acc": (logits.argmax(1).cpu() == y).float().mean()}

    def classify(self, support_x, support_y, query_x, ways):
        with torch.no_grad():
            fs, fq = self.nets["encoder"](support_x), self.nets["encoder"](query_x)
        head = Classifier(fs.shape[1], ways, self.cfg.head, self.cfg.scale).to(self.device)
        with torch.no_grad():  # cosine: start at the class means; linear: start at zero
            head.weight.copy_(
                prototypes(fs, support_y, ways) if self.cfg.head == "cosine" else torch.zeros_like(head.weight)
            )
        opt = torch.optim.Adam(head.parameters(), lr=self.cfg.head_lr)
        with torch.enable_grad():
            for _ in range(self.cfg.head_steps):
                loss = F.cross_entropy(head(fs), support_y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            return head(fq)
