"""Default VAE vs the book's VAE at equal training time: held-out ELBO / IWAE and prior-sample FID.

Each contender is trained single-threaded for the same budget of CPU seconds (process time,
so other load on a shared machine slows both alike instead of biasing the comparison), with
the engine's batch order and the recipe's own ``train_step``; then ``evaluate`` scores it on
the 1,000 held-out digits: ELBO and IWAE bound (k=64, nats per image, higher is better) and
evaluator-FID / precision / recall of 1,000 prior samples. ``--betas`` also compares the
disentanglement indicator of the latent traversal across beta values.

    python bench/bench_vae.py                       # default (conv) vs book (MLP), 240 CPU-s each
    python bench/bench_vae.py --budget 60 --contender conv16=vae:quick:width=16
    python bench/bench_vae.py --betas 1,4,8         # + active / effective dims per beta
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.common import parse_contender, train_for  # noqa: E402


CONTENDERS = {"book": "vae:book:", "default": "vae:quick:"}
COLUMNS = ("steps", "cpu_s", "elbo", "iwae_bound", "fid", "fid_floor", "precision", "recall", "active_dims", "psnr", "recon_acc")


def row(name: str, metrics: dict) -> str:
    cells = [f"{metrics[c]:.4g}" if isinstance(metrics.get(c), float) else str(metrics.get(c, "-")) for c in COLUMNS]
    return f"{name:<14}" + "".join(f"{c:>12}" for c in cells)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=240.0, help="CPU seconds of training per contender")
    p.add_argument("--contender", action="append", default=[], metavar="NAME=MODEL:PRESET:k=v,k=v",
                   help="extra contender, e.g. conv16=vae:quick:width=16")
    p.add_argument("--only", help="comma-separated contender names to run (default all)")
    p.add_argument("--betas", help="also compare beta values (e.g. 1,4,8): traversal disentanglement indicator")
    a = p.parse_args()
    torch.set_num_threads(1)

    specs = dict(CONTENDERS, **dict(c.split("=", 1) for c in a.contender))
    if a.only:
        specs = {k: v for k, v in specs.items() if k in a.only.split(",")}
    print(f"training budget: {a.budget:g} CPU-seconds per contender, 1 thread; held-out: 1,000 digits")
    print(f"{'contender':<14}" + "".join(f"{c:>12}" for c in COLUMNS))
    for name, spec in specs.items():
        model, preset, overrides = parse_contender(spec)
        recipe, steps, used = train_for(model, preset, overrides, a.budget)
        print(row(name, {"steps": steps, "cpu_s": used, **recipe.evaluate(recipe.load_data())}), flush=True)

    if a.betas:
        from genlab.autoencoders.explore import held_out_sample, traversal_effects

        print("\nbeta   active_dims  effective_dims  style_dims  elbo   (default arch, same budget)")
        for beta in a.betas.split(","):
            recipe, _, _ = train_for("beta-vae", "quick", {"beta": float(beta)}, a.budget)
            with torch.no_grad():
                eff = traversal_effects(recipe, held_out_sample(recipe))
                elbo = float(recipe.log_weights(recipe.load_data().x_test, k=1).mean())
            print(f"{float(beta):<6g} {eff['active_dims']:>11} {eff['effective_dims']:>15.2f} {eff['style_dims']:>11}  {elbo:.1f}", flush=True)


if __name__ == "__main__":
    main()
