"""Chapter 5.6: Prototypical Networks (Snell et al. 2017).

A Conv-4 encoder embeds the images; each class prototype is the mean embedding of its support
images (built by scattering on the labels, so the support set may come in any order: the
book's version needed it sorted and left ``support_labels`` undefined); a query's logits are
minus its squared euclidean distances to the prototypes. Training on episodes with more ways
than at test time helps (the paper trains 60-way on Omniglot).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genlab.fewshot.base import FewShotConfig, FewShotRecipe
from genlab.fewshot.nets import Conv4, prototypes, sq_euclidean_logits


@dataclass
class ProtoNetConfig(FewShotConfig):
    hidden: int = 64
    pool_last: bool = True  # False: 3x3x64 embeddings (keeps where the strokes are)
    lr_decay_every: int = 0  # halve the learning rate every this many steps (0: never)


class ProtoNetRecipe(FewShotRecipe):
    name = "protonet"
    Config = ProtoNetConfig
    presets = {
        "quick": {"steps": 300, "ways": 20, "shots": 1, "queries": 5, "lr": 1e-3, "eval_episodes": 200},
        # the default few-shot model, for Lake et al.'s official runs: trained on all eight shipped
        # alphabets (their alphabets are none of these), 60-way episodes, half of them drawn from
        # one alphabet (the benchmark tells apart characters of one alphabet), affine
        # augmentation, a halving learning rate; 3000 steps, 27 minutes on 2 cores. The fewshot
        # bench trains it with the two alphabets held out, to score it on runs built from them.
        "full": {"steps": 3000, "ways": 60, "shots": 1, "queries": 5, "lr": 1e-3, "affine": 0.5, "hard": 0.5,
                 "lr_decay_every": 1000, "eval_episodes": 600, "holdout": ()},
        "book": {"steps": 2000, "ways": 5, "shots": 1, "queries": 15, "lr": 1e-3, "rotations": False},
    }

    def build(self):
        enc = Conv4(self.cfg.channels, self.cfg.hidden, pool_last=self.cfg.pool_last).to(self.device)
        self.nets["encoder"] = enc
        self.opts["encoder"] = torch.optim.Adam(enc.parameters(), lr=self.cfg.lr)

    def lr_at(self, step: int) -> float:
        every = self.cfg.lr_decay_every
        return self.cfg.lr * (0.5 ** (step // every) if every else 1.0)

    def logits(self, support_x, support_y, query_x, ways):
        enc = self.nets["encoder"]
        emb = enc(torch.cat([support_x, query_x]))
        protos = prototypes(emb[: len(support_x)], support_y, ways)
        return sq_euclidean_logits(emb[len(support_x):], protos)

    def train_step(self, batch, step):
        ep = self.train_episode(step)
        for group in self.opts["encoder"].param_groups:
            group["lr"] = self.lr_at(step)
        logits = self.logits(ep.support_x, ep.support_y, ep.query_x, ep.ways)
        loss = F.cross_entropy(logits, ep.query_y)
        self.optimize("encoder", loss)
        return {"loss": loss, "acc": (logits.argmax(1) == ep.query_y).float().mean()}

    @torch.no_grad()
    def classify(self, support_x, support_y, query_x, ways):
        enc = self.nets["encoder"]
        protos = prototypes(enc(support_x), support_y, ways)
        return sq_euclidean_logits(enc(query_x), protos)
