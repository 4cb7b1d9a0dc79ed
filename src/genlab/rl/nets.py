"""Small networks for vector observations."""

from __future__ import annotations

import torch
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
        self.relu = activation is nn.ReLU  # relu_forward / relu_backward apply
        if out_gain is not None:  # small last layer: near-uniform initial policy / near-zero values
            nn.init.orthogonal_(layers[-1].weight, out_gain)
            nn.init.zeros_(layers[-1].bias)

    @torch.no_grad()
    def relu_forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[x, h1, ..., out]: the input and every layer's output (hidden ones after the ReLU),
        kept for :meth:`relu_backward`; the same kernels as ``forward``, no autograd graph."""
        linears = list(self)[::2]
        outs = [x]
        for i, lin in enumerate(linears):
            h = torch.addmm(lin.bias, outs[-1], lin.weight.t())
            outs.append(h.relu_() if i + 1 < len(linears) else h)
        return outs

    @torch.no_grad()
    def relu_backward(self, outs: list[torch.Tensor], grad_out: torch.Tensor) -> list[torch.Tensor]:
        """Gradients of sum(grad_out * out) with respect to ``parameters()`` (in that order), by
        the chain rule written out: for a layer h = relu(a W^T + b), dW = g^T a, db = sum(g), and
        the gradient flows on as (g W) * (a > 0). The numbers autograd gives, in a dozen kernel
        calls and no graph bookkeeping, which on a 128-128 net is most of the cost of an update."""
        linears = list(self)[::2]
        grads: list[torch.Tensor] = []
        g = grad_out
        for i in reversed(range(len(linears))):
            a = outs[i]
            grads += [g.sum(0), g.t() @ a]  # bias, weight (reversed below)
            if i:  # through the ReLU: g where its output a > 0, else 0 (autograd's own kernel for it)
                g = torch.ops.aten.threshold_backward(g @ linears[i].weight, a, 0)
        return grads[::-1]
