"""What every autoencoder recipe shares: the config fields, encode/decode/reconstruct,
held-out evaluation and the end-of-training figures.

A family member implements ``build``, ``train_step``, ``encode(x, y)`` (deterministic codes),
``decode(z, y)`` and ``sample``; it adds its own numbers in ``extra_metrics`` and its own
pictures in ``extra_figures``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genlab.config import TrainConfig
from genlab.data.datasets import MNIST_CLASSES
from genlab.train.recipe import Recipe


@dataclass
class AutoencoderConfig(TrainConfig):
    arch: str = "conv"  # conv | mlp (the book's)
    latent_dim: int = 32
    hidden: tuple[int, ...] = (512, 256)  # MLP layer sizes (encoder; the decoder mirrors them)
    width: int = 16  # channels of the first conv stage (doubled at each stage)
    eval_samples: int = 1000  # samples scored by sample_quality in evaluate (0: skip)


def add_noise(x: torch.Tensor, factor: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The book's corruption: x + factor * N(0, 1), clamped to [0, 1]."""
    eps = torch.randn(x.shape, generator=generator, device=generator.device if generator is not None else x.device).to(
        x
    )
    return (x + factor * eps).clamp(0, 1)


class AutoencoderRecipe(Recipe):
    family = "autoencoder"
    #: the label of each image conditions encoder and decoder (cvae)
    conditional = False

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.cfg.channels, self.cfg.image_size, self.cfg.image_size)

    # -- what a member implements ------------------------------------------------------
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Deterministic latent codes (N, latent_dim) of images x."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] from codes z."""
        raise NotImplementedError

    @property
    def sampler_net(self) -> torch.nn.Module:
        """The autoencoder that encodes, decodes and samples (the VAE's EMA copy where it keeps one)."""
        return self.nets["model"]

    def extra_metrics(self, x: torch.Tensor, y: torch.Tensor) -> dict:
        return {}

    def extra_figures(self, store, x: torch.Tensor, y: torch.Tensor) -> list:
        return []

    # -- shared ----------------------------------------------------------------------
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = x.to(self.device)
        return self.decode(self.encode(x, y), y)

    def uses_digits(self, data) -> bool:
        """Evaluator-based numbers only make sense on MNIST digits."""
        return list(data.classes) == MNIST_CLASSES

    @torch.no_grad()
    def evaluate(self, data) -> dict:
        from genlab.metrics.reconstruction import reconstruction_metrics

        x, y = data.x_test.to(self.device), data.y_test.to(self.device)
        digits = self.uses_digits(data)
        out = {
            "model": self.name,
            **reconstruction_metrics(x, self.reconstruct(x, y), y if digits else None),
            "compression_ratio": float(x[0].numel() / self.cfg.latent_dim),
        }
        if digits and self.cfg.eval_samples:
            out.update(self.sample_metrics(self.cfg.eval_samples))
        out.update(self.extra_metrics(x, y))
        return out

    def sample_metrics(self, n: int, **options) -> dict:
        """FID (with its floor), precision, recall, coverage (and label accuracy for cvae) of ``n`` samples
        (``options`` go to ``sample``)."""
        from genlab.metrics.quality import sample_quality

        g = torch.Generator().manual_seed(self.cfg.seed + 1)
        labels = torch.arange(n) % 10 if self.conditional else None
        opts = {"label": labels, **options} if self.conditional else options
        q = sample_quality(self.sample(n, generator=g, **opts).cpu(), labels=labels)
        keys = ("fid", "fid_floor", "precision", "recall", "coverage", "label_acc")
        return {k: float(q[k]) for k in keys if k in q}

    def figures(self, store) -> list:
        from genlab.autoencoders import explore

        data = self.load_data()
        x, y = (t.to(self.device) for t in data.heldout(16))
        d = store.plots_dir
        paths = [
            explore.reconstruction_grid(self, x, d / "reconstructions.png", y),
            explore.latent_map(self, data, d / "latent_pca.png", projection="pca"),
            *explore.interpolation(self, data, d / "interpolation.png"),
        ]
        return paths + self.extra_figures(store, x, y)
