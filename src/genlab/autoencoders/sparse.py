"""Chapter 5.1: the sparse autoencoder: reconstruction loss + lambda * ||z||_1.

The L1 term (per image, averaged over the batch) pushes most code entries to zero, so each
digit is described by a few active units. ``evaluate`` reports the fraction of near-zero
codes (|z| < 0.05) on held-out digits.
"""

from __future__ import annotations

from dataclasses import dataclass

from genlab.autoencoders.ae import BOOK_MLP, AEConfig, AERecipe

NEAR_ZERO = 0.05


@dataclass
class SparseAEConfig(AEConfig):
    sparsity: float = 1e-3  # lambda, the weight of ||z||_1


class SparseAERecipe(AERecipe):
    name = "sparse-ae"
    Config = SparseAEConfig
    presets = {
        "quick": {"steps": 600, "batch_size": 128, "lr": 1e-3},
        "full": {"steps": 6000, "batch_size": 128, "lr": 1e-3},
        "book": {"steps": 3000, **BOOK_MLP},
    }

    def code_penalty(self, z):
        return self.cfg.sparsity * z.abs().sum(1).mean()

    def extra_metrics(self, x, y):
        z = self.encode(x)
        return {
            **super().extra_metrics(x, y),
            "sparsity": float((z.abs() < NEAR_ZERO).float().mean()),
            "code_l1": float(z.abs().sum(1).mean()),
        }
