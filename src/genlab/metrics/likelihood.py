"""Likelihood bounds for VAEs: the ELBO is the k = 1 case of the importance-weighted bound.

For k samples z_i ~ q(z|x), log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x), and
log p(x) >= log (1/k) sum_i w_i (Burda et al. 2016), tighter as k grows. A VAE computes the
log-weights and calls :func:`iwae_nll`.
"""

from __future__ import annotations

import math

import torch


def log_mean_exp(t: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log(mean(exp(t))) along ``dim``, computed stably."""
    return torch.logsumexp(t, dim=dim) - math.log(t.shape[dim])


def iwae_nll(log_weights: torch.Tensor) -> torch.Tensor:
    """Per-example importance-weighted NLL bound (nats) from log-weights of shape (k, N).

    With k = 1 this is the negative ELBO; it decreases towards -log p(x) as k grows.
    """
    if log_weights.ndim != 2:
        raise ValueError(f"log_weights must have shape (k, N), got {tuple(log_weights.shape)}")
    return -log_mean_exp(log_weights.double(), dim=0)
