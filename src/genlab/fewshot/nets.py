"""The Conv-4 encoder shared by ProtoNet, MAML and the fine-tuning baseline, and the ProtoNet head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genlab.errors import GenlabError


def conv_block(cin: int, cout: int, pool: bool = True, track_bn: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout, track_running_stats=track_bn), nn.ReLU()]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


INK_NORMS = ("none", "center", "moments")
INK_RADIUS = 0.45  # RMS radius of the ink after "moments", in half-widths: the median on the shipped Omniglot sets


def normalize_ink(x: torch.Tensor, mode: str) -> torch.Tensor:
    """Each image (ink bright on dark) resampled so that its ink's centroid is at the centre
    ("center"), and also zoomed so that the ink's RMS radius is ``INK_RADIUS`` ("moments": the
    moment normalisation of handwriting recognition, zoom limited to 0.6-1.6); "none": unchanged.
    Different drawers put a character at different places and sizes; the encoder then need not
    learn that invariance from a few hundred classes."""
    if mode == "none":
        return x
    b, c, h, w = x.shape
    xf = x.float()
    mass = xf.sum((1, 2, 3)).clamp_min(1e-6)[:, None]
    u, v = torch.linspace(-1, 1, w, device=x.device), torch.linspace(-1, 1, h, device=x.device)
    px, py = xf.sum((1, 2)) / mass, xf.sum((1, 3)) / mass  # the ink's distribution along x and y
    cx, cy = px @ u, py @ v
    zoom = torch.ones_like(cx)
    if mode == "moments":
        var = (px @ u.square() - cx.square() + py @ v.square() - cy.square()).clamp_min(0)
        zoom = (var.sqrt() / INK_RADIUS).clamp(0.6, 1.6)
    theta = torch.zeros(b, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 2], theta[:, 1, 2] = zoom, zoom, cx, cy
    grid = F.affine_grid(theta, [b, c, h, w], align_corners=True)
    return F.grid_sample(xf, grid, align_corners=True).to(x.dtype)


class Conv4(nn.Module):
    """4 x (conv3x3-BN-ReLU-maxpool2), ``hidden`` channels, flattened output.

    ``track_bn=False`` keeps no running statistics: batch norm always normalises with the
    statistics of the batch it sees (as in the MAML paper). ``pool_last=False`` drops the last
    pooling, so a 28x28 input gives a 3x3x64 = 576-dimensional embedding instead of 64.
    ``ink_norm``: the inputs first go through :func:`normalize_ink`.
    """

    def __init__(
        self,
        in_channels: int = 1,
        hidden: int = 64,
        track_bn: bool = True,
        pool_last: bool = True,
        ink_norm: str = "none",
    ):
        super().__init__()
        if ink_norm not in INK_NORMS:
            raise GenlabError(f"ink_norm must be one of {', '.join(INK_NORMS)}, got '{ink_norm}'")
        self.ink_norm = ink_norm
        self.blocks = nn.Sequential(
            conv_block(in_channels, hidden, track_bn=track_bn),
            conv_block(hidden, hidden, track_bn=track_bn),
            conv_block(hidden, hidden, track_bn=track_bn),
            conv_block(hidden, hidden, pool=pool_last, track_bn=track_bn),
        )
        self.to(memory_format=torch.channels_last)  # about 1.5x faster convolutions on CPU

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = normalize_ink(x, self.ink_norm)
        return self.blocks(x.contiguous(memory_format=torch.channels_last)).flatten(1)

    def out_dim(self, image_size: int) -> int:
        side = image_size
        for block in self.blocks:
            side = side // 2 if isinstance(block[-1], nn.MaxPool2d) else side
        return self.blocks[-1][0].out_channels * side * side


class Ensemble(nn.Module):
    """Encoders trained side by side, each with its own loss (so they stay independent), whose
    embeddings are concatenated at test time: a squared distance on the concatenation is the sum
    of the members' squared distances, so the members' logits add up."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m(x) for m in self.members], 1)


def shifted_copies(x: torch.Tensor, radius: int) -> torch.Tensor:
    """``x`` (N, C, H, W) shifted by every whole-pixel offset (dy, dx) with |dy|, |dx| <= radius,
    the edge pixels repeated into the gap: ((2 radius + 1)^2 N, C, H, W), offset by offset."""
    if radius <= 0:
        return x
    h, w = x.shape[-2:]
    padded = F.pad(x, (radius,) * 4, mode="replicate")
    side = 2 * radius + 1
    return torch.cat([padded[..., dy : dy + h, dx : dx + w] for dy in range(side) for dx in range(side)])


def prototypes(emb: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Mean embedding per class, for support sets in ANY order (scatter by label, no sorting)."""
    sums = emb.new_zeros(n_classes, emb.shape[1]).index_add_(0, labels, emb)
    counts = torch.bincount(labels, minlength=n_classes).clamp_min(1).to(emb.dtype)
    return sums / counts[:, None]


def sq_euclidean_logits(query: torch.Tensor, protos: torch.Tensor) -> torch.Tensor:
    """logits[i, c] = -||query_i - proto_c||^2."""
    return -(query.pow(2).sum(1, keepdim=True) - 2 * query @ protos.T + protos.pow(2).sum(1)[None])
