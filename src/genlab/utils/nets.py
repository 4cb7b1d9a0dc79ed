"""Small torch building blocks shared by the model families."""

from __future__ import annotations

from torch import nn


def mlp(sizes: list[int], out_act: nn.Module | None = None, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with ``activation()`` between them
    and ``out_act`` (if any) after the last one."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)
