"""Inference-only checkpoints: a recipe's state without what only training needs.

:func:`strip` drops the optimiser states, stores a net that only duplicates another one (the
training copy of an EMA pair: ``aliases = {"model": "ema"}``) as a reference to it, and may cast
the nets' float32 tensors to float16. :func:`inflate` undoes all of it for ``Recipe.load_state``:
the alias gets its partner's weights, float16 goes back to float32. The sidecar says what was done
(``inference_only``, ``aliases``, ``dtype``), so :func:`genlab.train.engine.load_run` knows to inflate.
"""

from __future__ import annotations

import torch

from genlab.errors import GenlabError

FLOAT16_MAX = float(torch.finfo(torch.float16).max)


def _half(t: torch.Tensor) -> torch.Tensor:
    """float32 -> float16 when every value fits (else the tensor stays float32); other dtypes unchanged."""
    if t.dtype != torch.float32 or (t.numel() and float(t.abs().max()) > FLOAT16_MAX):
        return t
    return t.to(torch.float16)


def strip(recipe_state: dict, aliases: dict[str, str] | None = None, half: bool = False) -> tuple[dict, dict]:
    """(inference-only state, sidecar fields) of ``recipe_state`` (what ``Recipe.state()`` returns)."""
    nets = dict(recipe_state["nets"])
    aliases = dict(aliases or {})
    for net, source in aliases.items():
        if net not in nets or source not in nets:
            raise GenlabError(f"zoo spec alias {net} -> {source}: the model has nets {', '.join(nets)}")
        if set(nets[net]) != set(nets[source]):
            raise GenlabError(f"zoo spec alias {net} -> {source}: the two nets have different parameters")
        del nets[net]
    if half:
        nets = {k: {p: _half(t) for p, t in sd.items()} for k, sd in nets.items()}
    state = {"nets": nets, "opts": {}, "extra": recipe_state.get("extra", {})}
    return state, {"inference_only": True, "aliases": aliases, "dtype": "float16" if half else "float32"}


def inflate(recipe_state: dict, meta: dict) -> dict:
    """The state ``Recipe.load_state(..., with_optimizers=False)`` takes, from a stripped one."""
    nets = {
        k: {p: (t.float() if t.dtype == torch.float16 else t) for p, t in sd.items()}
        for k, sd in recipe_state["nets"].items()
    }
    for net, source in (meta.get("aliases") or {}).items():
        nets[net] = nets[source]
    return {**recipe_state, "nets": nets}


def nbytes(recipe_state: dict) -> int:
    """Bytes of the tensors of the nets in a (stripped) state."""
    return sum(t.numel() * t.element_size() for sd in recipe_state["nets"].values() for t in sd.values())
