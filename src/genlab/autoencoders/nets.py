"""Encoder/decoder building blocks shared by the autoencoder family."""

from __future__ import annotations

from torch import nn


def mlp(sizes: list[int], out_act: nn.Module | None = None) -> nn.Sequential:
    """Linear layers with ReLU between them; ``out_act`` after the last one."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    def __init__(self, in_dim: int, hidden: tuple[int, ...], out_dim: int):
        super().__init__()
        self.net = mlp([in_dim, *hidden, out_dim])

    def forward(self, x):
        return self.net(x.flatten(1))


class MLPDecoder(nn.Module):
    def __init__(self, latent_dim: int, hidden: tuple[int, ...], shape: tuple[int, int, int]):
        super().__init__()
        self.shape = tuple(shape)
        c, h, w = shape
        self.net = mlp([latent_dim, *reversed(hidden), c * h * w], nn.Sigmoid())

    def forward(self, z):
        return self.net(z).view(-1, *self.shape)
