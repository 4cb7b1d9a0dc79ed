"""Noise schedules and the forward process q(x_t | x_0) (chapter 5.4).

A :class:`NoiseSchedule` holds beta_t, alpha_t = 1 - beta_t and alphabar_t = prod alpha_s for
t = 0..T-1, adds noise in closed form (``q_sample``) and converts between the three things a
network may predict: the noise eps, the clean image x0 and the velocity
v = sqrt(alphabar) eps - sqrt(1 - alphabar) x0 (Salimans & Ho, 2022).
"""

from __future__ import annotations

import math

import torch

from genlab.errors import GenlabError

SCHEDULES = ("linear", "cosine")


def linear_betas(timesteps: int = 1000, start: float = 1e-4, end: float = 0.02) -> torch.Tensor:
    """The book's (and Ho et al.'s) schedule: betas evenly spaced from 1e-4 to 0.02 over T=1000."""
    scale = 1000 / timesteps  # keeps the total amount of noise when T differs from 1000
    return torch.linspace(start * scale, end * scale, timesteps, dtype=torch.float64)


def cosine_betas(timesteps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Nichol & Dhariwal (2021): alphabar(t) = cos^2(((t/T + s) / (1 + s)) * pi/2)."""
    f = torch.cos((torch.arange(timesteps + 1, dtype=torch.float64) / timesteps + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)


def _per_sample(a: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """a[t] reshaped to (B, 1, 1, 1) (as many ones as ``like`` has trailing dims) to scale images."""
    return a[t].to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


class NoiseSchedule:
    """beta_t, alpha_t and alphabar_t for t = 0..T-1, with the forward process and conversions."""

    def __init__(self, betas: torch.Tensor):
        betas = betas.to(torch.float64)
        if betas.dim() != 1 or not ((betas > 0) & (betas < 1)).all():
            raise GenlabError("noise schedule betas must be a 1-D tensor of values in (0, 1)")
        self.timesteps = len(betas)
        alphas = 1 - betas
        alphas_cumprod = torch.cumprod(alphas, 0)
        self.betas = betas.float()
        self.alphas = alphas.float()
        self.alphas_cumprod = alphas_cumprod.float()
        self.sqrt_ab = alphas_cumprod.sqrt().float()
        self.sqrt_1m_ab = (1 - alphas_cumprod).sqrt().float()

    @classmethod
    def make(cls, name: str = "linear", timesteps: int = 1000) -> NoiseSchedule:
        if timesteps < 2:
            raise GenlabError(f"timesteps must be at least 2, got {timesteps}")
        if name == "linear":
            return cls(linear_betas(timesteps))
        if name == "cosine":
            return cls(cosine_betas(timesteps))
        raise GenlabError(f"unknown noise schedule '{name}'; choose one of: {', '.join(SCHEDULES)}")

    def to(self, device) -> NoiseSchedule:
        for k in ("betas", "alphas", "alphas_cumprod", "sqrt_ab", "sqrt_1m_ab"):
            setattr(self, k, getattr(self, k).to(device))
        return self

    # -- the forward process ------------------------------------------------------------
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alphabar_t) x0 + sqrt(1 - alphabar_t) eps, alphabar_t broadcast per sample."""
        return _per_sample(self.sqrt_ab, t, x0) * x0 + _per_sample(self.sqrt_1m_ab, t, x0) * noise

    def snr(self, t: torch.Tensor) -> torch.Tensor:
        """Signal-to-noise ratio alphabar_t / (1 - alphabar_t)."""
        ab = self.alphas_cumprod[t]
        return ab / (1 - ab)

    # -- conversions between eps, x0 and v (all at the same x_t and t) -----------------------
    def x0_from_eps(self, xt, t, eps):
        return (xt - _per_sample(self.sqrt_1m_ab, t, xt) * eps) / _per_sample(self.sqrt_ab, t, xt)

    def eps_from_x0(self, xt, t, x0):
        return (xt - _per_sample(self.sqrt_ab, t, xt) * x0) / _per_sample(self.sqrt_1m_ab, t, xt)

    def v_from(self, x0, t, eps):
        """The v-prediction target v = sqrt(alphabar) eps - sqrt(1 - alphabar) x0."""
        return _per_sample(self.sqrt_ab, t, x0) * eps - _per_sample(self.sqrt_1m_ab, t, x0) * x0

    def x0_from_v(self, xt, t, v):
        return _per_sample(self.sqrt_ab, t, xt) * xt - _per_sample(self.sqrt_1m_ab, t, xt) * v

    def eps_from_v(self, xt, t, v):
        return _per_sample(self.sqrt_1m_ab, t, xt) * xt + _per_sample(self.sqrt_ab, t, xt) * v
