"""Reconstruction metrics: MSE, PSNR, SSIM, the book's 'compression with loss under 5%', and
the evaluator's accuracy on reconstructions (does the digit survive the round trip?)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03


def psnr(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for images in [0, 1]."""
    mse = (x - x_hat).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def _gaussian_window(size: int, sigma: float, channels: int) -> torch.Tensor:
    t = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-t.pow(2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(x: torch.Tensor, x_hat: torch.Tensor, window: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """Per-image SSIM (Wang et al. 2004) for (N, C, H, W) images in [0, 1].

    Gaussian window 11x11, sigma 1.5, C1 = (0.01)^2, C2 = (0.03)^2 (data range 1), 'valid'
    windows only, averaged over positions and channels; equal (to 1e-6) to scikit-image's
    structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=1). The window shrinks for images smaller than 11 pixels.
    """
    x, x_hat = x.float(), x_hat.float()
    c = x.shape[1]
    size = min(window, x.shape[-1], x.shape[-2])
    w = _gaussian_window(size, sigma, c).to(x.device)

    def blur(t):
        return F.conv2d(t, w, groups=c)

    mu_x, mu_y = blur(x), blur(x_hat)
    var_x = blur(x * x) - mu_x.pow(2)
    var_y = blur(x_hat * x_hat) - mu_y.pow(2)
    cov = blur(x * x_hat) - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x.pow(2) + mu_y.pow(2) + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)


def reconstruction_metrics(x: torch.Tensor, x_hat: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
    """recon_mse, psnr (dB), ssim, pixel_mass_lost; with the true digit ``labels`` also
    recon_acc: the evaluator's accuracy on the reconstructions (its accuracy on the originals
    is about 0.98, see genlab.metrics.evaluator)."""
    x, x_hat = x.detach().float(), x_hat.detach().float()
    out = {
        "recon_mse": float((x - x_hat).pow(2).mean()),
        "psnr": float(psnr(x, x_hat).mean()),
        "ssim": float(ssim(x, x_hat).mean()),
        # fraction of the held-out pixel mass lost: sum|x - x_hat| / sum|x|
        "pixel_mass_lost": float((x - x_hat).abs().sum() / x.abs().sum().clamp_min(1e-12)),
    }
    if labels is not None:
        from genlab.metrics.evaluator import get_evaluator

        pred = get_evaluator().predict(x_hat)
        out["recon_acc"] = float((pred == labels.cpu().long()).float().mean())
    return out
