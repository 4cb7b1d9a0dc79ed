"""Diffusion benchmark: samplers on one model, sampling speed, GAN vs diffusion.

    python -m bench diffusion [--run=RUN] [--n=500] [--budget=240] [--parts=samplers,speed,table] [--skip-ddpm]

1. Samplers on one trained model (RUN, default: `genlab train ddpm --preset quick` into
   runs/bench-ddpm-quick): evaluator-FID / precision / recall / coverage of n samples (labels
   drawn uniformly, the same seeds for every sampler) from the default DPM-Solver++(2M) (SDE,
   eta=1, 15 steps), its ODE form and 10- and 20-step runs, DDIM-50 (eta=1 and 0) and the book's
   1000-step DDPM sampler, with network evaluations per image and CPU seconds, in the precision
   the hardware gives (bf16 only where native); and the label accuracy of guided samples.
2. Speed: 64 digits with the default sampler and with DDIM-50, in float32 and (where native)
   bf16, CPU seconds with 1 thread and wall seconds with all threads, next to a reference op
   (a 1024^3 fp32 matmul) timed in the same run.
3. The book's GAN-vs-diffusion table: default dcgan and default ddpm (quick presets), each
   trained single-threaded for the same ``--budget`` CPU seconds, then FID, recall, coverage,
   samples per CPU-second of the default sampler, and training-loss stability (std and
   std/mean of the loss over the last 20% of steps).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.common import machine, pin_threads, save_result, table, timeit, train_for  # noqa: E402

DEFAULT_RUN = Path("runs/bench-ddpm-quick")
SEED = 2024
QUICK_BAR = {"fid": 60.0, "coverage": 10}  # the quick preset's acceptance bar
SAMPLERS = {  # name -> sample() options
    "dpm++2m-15 eta=1": {"sampler": "dpm++2m", "steps": 15, "eta": 1.0},
    "dpm++2m-15 eta=0": {"sampler": "dpm++2m", "steps": 15, "eta": 0.0},
    "dpm++2m-20 eta=1": {"sampler": "dpm++2m", "steps": 20, "eta": 1.0},
    "dpm++2m-10 eta=1": {"sampler": "dpm++2m", "steps": 10, "eta": 1.0},
    "dpm++2m-10 eta=0": {"sampler": "dpm++2m", "steps": 10, "eta": 0.0},
    "ddim-50 eta=1": {"sampler": "ddim", "steps": 50, "eta": 1.0},
    "ddim-50 eta=0": {"sampler": "ddim", "steps": 50, "eta": 0.0},
    "ddpm-1000": {"sampler": "ddpm", "steps": 1000},
}
SAMPLER_COLS = [
    "sampler",
    "evaluations",
    "precision_dtype",
    "cpu_s",
    "fid",
    "fid_floor",
    "precision",
    "recall",
    "coverage",
    "label_acc",
]
TABLE_COLS = [
    "model",
    "steps",
    "train_cpu_s",
    "fid",
    "recall",
    "coverage",
    "samples_per_cpu_s",
    "loss_std_last",
    "loss_cv_last",
]


def cpu_seconds(fn):
    """(result, CPU seconds of this process) of fn()."""
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def draw(recipe, n: int, seed: int = SEED, chunk: int = 500, label=None, **options) -> torch.Tensor:
    """n samples in [0, 1] in batches of ``chunk`` (large batches: the 1000-step chain is the costly one);
    batch i uses seed + i, so batches can also be drawn apart (in parallel) and concatenated.
    ``label``: None or a tensor of n labels."""
    with torch.no_grad():
        return torch.cat(
            [
                recipe.sample(
                    len(c),
                    torch.Generator().manual_seed(seed + i),
                    label=None if label is None else label[c],
                    **options,
                )
                for i, c in enumerate(torch.arange(n).split(chunk))
            ]
        ).cpu()


def sampler_rows(recipe, n: int, skip_ddpm: bool, chunk: int = 500) -> list[dict]:
    from genlab.metrics.quality import sample_quality
    from genlab.utils.runtime import use_bf16

    dtype = "bf16" if use_bf16(recipe.cfg.sample_bf16, recipe.device) else "fp32"
    rows = []
    for name, opts in SAMPLERS.items():
        if skip_ddpm and opts["sampler"] == "ddpm":
            continue
        x, cpu = cpu_seconds(lambda: draw(recipe, n, chunk=chunk, **opts))  # noqa: B023
        rows.append(
            {"sampler": name, "evaluations": opts["steps"], "precision_dtype": dtype, "cpu_s": cpu, **sample_quality(x)}
        )
        print(f"{name}: FID {rows[-1]['fid']:.2f}, coverage {rows[-1]['coverage']}, {cpu:.0f} CPU-s", flush=True)
    labels = torch.arange(n) % recipe.cfg.num_classes
    x, cpu = cpu_seconds(lambda: draw(recipe, n, chunk=chunk, label=labels))
    rows.append(
        {
            "sampler": f"{recipe.cfg.sampler}-{recipe.cfg.sample_steps} guided w={recipe.cfg.guidance:g}",
            "evaluations": 2 * recipe.cfg.sample_steps,
            "precision_dtype": dtype,
            "cpu_s": cpu,
            **sample_quality(x, labels=labels),
        }
    )
    return rows


def speed(recipe, threads: int) -> dict:
    """Seconds to draw 64 digits with the default sampler and with DDIM-50, in float32 and (where
    the hardware has it natively) bf16, next to a matmul. Keys: sample64_SAMPLER_DTYPE_{wall_s_Nt,cpu_s_1t}."""
    from genlab.utils.runtime import native_bf16

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    dtypes = (False, True) if native_bf16(recipe.device) else (False,)
    out = {
        "default_sampler": f"{recipe.cfg.sampler}-{recipe.cfg.sample_steps}",
        "evaluations_default": recipe.cfg.sample_steps,
    }
    for nt in sorted({1, threads}):
        torch.set_num_threads(nt)
        out[f"matmul1024_s_{nt}t"] = timeit(lambda: a @ b, warmup=2, repeat=5)
        for name, opts in (("default", {}), ("ddim50", {"steps": 50, "sampler": "ddim"})):
            for bf16 in dtypes:
                key = f"sample64_{name}_{'bf16' if bf16 else 'fp32'}"
                fn = lambda: recipe.sample(64, torch.Generator().manual_seed(1), bf16=bf16, **opts)  # noqa: E731,B023
                out[f"{key}_wall_s_{nt}t"] = timeit(fn, warmup=1, repeat=3)
                if nt == 1:
                    out[f"{key}_cpu_s_1t"] = cpu_seconds(fn)[1]
    torch.set_num_threads(1)
    return out


def loss_stability(losses: list[float], last_frac: float = 0.2) -> dict:
    """Std and std/mean of the training loss over the last ``last_frac`` of the steps."""
    tail = losses[-max(2, int(len(losses) * last_frac)) :]
    std = statistics.stdev(tail)
    return {"loss_std_last": std, "loss_cv_last": std / abs(statistics.mean(tail))}


def comparison_row(model: str, budget: float, n: int) -> dict:
    """One row of the GAN-vs-diffusion table: the model's quick preset trained for ``budget`` CPU-s."""
    from genlab.metrics.quality import sample_quality

    losses: list[float] = []
    recipe, steps, used = train_for(model, "quick", {}, budget, losses=losses)
    q = sample_quality(draw(recipe, n))
    draw(recipe, 8)  # warm-up
    _, cpu = cpu_seconds(lambda: draw(recipe, 64, seed=1))
    return {
        "model": model,
        "steps": steps,
        "train_cpu_s": used,
        "fid": q["fid"],
        "recall": q["recall"],
        "coverage": q["coverage"],
        "samples_per_cpu_s": 64 / cpu,
        **loss_stability(losses),
    }


