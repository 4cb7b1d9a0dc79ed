"""Chapter 5.1: the denoising autoencoder.

The encoder sees the image corrupted by the book's Gaussian noise (factor 0.3, clamped to
[0, 1]); the loss compares the reconstruction with the clean image.
"""

from __future__ import annotations

from dataclasses import dataclass

from genlab.autoencoders.ae import BOOK_MLP, AEConfig, AERecipe
from genlab.autoencoders.base import add_noise


@dataclass
class DAEConfig(AEConfig):
    noise: float = 0.3  # std of the Gaussian noise added to training inputs


class DAERecipe(AERecipe):
    name = "dae"
    Config = DAEConfig
    presets = {
        "quick": {"steps": 600, "batch_size": 128, "lr": 1e-3},
        "full": {"steps": 6000, "batch_size": 128, "lr": 1e-3},
        "book": {"steps": 3000, "noise": 0.3, **BOOK_MLP},
    }

    def corrupt(self, x):
        return add_noise(x, self.cfg.noise)

    def extra_figures(self, store, x, y):
        from genlab.autoencoders.explore import denoise

        return [denoise(self, x, store.plots_dir / "denoise.png", noise=self.cfg.noise)]
