"""Differentiable augmentation for GAN training (DiffAugment, Zhao et al. 2020).

With only a few thousand training images the discriminator soon memorises them and its verdicts
stop teaching the generator anything. DiffAugment shows the discriminator every image, real
*and* generated, through the same random, differentiable transformations, in both the
discriminator's and the generator's step; the generator's gradient flows through the
transformation, so it learns to draw un-augmented digits while the discriminator cannot
memorise pixels.

Policies (separated by commas or ``+`` in ``GANConfig.augment``):

- ``translation``: shift each image by up to ``ratio`` of its side (1/8: +-3 px at 28x28),
  filling with the background;
- ``cutout``: blank one square of ``ratio`` of the side at a random place to the background.

Images are in [-1, 1] here; the background of a digit is -1, so the filling is -1, not 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.errors import GenlabError

BACKGROUND = -1.0
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.25


def translation(x: torch.Tensor, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift every image by its own random (dx, dy) in [-s, s] pixels, s = ratio * side."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    gy = (torch.arange(h, device=x.device)[None, :, None] + dy).clamp(-1, h) + 1  # 0 and h+1: the padded border
    gx = (torch.arange(w, device=x.device)[None, None, :] + dx).clamp(-1, w) + 1
    padded = F.pad(x, [1, 1, 1, 1], value=BACKGROUND).permute(0, 2, 3, 1)  # (b, h+2, w+2, c)
    return padded[torch.arange(b, device=x.device)[:, None, None], gy, gx].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Set one random square of side ratio * side per image to the background."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device) - ch // 2  # the square's top-left corner
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device) - cw // 2
    ys, xs = torch.arange(h, device=x.device)[None, :, None], torch.arange(w, device=x.device)[None, None, :]
    hole = ((ys >= oy) & (ys < oy + ch) & (xs >= ox) & (xs < ox + cw))[:, None]
    return x.masked_fill(hole, BACKGROUND)


POLICIES = {"translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> list:
    """'translation,cutout' (or 'translation+cutout') -> the transformations, in order ('' or 'none': no augmentation)."""
    names = [p.strip() for p in policy.replace("+", ",").split(",") if p.strip() and p.strip() != "none"]
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise GenlabError(f"unknown augmentation '{unknown[0]}'; choose from: {', '.join(POLICIES)} (comma-separated)")
    return [POLICIES[n] for n in names]


def diff_augment(x: torch.Tensor, transforms: list) -> torch.Tensor:
    for t in transforms:
        x = t(x)
    return x
