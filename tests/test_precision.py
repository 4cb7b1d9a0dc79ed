"""Precision follows the hardware: on a CPU without native bfloat16 (AVX2 only, where bf16 is
emulated ~200x slower than float32) no bf16 computation runs, whatever a config asks for.

The CPU's capability is monkeypatched at torch's own probes, and a dispatch mode watches every
operation torch runs for a bfloat16 tensor; the same watch sees bf16 when the hardware has it,
so the watch itself is tested."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from genlab.registry import MODELS, get_recipe
from genlab.train.distributed import init_distributed
from genlab.train.engine import build_config, step_context
from genlab.train.recipe import Recipe
from genlab.utils.runtime import cpu_capability, native_bf16, seed_everything, use_amp, use_bf16
from helpers import train_steps

CPU = torch.device("cpu")


class BF16Watch(TorchDispatchMode):
    """Records every operation that reads or writes a bfloat16 tensor."""

    def __init__(self):
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves((args, kwargs, out)):
            if isinstance(t, torch.Tensor) and t.dtype == torch.bfloat16:
                self.ops.append(str(func))
                break
        return out


def set_cpu_bf16(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    monkeypatch.delenv("GENLAB_BF16", raising=False)


@pytest.fixture
def avx2_cpu(monkeypatch):
    set_cpu_bf16(monkeypatch, native=False)


def test_the_decision_follows_the_hardware(monkeypatch):
    set_cpu_bf16(monkeypatch, native=False)
    assert not native_bf16(CPU) and not use_bf16(True, CPU)
    assert not use_amp("bf16", CPU) and not use_amp("auto", CPU) and not use_amp("off", CPU)
    assert "BF16" not in cpu_capability() or torch.cpu._is_amx_tile_supported()
    set_cpu_bf16(monkeypatch, native=True)
    assert native_bf16(CPU) and use_bf16(True, CPU) and not use_bf16(False, CPU)
    assert use_amp("bf16", CPU) and use_amp("auto", CPU) and not use_amp("off", CPU)
    monkeypatch.setenv("GENLAB_BF16", "0")  # the off switch
    assert not native_bf16(CPU) and not use_amp("auto", CPU)


def make(model: str, **overrides):
    cls = get_recipe(model)
    extra = {"learning_starts": 16, "batch_size": 16} if model == "dqn" else {}
    cfg = build_config(cls, "quick", {"progress": False, **extra, **overrides})
    seed_everything(0)
    return cls(cfg, CPU, init_distributed(CPU))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("amp", ["auto", "bf16"])
def test_no_bf16_training_step_without_native_bf16(avx2_cpu, model, amp):
    recipe = make(model, amp=amp)
    with BF16Watch() as watch:
        train_steps(recipe, 24 if model == "dqn" else 1, 0, step_context(recipe.cfg, CPU))
    assert watch.ops == [], f"{model} amp={amp} ran bfloat16 ops on a CPU without native bf16: {watch.ops[:5]}"


@pytest.mark.parametrize("model", [m for m in MODELS if get_recipe(m).sample is not Recipe.sample])
def test_no_bf16_sampling_without_native_bf16(avx2_cpu, model):
    recipe = make(model)
    with BF16Watch() as watch, torch.no_grad():
        recipe.sample(4, torch.Generator().manual_seed(0))
    assert watch.ops == [], f"{model} sampled with bfloat16 ops on a CPU without native bf16: {watch.ops[:5]}"


def test_text_to_image_diffusion_backend_is_float32(avx2_cpu):
    pipe = make("text2image").pipeline()
    with BF16Watch() as watch, torch.no_grad():
        pipe.diffuse(pipe.encode(["a handwritten seven"]).expand(2, -1), torch.Generator().manual_seed(0), steps=3)
    assert watch.ops == []


def test_the_watch_sees_bf16_sampling_where_it_is_native(monkeypatch):
    set_cpu_bf16(monkeypatch, native=True)
    recipe = make("ddpm")
    assert recipe.cfg.sample_bf16
    with BF16Watch() as watch, torch.no_grad():
        recipe.sample(2, torch.Generator().manual_seed(0), steps=2)
    assert watch.ops, "the default DDPM sampler should run under bf16 autocast where bf16 is native"
