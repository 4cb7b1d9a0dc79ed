"""The denoising U-Net (chapter 5.4), with the book's SimpleUNet defects fixed.

- The sinusoidal time embedding goes through an MLP and into *every* residual block at every
  resolution (the book adds it only at the bottleneck).
- Inputs are padded to a multiple of 2**(levels-1) (28 -> 32 with four levels) and the output
  is cropped back, so the skips line up for any image size (the book's 28 -> 14 -> 7 -> 3 breaks).
- GroupNorm residual blocks, one skip per resolution, optional self-attention at the lowest one.
- Class conditioning: a label embedding is added to the time embedding; label index
  ``num_classes`` is the "null" class used for unconditional / classifier-free-guided sampling.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _groups(ch: int) -> int:
    return 8 if ch % 8 == 0 else (4 if ch % 4 == 0 else 1)


class SinusoidalEmbedding(nn.Module):
    """The book's TimeEmbedding: [sin(t w_i), cos(t w_i)], w_i = 10000^(-i/(half-1))."""

    def __init__(self, dim: int):
        super().__init__()
        half = dim // 2
        self.register_buffer(
            "freqs", torch.exp(-math.log(10000) * torch.arange(half) / max(half - 1, 1)), persistent=False
        )

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        args = t.float()[:, None] * self.freqs[None]
        return torch.cat([args.sin(), args.cos()], dim=-1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-Conv twice, the time(+label) embedding added in between, residual 1x1 skip."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(_groups(c_out), c_out)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb):
        # Sums go into the convolutions' fresh outputs, and without autograd (sampling) the SiLU
        # into the norms' outputs: the same numbers with fewer large allocations, which on a CPU
        # is ~15% of a sampling step (bench diffusion --parts=speed). With autograd the SiLU's
        # backward needs its input, so there it makes a new tensor.
        inplace = not torch.is_grad_enabled()
        h = self.conv1(F.silu(self.norm1(x), inplace=inplace))
        h = h.add_(self.emb(emb)[:, :, None, None])
        h = self.conv2(self.drop(F.silu(self.norm2(h), inplace=inplace)))
        return h.add_(self.skip(x))


class SelfAttention(nn.Module):
    """Multi-head self-attention over the pixels of a (low-resolution) feature map, residual."""

    def __init__(self, ch: int, heads: int = 4):
        super().__init__()
        self.heads = heads if ch % heads == 0 else 1
        self.norm = nn.GroupNorm(_groups(ch), ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).transpose(-1, -2).unbind(1)
        out = F.scaled_dot_product_attention(q, k, v)  # (b, heads, hw, c/heads)
        return self.proj(out.transpose(-1, -2).reshape(b, c, h, w)).add_(x)


class UNet(nn.Module):
    """eps/v-prediction network f(x_t, t, label) with the same shape in and out."""

    def __init__(
        self,
        channels: int = 1,
        base_channels: int = 32,
        channel_mults=(1, 2, 2),
        num_res_blocks: int = 1,
        attention: bool = True,
        num_classes: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.multiple = 2 ** (len(channel_mults) - 1)
        emb_dim = 4 * base_channels
        self.time_embed = nn.Sequential(
            SinusoidalEmbedding(base_channels),
            nn.Linear(base_channels, emb_dim),
            nn.SiLU(),
            nn.Linear(emb_dim, emb_dim),
        )
        self.label_embed = nn.Embedding(num_classes + 1, emb_dim) if num_classes else None
        self.stem = nn.Conv2d(channels, base_channels, 3, padding=1)
        widths = [base_channels * m for m in channel_mults]
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        ch = base_channels
        for i, w in enumerate(widths):
            self.down.append(
                nn.ModuleList(ResBlock(ch if j == 0 else w, w, emb_dim, dropout) for j in range(num_res_blocks))
            )
            ch = w
            if i < len(widths) - 1:
                self.downsample.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
        self.mid1 = ResBlock(ch, ch, emb_dim, dropout)
        self.attn = SelfAttention(ch) if attention else nn.Identity()
        self.mid2 = ResBlock(ch, ch, emb_dim, dropout)
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        for i, w in reversed(list(enumerate(widths))):
            self.up.append(
                nn.ModuleList(ResBlock(ch + w if j == 0 else w, w, emb_dim, dropout) for j in range(num_res_blocks))
            )
            ch = w
            if i > 0:
                self.upsample.append(nn.Conv2d(w, widths[i - 1], 3, padding=1))
                ch = widths[i - 1]
        self.out = nn.Sequential(nn.GroupNorm(_groups(ch), ch), nn.SiLU(), nn.Conv2d(ch, channels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def null_labels(self, n: int, device=None) -> torch.Tensor:
        """Labels meaning "no class" (unconditional), for guidance and unconditional sampling."""
        return torch.full((n,), self.num_classes, dtype=torch.long, device=device)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h0, w0 = x.shape[-2:]
        ph, pw = -h0 % self.multiple, -w0 % self.multiple
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        emb = self.time_embed(t)
        if self.label_embed is not None:
            emb = emb + self.label_embed(self.null_labels(len(x), x.device) if labels is None else labels)
        h = self.stem(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.mid2(self.attn(self.mid1(h, emb)), emb)
        for i, blocks in enumerate(self.up):
            h = torch.cat([h, skips.pop()], dim=1)
            for block in blocks:
                h = block(h, emb)
            if i < len(self.upsample):
                h = self.upsample[i](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        out = self.out(h)
        return out[..., ph // 2 : ph // 2 + h0, pw // 2 : pw // 2 + w0]
