"""GANs: sample quality against training CPU-seconds, each preset beside the book's DCGAN trained as the book trains it.

Every contender is trained on one thread with the engine's batch order and the recipe's own
``train_step`` for its full schedule (the book's DCGAN: 30 epochs of the 4,000 training digits,
BCE, Adam 2e-4); at several checkpoints along the way it is scored on 1,000 samples against the
1,000 held-out digits with genlab's evaluator: FID, precision, recall, coverage (digit classes
with at least 1% of the samples) and the share of the rarest digit (``min_share``; 0.10 is a
perfect balance). ``cpu_s`` counts training only (process time, so other load on a shared
machine slows every contender alike); scoring is not counted. The CycleGAN translates held-out
thin and bold digits: ``class_kept`` is how often the evaluator still reads the same digit, FID
scores the translations. Noise and real training digits are scored as the two ends of the scale.

    python -m bench gan                                   # the default contenders below
    python -m bench gan --only=dcgan-quick,dcgan-book     # some of them (options take '=' under python -m bench)
    python -m bench gan --full                            # + dcgan's full preset (30,000 steps)
    python bench/bench_gan.py --contender=r1=dcgan:quick:loss=ns,r1_gamma=1 --only=r1 --points=3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.common import machine, parse_contender, save_result, table  # noqa: E402

#: name -> (MODEL:PRESET:overrides, epochs): epochs (of the 4,000 training digits) replace the preset's steps
CONTENDERS = {
    "dcgan-quick": ("dcgan:quick:", None),
    "dcgan-book": ("dcgan:book:", 30),
    "cgan-quick": ("cgan:quick:", None),
    "stylegan-quick": ("stylegan:quick:", None),
    "cyclegan-quick": ("cyclegan:quick:", None),
}
FULL = {"dcgan-full": ("dcgan:full:", None)}
COLUMNS = [
    "contender",
    "step",
    "epochs",
    "cpu_s",
    "fid",
    "precision",
    "recall",
    "coverage",
    "min_share",
    "label_acc",
    "class_kept",
]
EVAL_SAMPLES = 1000


def checkpoints(steps: int, points: int) -> list[int]:
    """``points`` steps spread over a run of ``steps``, the last one ``steps``."""
    return sorted({max(1, round(steps * (i + 1) / points)) for i in range(points)})


def train_curve(
    model: str, preset: str, overrides: dict, epochs: int | None, points: int, score, label: str
) -> list[dict]:
    """Train a genlab model for its preset's steps (or ``epochs``), one thread, calling ``score(recipe)`` at
    ``points`` checkpoints; returns one row per checkpoint with the training CPU-seconds up to it."""
    from genlab.registry import get_recipe
    from genlab.train.distributed import DistInfo
    from genlab.train.engine import Batches, build_config, step_context
    from genlab.utils.runtime import seed_everything

    cls = get_recipe(model)
    cfg = build_config(cls, preset, overrides)
    seed_everything(cfg.seed)
    recipe = cls(cfg, "cpu")
    data = recipe.load_data()
    batches = Batches(len(data.x_train), cfg.batch_size, cfg.seed, DistInfo())
    steps = epochs * batches.per_epoch if epochs else cfg.steps
    in_step = step_context(cfg, torch.device("cpu"))
    rows, step, cpu = [], 0, 0.0
    for ck in checkpoints(steps, points):
        recipe.train_mode(True)
        t0 = time.process_time()
        while step < ck:
            idx = batches.indices(step)
            with in_step():
                recipe.train_step((data.x_train[idx], data.y_train[idx]), step)
            step += 1
        if step == steps:
            recipe.finish_training(step)
        cpu += time.process_time() - t0
        recipe.train_mode(False)
        with torch.no_grad():
            row = {
                "contender": label,
                "step": step,
                "epochs": round(step / batches.per_epoch, 1),
                "cpu_s": round(cpu, 1),
                **score(recipe, data),
            }
        rows.append(row)
        print(
            "  "
            + "  ".join(
                f"{k}={row[k]:.4g}" if isinstance(row[k], float) else f"{k}={row[k]}" for k in COLUMNS if k in row
            ),
            flush=True,
        )
    return rows


def class_balance(x: torch.Tensor) -> dict:
    """The evaluator's reading of samples: the share of the rarest digit."""
    from genlab.metrics.evaluator import get_evaluator

    share = np.bincount(get_evaluator().predict(x).cpu().numpy(), minlength=10) / len(x)
    return {"min_share": float(share.min()), "class_shares": [round(float(s), 3) for s in share]}


