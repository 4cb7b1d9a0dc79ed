"""The thin / bold digit domains of the CycleGAN, split by stroke thickness.

The thickness is :func:`genlab.utils.ink.stroke_thickness` (ink mass over half the perimeter),
the same measure the captions' "thin" and "bold" use.
"""

from __future__ import annotations

import torch

from genlab.utils.ink import stroke_thickness


def thin_bold_split(images, fraction: float = 1 / 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Unpaired thin / bold domains: split the images into two random halves, then take the
    thinnest ``fraction`` of the first half (domain A) and the boldest ``fraction`` of the second
    (domain B). Returns the two index tensors; no image is in both, so there are no pairs."""
    n = len(images)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    first, second = perm[: n // 2], perm[n // 2 :]
    t = stroke_thickness(images)
    thin = first[t[first].argsort()[: max(1, int(len(first) * fraction))]]
    bold = second[t[second].argsort(descending=True)[: max(1, int(len(second) * fraction))]]
    return thin, bold
