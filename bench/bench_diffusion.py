"""Diffusion benchmark (issue 6): DDIM-50 vs DDPM-1000 on one model, guidance, speed, stability.

    python bench/bench_diffusion.py [RUN_DIR] [--n 500]

Without RUN_DIR it trains `genlab train ddpm --preset quick` first (into runs/bench-ddpm-quick).
Prints evaluator-FID / recall / coverage of DDIM-50 and of the book's 1000-step DDPM sampler
(unconditional, null class), their network evaluations and wall time, the label accuracy of
guided samples, the time to draw 64 digits, and ``diffusion_row(run)``: the diffusion column of
the book's GAN-vs-diffusion table (FID, recall, samples/s, training-loss std over the last steps).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from genlab.train.engine import load_run, train
from genlab.train.runstore import RunStore

DEFAULT_RUN = Path("runs/bench-ddpm-quick")


def timed_quality(recipe, n: int, **options) -> dict:
    t0 = time.perf_counter()
    q = recipe.quality(n, **options)
    return {**q, "seconds": time.perf_counter() - t0}


def samples_per_second(recipe, n: int = 64, repeats: int = 2, **options) -> float:
    """Throughput of the default sampler (DDIM 50 steps unless the config says otherwise)."""
    g = torch.Generator().manual_seed(0)
    recipe.sample(8, g, **options)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        recipe.sample(n, g, **options)
    return repeats * n / (time.perf_counter() - t0)


def loss_stability(run, last_frac: float = 0.2) -> dict:
    """Std (and std/mean) of the logged training loss over the last ``last_frac`` of the records."""
    losses = [r["loss"] for r in RunStore(run).read_metrics() if "loss" in r]
    tail = losses[-max(2, int(len(losses) * last_frac)):]
    std = statistics.stdev(tail)
    return {"loss_std_last": std, "loss_cv_last": std / abs(statistics.mean(tail))}


def diffusion_row(run, n: int = 500) -> dict:
    """The diffusion row of the GAN-vs-diffusion table, for a trained ddpm run."""
    recipe, store, meta = load_run(run)
    rows = [r for r in store.read_metrics() if "elapsed_s" in r]
    with torch.no_grad():
        q = recipe.quality(n)
        sps = samples_per_second(recipe)
    return {"model": "ddpm", "run": str(store.path), "steps": meta.get("step"), "train_s": rows[-1]["elapsed_s"] if rows else None,
            "fid": q["fid"], "recall": q["recall"], "coverage": q["coverage"], "samples_per_s": sps,
            "sampler": f"{recipe.cfg.sampler}-{recipe.cfg.sample_steps}", **loss_stability(store.path)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", help="a trained ddpm run (default: train the quick preset)")
    p.add_argument("--n", type=int, default=500, help="samples per FID (same for both samplers)")
    a = p.parse_args()
    run = a.run
    if run is None:
        run = DEFAULT_RUN
        if not (run / "eval.json").exists():
            t0 = time.perf_counter()
            train("ddpm", "quick", out=run)
            print(f"trained quick preset in {time.perf_counter() - t0:.0f} s")
    recipe, _, _ = load_run(run)
    out = {}
    with torch.no_grad():
        for name, opts in {"ddim-50": {"sampler": "ddim", "steps": 50}, "ddpm-1000": {"sampler": "ddpm", "steps": 1000}}.items():
            q = timed_quality(recipe, a.n, **opts)
            out[name] = {k: q[k] for k in ("fid", "fid_floor", "recall", "precision", "coverage", "seconds")} | {"evaluations": opts["steps"]}
        guided = timed_quality(recipe, a.n, guided=True)
        out["guided-ddim-50"] = {k: guided[k] for k in ("fid", "label_acc", "coverage", "seconds")} | {"guidance": recipe.cfg.guidance}
        t0 = time.perf_counter()
        recipe.sample(64, torch.Generator().manual_seed(1))
        out["sample_64_ddim50_s"] = time.perf_counter() - t0
    ratio = out["ddim-50"]["fid"] / out["ddpm-1000"]["fid"]
    out["ddim_vs_ddpm_fid_ratio"] = ratio
    out["row"] = diffusion_row(run, a.n)
    print(json.dumps(out, indent=2))
    print(f"DDIM-50 FID {out['ddim-50']['fid']:.2f} vs DDPM-1000 FID {out['ddpm-1000']['fid']:.2f} "
          f"(ratio {ratio:.3f}, target <= 1.15) at 20x fewer network evaluations")


if __name__ == "__main__":
    main()