def score_gan(recipe, data) -> dict:
    from genlab.gans.base import EVAL_SEED
    from genlab.metrics.quality import sample_quality

    if recipe.name == "cyclegan":
        m = recipe.evaluate(data)
        (xa, _), (xb, _) = recipe.held_out_domains(data)
        x = torch.cat([recipe.translate(xa, "a2b"), recipe.translate(xb, "b2a")])
        return {
            **{k: m[k] for k in ("class_kept", "thickness_moved_a2b", "thickness_moved_b2a")},
            **sample_quality(x),
            **class_balance(x),
        }
    x, y = recipe.sample_in_chunks(EVAL_SAMPLES, recipe.cfg.seed + EVAL_SEED)
    return {**sample_quality(x.cpu(), labels=y), **class_balance(x)}


def reference_rows() -> list[dict]:
    from genlab.data.datasets import embedded_mnist
    from genlab.metrics.quality import sample_quality

    x = embedded_mnist().x_train
    real = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:EVAL_SAMPLES]]
    noise = torch.rand(EVAL_SAMPLES, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    return [
        {"contender": "(real digits)", **sample_quality(real), **class_balance(real)},
        {"contender": "(uniform noise)", **sample_quality(noise), **class_balance(noise)},
    ]


def header() -> dict:
    info = {**machine(), "cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads()}
    print(
        f"machine: {info['cpu']}, torch {info['torch']}, cpu capability {info['cpu_capability']}, {info['threads']} thread",
        flush=True,
    )
    return info


def run_contenders(specs: dict, points: int, score, columns: list[str], name: str, extra_rows=()) -> list[dict]:
    torch.set_num_threads(1)
    info = header()
    rows = list(extra_rows)
    for label, (spec, epochs) in specs.items():
        model, preset, overrides = parse_contender(spec)
        print(f"{label}: {spec}" + (f" for {epochs} epochs" if epochs else ""), flush=True)
        rows += train_curve(model, preset, overrides, epochs, points, score, label)
    print(table(rows, columns))
    print(f"cpu capability: {info['cpu_capability']}")
    path = save_result(name, {"threads": 1, "machine": info, "rows": rows})
    print(f"results in {path}")
    return rows


def parse_args(argv, defaults: dict, extra: dict, doc: str):
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument(
        "--contender",
        action="append",
        default=[],
        metavar="NAME=MODEL:PRESET:k=v,k=v",
        help="extra contender, e.g. r1=dcgan:quick:loss=ns,r1_gamma=1",
    )
    p.add_argument("--only", help="comma-separated contender names to run (default all)")
    p.add_argument("--full", action="store_true", help=f"also the full presets ({', '.join(extra)})")
    p.add_argument("--points", type=int, default=5, help="checkpoints scored along each run")
    a = p.parse_args(argv)
    specs = dict(
        defaults, **(extra if a.full else {}), **{k: (v, None) for k, v in (c.split("=", 1) for c in a.contender)}
    )
    if a.only:
        wanted = a.only.split(",")
        specs = {k: v for k, v in {**defaults, **extra, **specs}.items() if k in wanted}
    return specs, a.points


def main(argv: list[str] | None = None) -> None:
    specs, points = parse_args(argv, CONTENDERS, FULL, __doc__)
    print(
        f"{EVAL_SAMPLES:,} samples vs 1,000 held-out digits at {points} checkpoints per run; CPU-s of training on 1 thread",
        flush=True,
    )
    run_contenders(specs, points, score_gan, COLUMNS, "gan", reference_rows())


if __name__ == "__main__":
    main()
