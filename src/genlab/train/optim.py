"""Weight-update helpers shared by the recipes: the EMA of a network's weights, and a lean
optimiser step for tiny networks, where per-call Python bookkeeping is the cost.

``lean_adam_step`` does what ``clip_grad_norm_(); opt.step()`` does for a
``torch.optim.Adam(fused=True)`` on one device, given the gradients as a list (from
``torch.autograd.grad`` or written out, nothing stored in ``.grad`` to zero), with the same fused
kernel and the same optimiser state (so checkpoints and ``state_dict`` are unchanged), but
without the generic machinery: clipping is folded into the kernel's ``grad_scale``
(grad / max(1, norm / clip)), and there is no per-call grouping, hook or profiler bookkeeping.
On the DQN's 128-128 MLP that is about a quarter of an update.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """Exponential moving average of ``model``'s weights into ``ema``, with a warm-up
    (decay <= (1 + step) / (10 + step)) so that short runs are not dominated by the random
    initial weights; buffers (batch-norm statistics) are copied."""
    d = min(decay, (1 + step) / (10 + step))
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - d)
    for be, b in zip(ema.buffers(), model.buffers()):
        be.copy_(b)


@torch.no_grad()
def lean_adam_step(opt: torch.optim.Adam, params: list[torch.Tensor], grads: list[torch.Tensor], clip: float | None = None) -> None:
    """One Adam step on ``params`` (the optimiser's only param group) with their gradients ``grads``."""
    group = opt.param_groups[0]
    if not opt.state:  # the first step creates the state the ordinary way
        for p, g in zip(params, grads):
            p.grad = g
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return
    scale = None
    if clip:
        scale = (torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))) / clip).clamp_min_(1.0)
    states = [opt.state[p] for p in params]
    steps = [s["step"] for s in states]
    torch._foreach_add_(steps, 1)
    beta1, beta2 = group["betas"]
    torch._fused_adam_(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states], [], steps,
                       lr=float(group["lr"]), beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"],
                       amsgrad=False, maximize=False, grad_scale=scale, found_inf=None)


def supports_lean_step(opt: torch.optim.Optimizer) -> bool:
    """A plain fused Adam with one param group (what ``lean_adam_step`` reproduces)."""
    d = opt.defaults
    return (isinstance(opt, torch.optim.Adam) and len(opt.param_groups) == 1 and bool(d.get("fused"))
            and not d.get("amsgrad") and not d.get("maximize") and not d.get("decoupled_weight_decay", False))
