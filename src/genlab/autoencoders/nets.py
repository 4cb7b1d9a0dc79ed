"""Encoder/decoder building blocks shared by the autoencoder family.

Two architectures, chosen by ``arch``:

- ``"mlp"``: the book's fully connected networks (ReLU, mirrored decoder, Sigmoid output);
- ``"conv"``: a small convolutional encoder (stride-2 convs down to 7x7 or 8x8) and a mirrored
  transposed-convolution decoder, for 28x28 and 32/64-pixel images.

Encoders take an optional condition vector ``c`` (a one-hot label for the conditional VAE):
the MLP concatenates it to the flattened image, the conv net as constant extra channels.
Decoders take a latent code (the caller concatenates any condition to it).
"""

from __future__ import annotations

import torch
from torch import nn

from genlab.errors import GenlabError
from genlab.utils.nets import mlp

ARCHS = ("mlp", "conv")


class MLPEncoder(nn.Module):
    def __init__(self, in_dim: int, hidden: tuple[int, ...], out_dim: int, cond_dim: int = 0):
        super().__init__()
        self.net = mlp([in_dim + cond_dim, *hidden, out_dim])

    def forward(self, x, c=None):
        h = x.flatten(1)
        return self.net(h if c is None else torch.cat([h, c], 1))


class MLPDecoder(nn.Module):
    def __init__(self, latent_dim: int, hidden: tuple[int, ...], shape: tuple[int, int, int]):
        super().__init__()
        self.shape = tuple(shape)
        c, h, w = shape
        self.net = mlp([latent_dim, *reversed(hidden), c * h * w], nn.Sigmoid())

    def forward(self, z):
        return self.net(z).view(-1, *self.shape)


def conv_plan(image_size: int) -> int:
    """Number of stride-2 stages that bring ``image_size`` down to at most 8 (28->14->7, 64->32->16->8)."""
    n, s = 0, image_size
    while s > 8 and s % 2 == 0:
        s, n = s // 2, n + 1
    if s > 8 or n == 0:
        raise GenlabError(
            f"the conv architecture needs an image size that halves down to 8 or less (28, 32, 64, ...), got {image_size}; use --set arch=mlp"
        )
    return n


class ConvEncoder(nn.Module):
    """Conv(4, stride 2) [+ BatchNorm] + ReLU stages (width, 2*width, ...), then Linear -> ReLU -> Linear(out_dim)."""

    def __init__(
        self,
        shape: tuple[int, int, int],
        out_dim: int,
        width: int = 32,
        fc: int = 256,
        cond_dim: int = 0,
        norm: bool = False,
    ):
        super().__init__()
        c, h, _ = shape
        stages = conv_plan(h)
        layers, ch = [], c + cond_dim
        for i in range(stages):
            layers += [
                nn.Conv2d(ch, width * 2**i, 4, 2, 1),
                *([nn.BatchNorm2d(width * 2**i)] if norm else []),
                nn.ReLU(),
            ]
            ch = width * 2**i
        self.conv = nn.Sequential(*layers)
        side = h >> stages
        self.head = mlp([ch * side * side, fc, out_dim])

    def forward(self, x, c=None):
        if c is not None:
            x = torch.cat([x, c[:, :, None, None].expand(-1, -1, *x.shape[-2:])], 1)
        return self.head(self.conv(x).flatten(1))


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: Linear -> ReLU -> Linear -> transposed convs -> Sigmoid."""

    def __init__(
        self, latent_dim: int, shape: tuple[int, int, int], width: int = 32, fc: int = 256, norm: bool = False
    ):
        super().__init__()
        self.shape = tuple(shape)
        c, h, _ = shape
        stages = conv_plan(h)
        self.side, self.ch = h >> stages, width * 2 ** (stages - 1)
        self.head = nn.Sequential(mlp([latent_dim, fc, self.ch * self.side**2]), nn.ReLU())
        layers, ch = [], self.ch
        for i in reversed(range(stages)):
            out = width * 2 ** (i - 1) if i > 0 else c
            layers.append(nn.ConvTranspose2d(ch, out, 4, 2, 1))
            if norm and i > 0:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU() if i > 0 else nn.Sigmoid())
            ch = out
        self.deconv = nn.Sequential(*layers)

    def forward(self, z):
        return self.deconv(self.head(z).view(-1, self.ch, self.side, self.side))


def make_encoder(
    arch: str, shape, out_dim: int, hidden=(512, 256), width: int = 32, cond_dim: int = 0, norm: bool = False
) -> nn.Module:
    """An image encoder producing ``out_dim`` numbers per image."""
    if arch == "mlp":
        c, h, w = shape
        return MLPEncoder(c * h * w, tuple(hidden), out_dim, cond_dim)
    if arch == "conv":
        return ConvEncoder(tuple(shape), out_dim, width, cond_dim=cond_dim, norm=norm)
    raise GenlabError(f"unknown arch '{arch}'; choose one of: {', '.join(ARCHS)}")


def make_decoder(
    arch: str, latent_dim: int, shape, hidden=(512, 256), width: int = 32, norm: bool = False
) -> nn.Module:
    """A decoder from ``latent_dim`` numbers to images in [0, 1] of ``shape``."""
    if arch == "mlp":
        return MLPDecoder(latent_dim, tuple(hidden), tuple(shape))
    if arch == "conv":
        return ConvDecoder(latent_dim, tuple(shape), width, norm=norm)
    raise GenlabError(f"unknown arch '{arch}'; choose one of: {', '.join(ARCHS)}")


class GaussianEncoder(nn.Module):
    """Wraps an encoder with 2*latent outputs into a diagonal Gaussian q(z|x): (mu, logvar).

    For the book's MLP, [784, 512, 512, 2*latent] split in two is exactly the book's
    fc_mu and fc_logvar heads on a 784-512-512 trunk.
    """

    def __init__(self, body: nn.Module, latent_dim: int):
        super().__init__()
        self.body, self.latent_dim = body, latent_dim

    def forward(self, x, c=None):
        mu, logvar = self.body(x, c).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I) (differentiable in mu and logvar)."""
    eps = torch.randn(
        mu.shape, generator=generator, device=generator.device if generator is not None else mu.device
    ).to(mu)
    return mu + torch.exp(0.5 * logvar) * eps