def trained_run(run: Path | None) -> Path:
    from genlab.train.engine import train

    if run is None:
        run = DEFAULT_RUN
        if not (run / "eval.json").exists():
            _, cpu = cpu_seconds(lambda: train("ddpm", "quick", out=run))
            print(f"trained the quick preset into {run} in {cpu:.0f} CPU-s", flush=True)
    return Path(run)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, help="a trained ddpm run (default: train the quick preset)")
    p.add_argument("--n", type=int, default=500, help="samples per FID (the same for every sampler)")
    p.add_argument(
        "--budget", type=float, default=240.0, help="training CPU seconds per model in the GAN-vs-diffusion table"
    )
    p.add_argument("--chunk", type=int, default=500, help="samples per batch (batch i is drawn with seed 2024 + i)")
    p.add_argument("--skip-ddpm", action="store_true", help="leave out the (slow) 1000-step DDPM sampler")
    p.add_argument(
        "--parts", default="samplers,speed,table", help="comma-separated parts to run: samplers, speed, table"
    )
    a = p.parse_args(argv)
    parts = set(a.parts.split(","))
    if parts - {"samplers", "speed", "table"}:
        p.error(
            f"unknown part(s) {', '.join(sorted(parts - {'samplers', 'speed', 'table'}))}; choose from samplers, speed, table"
        )
    threads = pin_threads()
    result = {"n": a.n, "threads": threads, "parts": sorted(parts)}
    if parts & {"samplers", "speed"}:
        sampler_and_speed_parts(a, parts, threads, result)
    if "table" in parts:
        torch.set_num_threads(1)
        print(f"GAN vs diffusion: quick presets, {a.budget:g} training CPU-s each, 1 thread, {a.n} samples", flush=True)
        result["table"] = trows = [comparison_row(m, a.budget, a.n) for m in ("dcgan", "ddpm")]
        print(table(trows, TABLE_COLS))
    path = save_result(
        "diffusion-" + "-".join(sorted(parts)) if parts != {"samplers", "speed", "table"} else "diffusion",
        {**result, "machine": machine()},
    )
    print(f"results in {path}")


