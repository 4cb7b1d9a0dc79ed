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
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from genlab.config import parse_set_args  # noqa: E402
from genlab.registry import get_recipe  # noqa: E402
from genlab.train.distributed import DistInfo  # noqa: E402
from genlab.train.engine import Batches, build_config  # noqa: E402
from genlab.utils.runtime import seed_everything  # noqa: E402

CONTENDERS = {"book": "vae:book:", "default": "vae:quick:"}
COLUMNS = ("steps", "cpu_s", "elbo", "iwae_bound", "fid", "fid_floor", "precision", "recall", "active_dims", "psnr", "recon_acc")


def train_for(model: str, preset: str, overrides: dict, budget_s: float):
    """Train for ``budget_s`` CPU seconds; returns (recipe, steps, CPU seconds used)."""
    cls = get_recipe(model)
    cfg = build_config(cls, preset, {"steps": 10**9, **overrides})
    seed_everything(cfg.seed)
    recipe = cls(cfg, "cpu")
    data = recipe.load_data()
    batches = Batches(len(data.x_train), cfg.batch_size, cfg.seed, DistInfo())
    recipe.train_mode(True)
    t0, step = time.process_time(), 0
    while time.process_time() - t0 < budget_s:
        idx = batches.indices(step)
        recipe.train_step((data.x_train[idx], data.y_train[idx]), step)
        step += 1
    used = time.process_time() - t0
    recipe.train_mode(False)
    return recipe, step, used


def parse_contender(spec: str) -> tuple[str, str, dict]:
    model, preset, sets = (spec.split(":", 2) + ["", ""])[:3]
    return model, preset or "quick", parse_set_args([s for s in sets.split(",") if s])


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
