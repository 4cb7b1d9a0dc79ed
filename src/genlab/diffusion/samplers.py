"""Reverse-process samplers: the book's ancestral DDPM, DDIM and DPM-Solver++(2M), all with
classifier-free guidance.

Samplers work in model space ([-1, 1] images) and know nothing about the network: they call a
:class:`Denoiser`, which turns the network's output (eps or v) into (eps, x0) and applies
guidance eps = eps_uncond + w * (eps_cond - eps_uncond). All randomness comes from the
``generator`` passed in (a CPU ``torch.Generator``), so the same seed gives the same images.
The fast path (a batch split across threads, bf16 weights) is :class:`genlab.diffusion.fast.FastDenoiser`,
the same interface and the same images.
"""

from __future__ import annotations

import math

import torch

from genlab.diffusion.schedules import NoiseSchedule
from genlab.errors import GenlabError

SAMPLERS = ("ddpm", "ddim", "dpm++2m")
DEFAULT_STEPS = {"ddim": 50, "dpm++2m": 15}  # ddpm: all T steps
PREDICTIONS = ("eps", "v")


class Denoiser:
    """Wraps a network f(x_t, t, labels) predicting ``prediction`` ('eps' or 'v') into (eps, x0).

    With ``labels`` and ``guidance`` != 1 the conditional and null-class outputs are computed in
    one batch and mixed: out = out_uncond + w * (out_cond - out_uncond) (linear in eps and in v).
    """

    def __init__(
        self,
        model,
        schedule: NoiseSchedule,
        prediction: str = "eps",
        labels: torch.Tensor | None = None,
        guidance: float = 1.0,
        clip: bool = True,
    ):
        if prediction not in PREDICTIONS:
            raise GenlabError(f"unknown prediction '{prediction}'; choose one of: {', '.join(PREDICTIONS)}")
        self.model, self.schedule, self.prediction = model, schedule, prediction
        self.labels, self.guidance, self.clip = labels, guidance, clip
        self.evaluations = 0  # network evaluations per sample, for the speed comparison

    def network(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """One network call: the model itself (:class:`genlab.diffusion.fast.FastDenoiser` overrides it)."""
        return self.model(x, t, labels)

    def output(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.evaluations += 1
        if self.labels is None or self.guidance == 1.0:
            return self.network(x, t, self.labels)
        null = self.model.null_labels(len(x), x.device)
        cond, uncond = self.network(torch.cat([x, x]), torch.cat([t, t]), torch.cat([self.labels, null])).chunk(2)
        return uncond + self.guidance * (cond - uncond)

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(eps, x0) predicted at x_t; x0 clipped to [-1, 1] (and eps made consistent) when ``clip``."""
        out, s = self.output(x, t), self.schedule
        if self.prediction == "eps":
            eps, x0 = out, s.x0_from_eps(x, t, out)
        else:
            eps, x0 = s.eps_from_v(x, t, out), s.x0_from_v(x, t, out)
        if self.clip:
            x0 = x0.clamp(-1, 1)
            eps = s.eps_from_x0(x, t, x0)
        return eps, x0


def timesteps_for(schedule: NoiseSchedule, steps: int | None) -> list[int]:
    """``steps`` timesteps from T-1 down to 0, evenly spaced (all T of them by default)."""
    T = schedule.timesteps
    steps = T if steps is None else steps
    if not 1 <= steps <= T:
        raise GenlabError(f"--steps must be between 1 and {T}, got {steps}")
    return torch.linspace(T - 1, 0, steps).round().long().tolist()


def timesteps_logsnr(schedule: NoiseSchedule, steps: int) -> list[int]:
    """``steps`` timesteps from T-1 down to 0, evenly spaced in log-SNR (lambda_t = log(alpha_t / sigma_t)),
    each rounded to the nearest trained timestep (equal steps h for a solver in lambda); where
    several round to one timestep near t = 0, the next ones up are taken."""
    T = schedule.timesteps
    if not 2 <= steps <= T:
        raise GenlabError(f"--steps must be between 2 and {T} for this sampler, got {steps}")
    ab = schedule.alphas_cumprod.double().cpu()
    lam = 0.5 * (ab / (1 - ab)).log()  # decreasing in t
    targets = torch.linspace(float(lam[-1]), float(lam[0]), steps, dtype=torch.float64)
    ts = torch.searchsorted(-lam, -targets).clamp(1, T - 1)  # the first t with lambda_t <= target
    ts = torch.where((lam[ts - 1] - targets).abs() < (lam[ts] - targets).abs(), ts - 1, ts).tolist()
    ts = [min(t, T - 1 - i) for i, t in enumerate(ts)]  # room for the steps above
    ts[-1] = 0
    for i in range(steps - 2, -1, -1):  # near t = 0 the trained steps are sparse in lambda: keep them distinct
        ts[i] = max(ts[i], ts[i + 1] + 1)
    return ts


def _noise(shape, generator, device) -> torch.Tensor:
    return torch.randn(shape, generator=generator).to(device)


def _reverse(denoiser: Denoiser, shape, generator, steps, device, trajectory, update, ts=None) -> torch.Tensor:
    """The loop both samplers share: start from noise, call the denoiser once per timestep (T-1 .. 0)
    and let ``update(x, eps, x0, abar_t, abar_prev, last)`` take one step; abar_prev = 1 after t = 0.

    Runs under ``torch.inference_mode``; the per-step coefficients are Python floats, so a step
    costs one network call and a few elementwise ops. Returns an ordinary (non-inference) tensor.
    """
    ab = denoiser.schedule.alphas_cumprod.double().tolist()
    ts = timesteps_for(denoiser.schedule, steps) if ts is None else ts
    with torch.inference_mode():
        x = _noise(shape, generator, device)
        t_batch = torch.empty(shape[0], dtype=torch.long, device=device)
        for i, t in enumerate(ts):
            last = i + 1 == len(ts)
            eps, x0 = denoiser(x, t_batch.fill_(t))
            x = update(x, eps, x0, ab[t], 1.0 if last else ab[ts[i + 1]], last)
            if trajectory is not None:
                trajectory.append(x.cpu())
    return x.clone()


def ddpm_sample(
    denoiser: Denoiser, shape, generator=None, steps: int | None = None, device="cpu", trajectory: list | None = None
):
    """The book's ancestral sampler: x_{t-1} = 1/sqrt(a_t) (x_t - b_t/sqrt(1-abar_t) eps) + sqrt(b_t) z.

    Written as the posterior mean given x0_hat, which equals the book's formula when x0 is not
    clipped. With ``steps`` < T the chain is respaced: b_t = 1 - abar_t / abar_prev.
    """

    def update(x, eps, x0, ab_t, ab_prev, last):
        beta = 1 - ab_t / ab_prev
        x = (math.sqrt(ab_prev) * beta / (1 - ab_t)) * x0 + (math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab_t)) * x
        return x if last else x + math.sqrt(beta) * _noise(shape, generator, device)

    return _reverse(denoiser, shape, generator, steps, device, trajectory, update)


def ddim_sample(
    denoiser: Denoiser,
    shape,
    generator=None,
    steps: int = 50,
    eta: float = 0.0,
    device="cpu",
    trajectory: list | None = None,
):
    """DDIM (Song et al., 2021) on ``steps`` timesteps; eta=0 deterministic, eta=1 ~ DDPM noise.

    x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps + sigma z,
    sigma = eta sqrt((1 - abar_prev)/(1 - abar_t) (1 - abar_t/abar_prev)).
    """
    if eta < 0:
        raise GenlabError(f"--eta must be >= 0, got {eta}")

    def update(x, eps, x0, ab_t, ab_prev, last):
        sigma = eta * math.sqrt((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev))
        x = math.sqrt(ab_prev) * x0 + math.sqrt(max(1 - ab_prev - sigma**2, 0.0)) * eps
        return x + sigma * _noise(shape, generator, device) if eta > 0 and not last else x

    return _reverse(denoiser, shape, generator, steps, device, trajectory, update)


def dpmpp_2m_sample(
    denoiser: Denoiser,
    shape,
    generator=None,
    steps: int = 20,
    eta: float = 0.0,
    device="cpu",
    trajectory: list | None = None,
):
    """DPM-Solver++(2M) (Lu et al., 2022): a second-order multistep solver of the diffusion ODE in
    the data prediction x0, with one network call per step; eta > 0 gives its SDE variant
    (eta = 1: SDE-DPM-Solver++(2M), which adds fresh noise at every step as DDPM and DDIM eta=1 do).

    In log-SNR time lambda_t = log(alpha_t / sigma_t) (alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t)),
    with h = lambda_next - lambda_t, one step is

        x_next = sigma_next / sigma_t * exp(-eta h) x + alpha_next (1 - exp(-(1 + eta) h)) D
                 + sigma_next sqrt(1 - exp(-2 eta h)) z,

    D = x0 on the first step (first order: DDIM) and D = x0 + (x0 - x0_prev) / (2 r), r = h_prev / h,
    after it (the multistep second-order correction). The timesteps are evenly spaced in lambda
    (:func:`timesteps_logsnr`), so r stays near 1; the last call, at t = 0, returns its x0.
    """
    if eta < 0:
        raise GenlabError(f"--eta must be >= 0, got {eta}")
    prev: dict = {}  # the previous step's x0 and h

    def update(x, eps, x0, ab_t, ab_prev, last):
        if last:
            return x0
        lam_t, lam_next = 0.5 * math.log(ab_t / (1 - ab_t)), 0.5 * math.log(ab_prev / (1 - ab_prev))
        h = lam_next - lam_t
        d = x0 if not prev else x0 + (x0 - prev["x0"]) * (h / (2 * prev["h"]))
        prev.update(x0=x0, h=h)
        sigma_ratio = math.sqrt((1 - ab_prev) / (1 - ab_t))
        x = (sigma_ratio * math.exp(-eta * h)) * x + (math.sqrt(ab_prev) * -math.expm1(-(1 + eta) * h)) * d
        if eta > 0:
            x = x + math.sqrt(1 - ab_prev) * math.sqrt(-math.expm1(-2 * eta * h)) * _noise(shape, generator, device)
        return x

    return _reverse(
        denoiser, shape, generator, steps, device, trajectory, update, timesteps_logsnr(denoiser.schedule, steps)
    )


def sample(
    denoiser: Denoiser,
    shape,
    generator=None,
    sampler: str = "ddim",
    steps: int | None = None,
    eta: float = 0.0,
    device="cpu",
    trajectory: list | None = None,
) -> torch.Tensor:
    """Dispatch by name; ``steps`` None means T for ddpm and ``DEFAULT_STEPS`` for the others."""
    if sampler == "ddpm":
        return ddpm_sample(denoiser, shape, generator, steps, device, trajectory)
    steps = DEFAULT_STEPS.get(sampler) if steps is None else steps
    if sampler == "ddim":
        return ddim_sample(denoiser, shape, generator, steps, eta, device, trajectory)
    if sampler == "dpm++2m":
        return dpmpp_2m_sample(denoiser, shape, generator, steps, eta, device, trajectory)
    raise GenlabError(f"unknown sampler '{sampler}'; choose one of: {', '.join(SAMPLERS)}")
