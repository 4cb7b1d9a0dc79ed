"""Small networks for vector observations."""

from __future__ import annotations

from torch import nn

from genlab.utils.nets import mlp


class MLP(nn.Sequential):
    """in -> hidden... (ReLU) -> out; the book's DQN and policy networks are MLP(obs, (128, 128), actions)."""

    def __init__(
        self, n_in: int, hidden: tuple[int, ...], n_out: int, out_gain: float | None = None, activation=nn.ReLU
    ):
        super().__init__(*mlp([n_in, *hidden, n_out], activation=activation))
        self.relu = activation is nn.ReLU  # genlab.rl.dqn_numpy's written-out gradients apply
        if out_gain is not None:  # small last layer: near-uniform initial policy / near-zero values
            nn.init.orthogonal_(self[-1].weight, out_gain)
            nn.init.zeros_(self[-1].bias)