def sampler_and_speed_parts(a, parts: set, threads: dict, result: dict) -> None:
    from genlab.train.engine import load_run

    run = trained_run(a.run)
    recipe, _, _ = load_run(run)
    torch.set_num_threads(1)
    print(
        f"threads {threads}; model {run}: {sum(q.numel() for q in recipe.nets['ema'].parameters())} parameters; "
        f"{a.n} samples per FID, 1 thread",
        flush=True,
    )
    result["run"] = str(run)
    ev = json.loads((run / "eval.json").read_text()) if (run / "eval.json").exists() else {}
    if "fid" in ev:
        ok = ev["fid"] < QUICK_BAR["fid"] and ev["coverage"] >= QUICK_BAR["coverage"]
        print(
            f"the run's eval.json: FID {ev['fid']:.1f} (bar < {QUICK_BAR['fid']:g}), coverage {ev['coverage']}/10, "
            f"guided label accuracy {ev.get('guided_label_acc', float('nan')):.3f} (target >= 0.95): {'met' if ok else 'MISSED'}"
        )
    if "samplers" in parts:
        rows = sampler_rows(recipe, a.n, a.skip_ddpm, a.chunk)
        print(table(rows, SAMPLER_COLS))
        result["samplers"] = rows
        by = {r["sampler"]: r for r in rows}
    if "samplers" in parts:
        default = f"{recipe.cfg.sampler}-{recipe.cfg.sample_steps} eta={recipe.cfg.eta:g}"
        for ref in ("ddim-50 eta=1", "ddpm-1000"):
            if default in by and ref in by:
                ratio = by[default]["fid"] / by[ref]["fid"]
                result[f"default_vs_{ref.split()[0]}_fid_ratio"] = ratio
                print(
                    f"default {default} FID {by[default]['fid']:.2f} vs {ref} FID {by[ref]['fid']:.2f}: ratio {ratio:.3f} "
                    f"(target <= 1.10 against DDIM-50) at {by[ref]['evaluations'] / by[default]['evaluations']:.1f}x fewer "
                    f"network evaluations"
                )
    if "speed" not in parts:
        return
    result["speed"] = sp = speed(recipe, threads["threads"])
    nt = threads["threads"]
    dtype = "bf16" if f"sample64_default_bf16_wall_s_{nt}t" in sp else "fp32"
    print(
        f"64 digits, default sampler {sp['default_sampler']} ({sp['evaluations_default']} network evaluations per image), "
        f"{dtype}: {sp[f'sample64_default_{dtype}_wall_s_{nt}t']:.2f} s wall on {nt} threads (target <= 2 s on 2 cores, "
        f"quiet machine only), {sp[f'sample64_default_{dtype}_cpu_s_1t']:.2f} CPU-s on 1 thread; fp32 "
        f"{sp[f'sample64_default_fp32_wall_s_{nt}t']:.2f} s; DDIM-50 {dtype} {sp[f'sample64_ddim50_{dtype}_wall_s_{nt}t']:.2f} s; "
        f"default = {sp[f'sample64_default_{dtype}_wall_s_{nt}t'] / sp[f'matmul1024_s_{nt}t']:.0f} x a 1024^3 matmul "
        f"({sp[f'matmul1024_s_{nt}t'] * 1e3:.1f} ms) on {nt} threads; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
