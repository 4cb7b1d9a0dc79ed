"""A ReLU MLP trained on one flat buffer with numpy kernels: the DQN's CPU fast path.

At a batch of 64 on a 128-128 network an update is about thirty small kernels. Called through
torch, each pays its dispatch (autograd, dispatcher, tensor bookkeeping: 3-10 us), which was
most of the update; numpy calls cost about a microsecond, and its BLAS is as fast as torch's
for these products. So here:

- the nn.Module's parameters become views into one contiguous float32 tensor (:class:`FlatMLP`):
  the module is unchanged for everyone else (``forward``, ``state_dict``, checkpoints), while
  numpy views of the same memory run the forward pass and the chain rule written out;
- the gradients land in one flat buffer, so clipping is one dot product, and the optimiser's
  state tensors are views into flat buffers too (:class:`FlatAdam`), so the fused Adam kernel
  and a Polyak average are each one call on the whole network.

The numbers are autograd's and ``torch.optim.Adam(fused=True)`` + ``clip_grad_norm_``'s up to
float rounding (tests check both). CPU only, float32; the caller decides when it applies
(not under DDP, whose gradient averaging hooks into autograd, nor under autocast).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class FlatMLP:
    """``mlp``'s parameters re-pointed into ``self.flat`` (in ``parameters()`` order); ``layers``:
    numpy (weight (out, in), bias) views of each Linear. ``mlp`` must be a ReLU MLP on the CPU
    (Linear, ReLU, ..., Linear)."""

    def __init__(self, mlp: nn.Sequential):
        params = list(mlp.parameters())
        self.flat = torch.cat([p.detach().reshape(-1) for p in params]).float()
        self.slices, offset = [], 0
        for p in params:
            self.slices.append(slice(offset, offset + p.numel()))
            p.data = self.flat[self.slices[-1]].view_as(p)
            offset += p.numel()
        self.weight_shapes = [tuple(p.shape) for p in params[::2]]
        self.layers = self.views(self.flat)

    def views(self, flat: torch.Tensor) -> list[tuple[np.ndarray, np.ndarray]]:
        """(weight, bias) numpy views into a flat buffer laid out as ``self.flat``, one pair per layer."""
        a = flat.numpy()
        return [
            (a[w].reshape(shape), a[b]) for shape, w, b in zip(self.weight_shapes, self.slices[::2], self.slices[1::2])
        ]

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """[x, h1, ..., out]: the input and each layer's output (hidden ones after the ReLU)."""
        outs = [np.asarray(x, dtype=np.float32)]
        for i, (w, b) in enumerate(self.layers):
            h = outs[-1] @ w.T
            h += b
            if i + 1 < len(self.layers):
                np.maximum(h, 0.0, out=h)
            outs.append(h)
        return outs

    def backward(
        self, outs: list[np.ndarray], grad_out: np.ndarray, grads: list[tuple[np.ndarray, np.ndarray]]
    ) -> None:
        """Gradients of sum(grad_out * out) into ``grads`` (``views`` of a gradient buffer): for a layer
        h = relu(a W^T + b), dW = g^T a, db = sum(g), and g flows on as (g W) * (a > 0)."""
        g = grad_out
        for i in reversed(range(len(self.layers))):
            a, (gw, gb) = outs[i], grads[i]
            np.matmul(g.T, a, out=gw)
            np.add.reduce(g, axis=0, out=gb)
            if i:
                g = g @ self.layers[i][0]
                g *= a > 0


class FlatAdam:
    """``torch.optim.Adam(fused=True)`` (one param group) stepping a :class:`FlatMLP` with one fused
    call: its state tensors are views into flat buffers. ``grads`` (numpy views) is where
    :meth:`FlatMLP.backward` writes. After ``opt.load_state_dict`` call :meth:`bind` again."""

    def __init__(self, opt: torch.optim.Adam, net: FlatMLP):
        self.opt, self.net = opt, net
        self.params = [p for g in opt.param_groups for p in g["params"]]
        if [p.data_ptr() for p in self.params] != [net.flat[sl].data_ptr() for sl in net.slices]:
            raise ValueError("FlatAdam needs an optimiser over the FlatMLP's parameters, in their order")
        self.grad = torch.zeros_like(net.flat)
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(net.flat), torch.zeros_like(net.flat)
        self.grads, self.grad_np = net.views(self.grad), self.grad.numpy()
        self.bind()

    @staticmethod
    def supports(opt: torch.optim.Optimizer) -> bool:
        """A plain fused Adam with one param group: what :meth:`step` reproduces."""
        d = opt.defaults
        return (
            isinstance(opt, torch.optim.Adam)
            and len(opt.param_groups) == 1
            and bool(d.get("fused"))
            and not d.get("amsgrad")
            and not d.get("maximize")
            and not d.get("decoupled_weight_decay", False)
        )

    def bind(self) -> None:
        """Point the optimiser's state at the flat buffers, keeping the values it holds (a fresh
        optimiser: zeros and step 0, as its first step would create them)."""
        self.steps = torch.zeros(len(self.params))  # each parameter's step counter (torch.optim keeps one each)
        for i, (p, sl) in enumerate(zip(self.params, self.net.slices)):
            state = self.opt.state.get(p, {})
            for key, buf in (("exp_avg", self.exp_avg), ("exp_avg_sq", self.exp_avg_sq)):
                buf[sl] = state[key].reshape(-1) if key in state else 0.0
            self.steps[i] = float(state.get("step", 0.0))
            self.opt.state[p] = {
                "step": self.steps[i],
                "exp_avg": self.exp_avg[sl].view_as(p),
                "exp_avg_sq": self.exp_avg_sq[sl].view_as(p),
            }
        self.step0 = self.steps[0]

    def step(self, clip: float | None = None) -> None:
        """``clip_grad_norm_(clip)`` then ``opt.step()``, on the gradients in ``self.grad``."""
        if clip:
            norm = float(np.sqrt(np.dot(self.grad_np, self.grad_np)))
            if norm > clip:
                self.grad_np *= np.float32(clip / (norm + 1e-6))
        self.steps += 1
        group = self.opt.param_groups[0]
        beta1, beta2 = group["betas"]
        torch._fused_adam_(
            [self.net.flat],
            [self.grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.step0],
            lr=float(group["lr"]),
            beta1=beta1,
            beta2=beta2,
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            amsgrad=False,
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )
