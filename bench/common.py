"""Shared benchmark plumbing: pinned threads, timing, the matmul peak, JSON results."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def add_set_argument(parser, help: str) -> None:
    """``--set KEY=VALUE`` (repeatable) on a bench script's parser, collected in ``overrides``
    (read with genlab.config.parse_set_args), as on ``genlab train``."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help)


def pin_threads(n: int | None = None) -> dict:
    """Set torch threads on purpose and return the settings to print with every figure."""
    n = n or int(os.environ.get("GENLAB_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(n)
    return {
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }


def machine() -> dict:
    from genlab.utils.runtime import cpu_capability, cpu_model, native_bf16

    cpu = cpu_model()
    return {
        "cpu": cpu,
        "capability": cpu_capability(),
        "native_bf16": native_bf16(torch.device("cpu")),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def machine_line() -> str:
    """The machine kind in one line, printed above every table of figures."""
    m = machine()
    return f"machine: {m['cpu']}, {m['cores']} cores, {m['capability']} (native bf16: {'yes' if m['native_bf16'] else 'no'}), torch {m['torch']}"


def timeit(fn, warmup: int = 2, repeat: int = 5, min_time: float = 0.0) -> float:
    """Median seconds per call."""
    for _ in range(warmup):
        fn()
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < repeat or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def matmul_peak_flops(sizes: tuple[int, ...] = (1024, 2048, 3072), dtype=torch.float32, repeat: int = 7) -> float:
    """The machine's practical fp32 peak, measured now: the best FLOP/s of large square matmuls (the
    fastest of ``repeat`` calls at each size). The best, not the median: a VM's speed wanders from call
    to call, and a peak measured low would flatter every utilisation divided by it."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        for _ in range(2):
            a @ b
        for _ in range(repeat):
            t0 = time.perf_counter()
            a @ b
            best = max(best, 2 * n**3 / (time.perf_counter() - t0))
    return best


def save_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"bench": name, "machine": machine(), "time": time.strftime("%Y-%m-%d %H:%M:%S"), **result}
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    return path


def table(rows: list[dict], cols: list[str] | None = None) -> str:
    """Rows as an aligned text table, headed by the machine kind the figures were measured on."""
    if not rows:
        return "(no rows)"
    cols = cols or list(rows[0])
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    widths = [max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in cols]
    lines = [machine_line(), "  ".join(c.ljust(w) for c, w in zip(cols, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(fmt(r.get(c, "")).ljust(w) for c, w in zip(cols, widths)) for r in rows]
    return "\n".join(lines)


def train_for(model: str, preset: str, overrides: dict, budget_s: float, losses: list | None = None):
    """Train a genlab model for ``budget_s`` CPU seconds (equal-budget comparisons);
    returns (recipe, steps, CPU seconds used). ``losses`` (a list) receives every step's loss."""
    from genlab.registry import get_recipe
    from genlab.train.distributed import DistInfo
    from genlab.train.engine import Batches, build_config, step_context
    from genlab.utils.runtime import seed_everything

    cls = get_recipe(model)
    cfg = build_config(cls, preset, {"steps": 10**9, **overrides})
    seed_everything(cfg.seed)
    recipe = cls(cfg, "cpu")
    data = recipe.load_data()
    batches = Batches(len(data.x_train), cfg.batch_size, cfg.seed, DistInfo())
    in_step = step_context(cfg, torch.device("cpu"))  # a contender's amp=bf16 applies here too
    recipe.train_mode(True)
    t0, step = time.process_time(), 0
    while time.process_time() - t0 < budget_s:
        idx = batches.indices(step)
        with in_step():
            out = recipe.train_step((data.x_train[idx], data.y_train[idx]), step)
        if losses is not None:
            losses.append(torch.as_tensor(out["loss"]).item())
        step += 1
    used = time.process_time() - t0
    recipe.train_mode(False)
    return recipe, step, used


def parse_contender(spec: str) -> tuple[str, str, dict]:
    """'MODEL:PRESET:key=value,key=value' -> (model, preset, overrides)."""
    from genlab.config import parse_set_args

    model, preset, sets = (spec.split(":", 2) + ["", ""])[:3]
    return model, preset or "quick", parse_set_args([s for s in sets.split(",") if s])
