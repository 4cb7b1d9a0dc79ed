"""The DQN update written out in numpy on flat buffers: the CPU speed path of genlab.rl.dqn.

:class:`NumpyLearner` has the interface of the plain learner in dqn.py (``q_values`` to act,
``learn`` for one update: loss, gradients, clipping, Adam, Polyak average) and gives its numbers up
to float rounding (tests/test_rl_dqn.py holds the two equal, step by step and over a training run).

Why it is faster: at a batch of 64 on a 128-128 network an update is about thirty small kernels.
Called through torch, each pays its dispatch (autograd, dispatcher, tensor bookkeeping: 3-10 us),
which is most of the update; a numpy call costs about a microsecond, and its BLAS is as fast as
torch's for these products. So here:

- the nn.Module's parameters become views into one contiguous float32 tensor (:class:`FlatMLP`):
  the module is unchanged for everyone else (``forward``, ``state_dict``, checkpoints), while
  numpy views of the same memory run the forward pass and the chain rule written out;
- the gradients land in one flat buffer, so clipping is one dot product, and the optimiser's
  state tensors are views into flat buffers too (:class:`FlatAdam`), so the fused Adam kernel
  and a Polyak average are each one call on the whole network.

CPU only, float32, a ReLU MLP and a plain fused Adam (:meth:`NumpyLearner.unsupported` says
what does not fit); not under DDP, whose gradient averaging hooks into autograd, nor under
autocast (the recipe checks that per update).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.optim.adam import adam


class FlatMLP:
    """``mlp``'s parameters moved into ``self.flat`` (in ``parameters()`` order): each ``nn.Parameter``
    keeps its identity (optimisers and modules holding it see no change) and becomes a view of the
    flat buffer (``torch.utils.swap_tensors``). ``layers``: numpy (weight (out, in), bias) views of
    each Linear. ``mlp`` must be a ReLU MLP on the CPU (Linear, ReLU, ..., Linear)."""

    def __init__(self, mlp: nn.Sequential):
        params = list(mlp.parameters())
        self.flat = torch.cat([p.detach().reshape(-1) for p in params]).float()
        self.slices, offset = [], 0
        for p in params:
            self.slices.append(slice(offset, offset + p.numel()))
            view = nn.Parameter(self.flat[self.slices[-1]].view_as(p), requires_grad=p.requires_grad)
            torch.utils.swap_tensors(p, view)
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
        self.step0, self.other_steps = self.steps[0], self.steps[1:]

    def step(self, clip: float | None = None) -> None:
        """``clip_grad_norm_(clip)`` then ``opt.step()``, on the gradients in ``self.grad``."""
        if clip:
            norm = float(np.sqrt(np.dot(self.grad_np, self.grad_np)))
            if norm > clip:
                self.grad_np *= np.float32(clip / (norm + 1e-6))
        group = self.opt.param_groups[0]
        beta1, beta2 = group["betas"]
        self.other_steps += 1  # the fused call counts the first parameter's step
        adam(
            [self.net.flat],
            [self.grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.step0],
            fused=True,
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=float(group["lr"]),
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
        )


class NumpyLearner:
    """The DQN learner of genlab.rl.dqn (``q_values``, ``learn``) on flat buffers with numpy kernels.

    ``q`` and ``target`` are the recipe's networks (their parameters move into flat buffers here),
    ``opt`` the Adam over ``q``'s parameters, ``cfg`` the DQNConfig (gamma, double, loss, grad_clip,
    target_update, tau)."""

    def __init__(self, q: nn.Module, target: nn.Module, opt: torch.optim.Adam, cfg):
        self.cfg = cfg
        self.q, self.target = FlatMLP(q), FlatMLP(target)
        self.adam = FlatAdam(opt, self.q)

    @staticmethod
    def unsupported(q: nn.Module, opt: torch.optim.Optimizer, device: torch.device, distributed: bool) -> str:
        """Why this learner cannot stand in for autograd's here ("" when it can)."""
        if device.type != "cpu":
            return f"it runs on the CPU, not {device.type}"
        if distributed:
            return "DDP averages gradients through autograd"
        if not getattr(q, "relu", False):
            return "its gradients are written out for a ReLU MLP"
        if not FlatAdam.supports(opt):
            return "it reproduces a plain fused Adam with one parameter group"
        return ""

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q(s, .) of the online network, (N, actions)."""
        return self.q.forward(obs)[-1]

    def td_gradients(self, obs, actions, rewards, next_obs, terminated) -> tuple[float, float]:
        """The recipe's ``td_loss`` (loss and mean Q, as floats) on numpy arrays, its gradients written
        into ``self.adam.grad`` by the chain rule: dloss/dq = clamp(q - y, -1, 1) / B for the Huber
        loss, 2 (q - y) / B for the MSE, at the actions taken and 0 elsewhere."""
        cfg, n, rows = self.cfg, len(actions), np.arange(len(actions))
        outs = self.q.forward(np.concatenate([obs, next_obs]) if cfg.double else obs)
        q = outs[-1][rows, actions]
        next_q = self.target.forward(next_obs)[-1]
        next_v = next_q[rows, outs[-1][n:].argmax(1)] if cfg.double else next_q.max(1)
        d = q - (rewards + cfg.gamma * (1.0 - terminated) * next_v)
        if cfg.loss == "huber":  # 0.5 d^2 where |d| < 1, else |d| - 0.5, i.e. c (|d| - c / 2) with c = min(|d|, 1)
            abs_d = np.abs(d)
            c = np.minimum(abs_d, 1.0)
            loss, dq = np.dot(c, abs_d - 0.5 * c), np.maximum(np.minimum(d, 1.0), -1.0) / n
        else:
            loss, dq = np.dot(d, d), d * (2.0 / n)
        grad_q = np.zeros((n, outs[-1].shape[1]), dtype=np.float32)
        grad_q[rows, actions] = dq
        self.q.backward([o[:n] for o in outs], grad_q, self.adam.grads)
        return float(loss) / n, float(np.add.reduce(q)) / n

    def learn(self, obs, actions, rewards, next_obs, terminated) -> tuple[float, float]:
        """One update on a minibatch of numpy arrays: gradients, clipping, Adam, then the Polyak
        average of the target; returns the loss and the mean Q before the step."""
        cfg = self.cfg
        loss, q_mean = self.td_gradients(obs, actions, rewards, next_obs, terminated)
        self.adam.step(clip=cfg.grad_clip or None)
        if cfg.target_update == "polyak":
            self.target.flat.lerp_(self.q.flat, cfg.tau)
        return loss, q_mean

    def after_load(self) -> None:
        """``load_state_dict`` gave the optimiser new state tensors: back into the flat buffers."""
        self.adam.bind()
