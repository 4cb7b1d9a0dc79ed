"""Reconstruction metrics: MSE, PSNR, and the book's 'compression with loss under 5%'."""

from __future__ import annotations

import torch


def psnr(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for images in [0, 1]."""
    mse = (x - x_hat).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def reconstruction_metrics(x: torch.Tensor, x_hat: torch.Tensor) -> dict:
    x, x_hat = x.float(), x_hat.float()
    return {
        "recon_mse": float((x - x_hat).pow(2).mean()),
        "psnr": float(psnr(x, x_hat).mean()),
        # fraction of the held-out pixel mass lost: sum|x - x_hat| / sum|x|
        "pixel_mass_lost": float((x - x_hat).abs().sum() / x.abs().sum().clamp_min(1e-12)),
    }
