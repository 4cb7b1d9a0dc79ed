"""Conditional VAE: the one-hot digit label is concatenated to the encoder input and to z.

``genlab sample RUN --label K`` decodes prior codes with label K; without ``--label`` the
samples cycle through the classes 0, 1, 2, ...
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genlab.autoencoders.vae import BOOK_VAE, VAEConfig, VAERecipe
from genlab.errors import GenlabError
from genlab.train.recipe import LABEL, TEMPERATURE

N_CLASSES = 10


@dataclass
class CVAEConfig(VAEConfig):
    latent_dim: int = 4  # the label carries the digit, z only the style; a small z keeps it so


class CVAERecipe(VAERecipe):
    name = "cvae"
    Config = CVAEConfig
    conditional = True
    options = (LABEL, TEMPERATURE)
    presets = {
        "quick": {"steps": 800, "batch_size": 128, "lr": 1e-3},
        "full": {"steps": 8000, "batch_size": 128, "lr": 1e-3},
        "book": {"steps": 3000, **BOOK_VAE},
    }

    def condition(self, y):
        """One-hot labels (N, 10); a float (N, 10) tensor is taken as a (soft) condition as is."""
        if y is None:
            raise GenlabError("the conditional VAE needs labels: pass --label K (0-9)")
        y = torch.as_tensor(y, device=self.device)
        if y.is_floating_point():
            return y
        if y.numel() and (y.min() < 0 or y.max() >= N_CLASSES):
            raise GenlabError(
                f"--label must be between 0 and {N_CLASSES - 1}, got {int(y.min() if y.min() < 0 else y.max())}"
            )
        return F.one_hot(y, N_CLASSES).float()

    def sample(self, n, generator=None, temperature: float = 1.0, label=None):
        labels = torch.arange(n) % N_CLASSES if label is None else torch.as_tensor(label)
        if labels.ndim == 0:
            labels = labels.expand(n)
        return self.decode(self.prior(n, generator, temperature), labels)

    def extra_figures(self, store, x, y):
        from genlab.utils.images import save_grid

        g = torch.Generator().manual_seed(self.cfg.seed)
        grid = self.sample(100, generator=g, label=torch.arange(100) // 10)  # row K: digit K
        return [*super().extra_figures(store, x, y), save_grid(store.plots_dir / "samples_by_label.png", grid, nrow=10)]
