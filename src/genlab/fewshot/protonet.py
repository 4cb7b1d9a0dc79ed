"""Chapter 5.6: Prototypical Networks (Snell et al. 2017).

A Conv-4 encoder embeds the images; each class prototype is the mean embedding of its support
images (built by scattering on the labels, so the support set may come in any order: the
book's version needed it sorted and left ``support_labels`` undefined); a query's logits are
minus its squared euclidean distances to the prototypes. Training on episodes with more ways
than at test time helps (the paper trains 60-way on Omniglot). With ``ensemble`` N, N encoders
from different initialisations train side by side, each on its own episodes with its own loss,
and their distances add up at test time (two encoders beat one trained twice as long). With
``test_shift`` r, every image is embedded at test time as the mean over its copies shifted by
whole pixels up to r. With ``ink_norm`` "moments" the encoder sees every image centred and zoomed
on its ink (nets.normalize_ink), which does that job better and in training too, so the full
preset does not shift (figures: bench/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genlab.errors import GenlabError
from genlab.fewshot.base import FewShotConfig, FewShotRecipe
from genlab.fewshot.nets import Conv4, Ensemble, prototypes, shifted_copies, sq_euclidean_logits


@dataclass
class ProtoNetConfig(FewShotConfig):
    hidden: int = 64
    pool_last: bool = True  # False: 3x3x64 embeddings (keeps where the strokes are)
    lr_decay_every: int = 0  # halve the learning rate every this many steps (0: never)
    ensemble: int = 1  # encoders trained side by side from different initialisations; their distances add up
    test_shift: int = 0  # at test time every image is embedded as the mean over its shifts by up to this many pixels


CACHE_IMAGES = 50_000  # test-time embeddings kept (per recipe) before the cache starts afresh
EMBED_BATCH = 1024  # images per encoder call when embedding at test time


class ProtoNetRecipe(FewShotRecipe):
    name = "protonet"
    Config = ProtoNetConfig
    presets = {
        "quick": {"steps": 300, "ways": 20, "shots": 1, "queries": 5, "lr": 1e-3, "eval_episodes": 200},
        # the default few-shot model, for Lake et al.'s official runs: trained on all eight shipped
        # alphabets (their alphabets are none of these), two encoders, 60-way episodes, half of
        # them drawn from one alphabet (the benchmark tells apart characters of one alphabet),
        # affine augmentation, a halving learning rate; 1500 steps; every image centred and zoomed on
        # its ink (moment normalisation: fewer one-shot errors than test-time shifts). On a CPU with
        # bf16 (AVX512-BF16 or AMX) the steps run under bf16 autocast, about twice as fast with the
        # one-shot error within a point of float32's; elsewhere float32 (timings: bench/README.md).
        # The fewshot bench trains it with two alphabets held out, to score it on runs built from them.
        "full": {
            "steps": 1500,
            "ensemble": 2,
            "ways": 60,
            "shots": 1,
            "queries": 5,
            "lr": 1e-3,
            "affine": 0.5,
            "hard": 0.5,
            "lr_decay_every": 500,
            "eval_episodes": 600,
            "holdout": (),
            "ink_norm": "moments",
            "amp": "auto",
        },
        "book": {"steps": 2000, "ways": 5, "shots": 1, "queries": 15, "lr": 1e-3, "rotations": False},
    }

    def build(self):
        if self.cfg.ensemble < 1:
            raise GenlabError(f"ensemble must be at least 1 (encoders), got {self.cfg.ensemble}")
        if not 0 <= self.cfg.test_shift < self.cfg.image_size // 2:
            raise GenlabError(
                f"test_shift must be between 0 and {self.cfg.image_size // 2 - 1} pixels, got {self.cfg.test_shift}"
            )
        self._cache, self._cache_version = {}, None
        members = [
            Conv4(self.cfg.channels, self.cfg.hidden, pool_last=self.cfg.pool_last, ink_norm=self.cfg.ink_norm)
            for _ in range(self.cfg.ensemble)
        ]
        enc = (members[0] if len(members) == 1 else Ensemble(members)).to(self.device)
        self.nets["encoder"] = enc
        self.opts["encoder"] = torch.optim.Adam(enc.parameters(), lr=self.cfg.lr)

    def lr_at(self, step: int) -> float:
        every = self.cfg.lr_decay_every
        return self.cfg.lr * (0.5 ** (step // every) if every else 1.0)

    @property
    def members(self) -> list[torch.nn.Module]:
        enc = self.nets["encoder"]
        return list(enc.members) if isinstance(enc, Ensemble) else [enc]

    @staticmethod
    def episode_logits(encoder, support_x, support_y, query_x, ways) -> torch.Tensor:
        emb = encoder(torch.cat([support_x, query_x]))
        return sq_euclidean_logits(emb[len(support_x) :], prototypes(emb[: len(support_x)], support_y, ways))

    def train_step(self, batch, step):
        """One episode per encoder (drawn in turn from the step's generator), one loss each."""
        g = self.generator(step)
        for group in self.opts["encoder"].param_groups:
            group["lr"] = self.lr_at(step)
        losses, accs = [], []
        for member in self.members:
            ep = self.train_episode(step, g)
            logits = self.episode_logits(member, ep.support_x, ep.support_y, ep.query_x, ep.ways)
            losses.append(F.cross_entropy(logits, ep.query_y))
            accs.append((logits.argmax(1) == ep.query_y).float().mean())
        loss = sum(losses) / len(losses)
        self.optimize("encoder", loss)
        return {"loss": loss, "acc": sum(accs) / len(accs)}

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Test-time embeddings (encoder in eval mode). With ``test_shift`` r, an image's embedding
        is the mean over its (2r + 1)^2 copies shifted by whole pixels up to r (test-time
        augmentation). Each distinct image is embedded once while the weights stay the same
        (a cache keyed by its bytes), so evaluation episodes, which reuse the held-out images
        again and again, cost a few forward passes each whatever r is."""
        enc = self.nets["encoder"]
        version = (
            self.cfg.test_shift,
            *(t._version for t in (*enc.parameters(), *enc.buffers())),
        )  # bumped by in-place updates
        if version != self._cache_version or len(self._cache) > CACHE_IMAGES:
            self._cache, self._cache_version = {}, version
        keys = [row.tobytes() for row in x.detach().cpu().numpy()]
        missing = list({k: i for i, k in enumerate(keys) if k not in self._cache}.values())  # one index per new image
        copies = (2 * self.cfg.test_shift + 1) ** 2
        chunk = max(1, EMBED_BATCH // copies)
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            emb = enc(shifted_copies(x[part], self.cfg.test_shift)).view(copies, len(part), -1).mean(0)
            self._cache.update(zip((keys[i] for i in part), emb))
        return torch.stack([self._cache[k] for k in keys])

    @torch.no_grad()
    def classify(self, support_x, support_y, query_x, ways):
        enc = self.nets["encoder"]
        return self.episode_logits(enc if enc.training else self.embed, support_x, support_y, query_x, ways)
