"""Small networks for vector observations."""

from __future__ import annotations

from torch import nn


class MLP(nn.Sequential):
    """in -> hidden... (ReLU) -> out; the book's DQN and policy networks are MLP(obs, (128, 128), actions)."""

    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int, out_gain: float | None = None, activation=nn.ReLU):
        layers, d = [], n_in
        for h in hidden:
            layers += [nn.Linear(d, h), activation()]
            d = h
        layers.append(nn.Linear(d, n_out))
        super().__init__(*layers)
        self.relu = activation is nn.ReLU  # genlab.rl.lean's written-out gradients apply
        if out_gain is not None:  # small last layer: near-uniform initial policy / near-zero values
            nn.init.orthogonal_(layers[-1].weight, out_gain)
            nn.init.zeros_(layers[-1].bias)
