"""Default DCGAN vs the book's DCGAN at equal training time: evaluator-FID and digit coverage.

Each contender is trained single-threaded for the same budget of CPU seconds (process time, so
other load on a shared machine slows both alike instead of biasing the comparison), with the
engine's batch order and the recipe's own ``train_step``; then ``evaluate`` scores 1,000
samples against the 1,000 held-out digits (evaluator-FID, KID, precision, recall, coverage of
the 10 digits, class entropy in bits). Noise and real training digits are scored too, as the
two ends of the scale.

    python bench/bench_gan.py                      # default vs book, 150 CPU-s each
    python bench/bench_gan.py --budget 60 --contender nosn=dcgan:quick:spectral_norm=false,loss=ns
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.common import machine, parse_contender, save_result, table, train_for  # noqa: E402

CONTENDERS = {"default": "dcgan:quick:", "book": "dcgan:book:"}
COLUMNS = ["contender", "steps", "cpu_s", "fid", "kid", "precision", "recall", "coverage", "class_entropy"]


def reference_rows() -> list[dict]:
    from genlab.data.datasets import embedded_mnist
    from genlab.metrics.quality import sample_quality

    x = embedded_mnist().x_train
    real = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:1000]]
    noise = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    return [{"contender": "(real digits)", **sample_quality(real)}, {"contender": "(uniform noise)", **sample_quality(noise)}]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=150.0, help="CPU seconds of training per contender")
    p.add_argument("--contender", action="append", default=[], metavar="NAME=MODEL:PRESET:k=v,k=v",
                   help="extra contender, e.g. nosn=dcgan:quick:spectral_norm=false")
    p.add_argument("--only", help="comma-separated contender names to run (default all)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)

    specs = dict(CONTENDERS, **dict(c.split("=", 1) for c in a.contender))
    if a.only:
        specs = {k: v for k, v in specs.items() if k in a.only.split(",")}
    print(f"training budget: {a.budget:g} CPU-seconds per contender, 1 thread; 1,000 samples vs 1,000 held-out digits", flush=True)
    rows = reference_rows()
    for name, spec in specs.items():
        model, preset, overrides = parse_contender(spec)
        recipe, steps, used = train_for(model, preset, overrides, a.budget)
        with torch.no_grad():
            metrics = recipe.evaluate(recipe.load_data())
        rows.append({"contender": name, "spec": spec, "steps": steps, "cpu_s": round(used, 1), **metrics})
        print(f"{name}: {steps} steps in {used:.0f} CPU-s, FID {metrics['fid']:.1f}, coverage {metrics['coverage']}", flush=True)
    print(table(rows, COLUMNS))
    path = save_result("gan", {"budget_cpu_s": a.budget, "threads": 1, "machine": machine(), "rows": rows})
    print(f"results in {path}")


if __name__ == "__main__":
    main()
