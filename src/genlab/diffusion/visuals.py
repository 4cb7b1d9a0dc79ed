"""Pictures of the two processes: x0 -> ... -> x_T on one digit, and x_T -> ... -> x0 as a strip and a GIF."""

from __future__ import annotations

import torch

from genlab.diffusion.schedules import NoiseSchedule
from genlab.utils.images import make_grid, save_gif, save_grid


def forward_process(schedule: NoiseSchedule, x0: torch.Tensor, frames: int = 11, seed: int = 0) -> torch.Tensor:
    """One image (1, C, H, W) in [0, 1] noised to ``frames`` evenly spaced t (0 .. T-1), in [0, 1]."""
    ts = torch.linspace(0, schedule.timesteps - 1, frames).round().long().to(x0.device)
    noise = torch.randn((1, *x0.shape[1:]), generator=torch.Generator().manual_seed(seed)).to(x0.device)
    xt = schedule.q_sample((x0 * 2 - 1).expand(frames, *x0.shape[1:]), ts, noise.expand(frames, *x0.shape[1:]))
    return torch.cat([x0[:1], ((xt + 1) / 2).clamp(0, 1)])


def save_forward_process(schedule: NoiseSchedule, x0: torch.Tensor, path, frames: int = 11):
    """A strip: the clean digit, then x_t for t = 0, T/10, ..., T-1."""
    strip = forward_process(schedule, x0, frames)
    return save_grid(path, strip, nrow=len(strip), scale=3)


def reverse_process(recipe, n: int = 10, seed: int = 0, **options) -> list[torch.Tensor]:
    """x_t in [0, 1] after every sampler step for n samples (labels 0..n-1 when conditional)."""
    traj: list[torch.Tensor] = []
    labels = torch.arange(n) % recipe.cfg.num_classes if recipe.cfg.conditional else None
    recipe.sample(n, torch.Generator().manual_seed(seed), label=labels, trajectory=traj, **options)
    return [((x + 1) / 2).clamp(0, 1) for x in traj]


def save_reverse_process(recipe, strip_path, gif_path, n: int = 10, frames: int = 10, **options):
    """A strip (rows: steps from noise to image, columns: samples) and a GIF of every step."""
    traj = reverse_process(recipe, n, **options)
    pick = torch.linspace(0, len(traj) - 1, min(frames, len(traj))).round().long().tolist()
    strip = save_grid(strip_path, torch.cat([traj[i] for i in pick]), nrow=n, scale=3)
    every = max(1, len(traj) // 50)  # at most ~50 frames (a 1000-step DDPM chain is subsampled)
    gif = save_gif(
        gif_path,
        [make_grid(x, nrow=n) for x in traj[::every]] + [make_grid(traj[-1], nrow=n)] * 10,
        duration_ms=80,
        scale=2,
    )
    return [strip, gif]
