"""Losses of the autoencoder family: reconstruction, KL, the ELBO (the IWAE bound is in
genlab.metrics.likelihood).

Everything a VAE reports is in nats per image: per-image sums over pixels (Bernoulli
likelihood, i.e. binary cross-entropy) and over latent dimensions, averaged over the batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def reconstruction_loss(x_hat, x, kind: str = "mse"):
    """Mean per-pixel reconstruction error of the plain autoencoders (mse | bce)."""
    if kind == "bce":
        return F.binary_cross_entropy(x_hat, x)
    return F.mse_loss(x_hat, x)


def bernoulli_nll(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) per image: binary cross-entropy summed over pixels, shape (B,)."""
    return F.binary_cross_entropy(x_hat, x, reduction="none").flatten(1).sum(1)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per image and dimension: -1/2 (1 + logvar - mu^2 - e^logvar)."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def elbo_loss(x_hat, x, mu, logvar, beta: float = 1.0) -> dict:
    """The (beta-)VAE loss BCE(sum) + beta * KL, as a batch mean of per-image sums.

    Returns ``loss`` (to minimise) and its parts ``recon`` and ``kl``; with beta = 1,
    -loss is the evidence lower bound in nats per image.
    """
    recon = bernoulli_nll(x_hat, x).mean()
    kl = kl_per_dim(mu, logvar).sum(1).mean()
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)
