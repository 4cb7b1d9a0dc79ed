"""VAEs: held-out ELBO / IWAE and sample quality against training CPU-seconds, beside the book's VAE trained as the book trains it.

Every contender is trained on one thread with the engine's batch order and the recipe's own
``train_step`` for its full schedule (the book's VAE: 50 epochs of the 4,000 training digits);
at several checkpoints it is scored on the 1,000 held-out digits: ELBO and IWAE bound (k=64,
nats per image, Bernoulli likelihood, higher is better) and, with genlab's evaluator, FID,
precision, recall, coverage and the rarest digit's share of 1,000 samples. A VAE whose sampler
is the latent mixture fitted after training (``sampler=gmm``) reports its samples' figures and,
as ``prior_*``, those of samples from the N(0, I) prior; at checkpoints before the end the
mixture is fitted to the codes of that moment, as training's end would. ``recon_fid`` scores
the reconstructions of the held-out digits: what the decoder can draw at best. ``cpu_s``
counts training (and, at the last checkpoint, the mixture fit), not the scoring. ``--betas`` also compares the
disentanglement indicator of the latent traversal across beta values.

    python -m bench vae                                  # the default contenders below
    python -m bench vae --only=vae-quick --points=3
    python bench/bench_vae.py --contender=w32=vae:quick:width=32 --only=w32
    python -m bench vae --betas=1,4,8 --only=none        # + active / effective dims per beta
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.bench_gan import class_balance, parse_args, run_contenders  # noqa: E402

CONTENDERS = {
    "vae-quick": ("vae:quick:", None),
    "vae-book": ("vae:book:", 50),
}
FULL = {"vae-full": ("vae:full:", None)}
COLUMNS = [
    "contender",
    "step",
    "epochs",
    "cpu_s",
    "elbo",
    "iwae_bound",
    "fid",
    "precision",
    "recall",
    "coverage",
    "min_share",
    "prior_fid",
    "recon_fid",
]


def score_vae(recipe, data) -> dict:
    from genlab.metrics.quality import sample_quality

    if (
        "gmm" in recipe.nets and not recipe.gmm
    ):  # a checkpoint before the end: fit the mixture now, as the end of training does
        t0 = time.process_time()
        recipe.fit_sampler()
        print(f"  (mixture fitted in {time.process_time() - t0:.1f} CPU-s)", flush=True)
    m = recipe.evaluate(data)
    x = recipe.sample(1000, generator=torch.Generator().manual_seed(recipe.cfg.seed + 1))
    if "gmm" in recipe.nets:
        recipe.nets["gmm"].fitted.zero_()  # refitted at the next checkpoint
    keep = (
        "elbo",
        "iwae_bound",
        "fid",
        "fid_floor",
        "precision",
        "recall",
        "coverage",
        "prior_fid",
        "prior_precision",
        "prior_recall",
        "active_dims",
    )
    return {
        **{k: m[k] for k in keep if k in m},
        "recon_fid": sample_quality(recipe.reconstruct(data.x_test).cpu())["fid"],
        **class_balance(x),
    }


def compare_betas(betas: str) -> None:
    from bench.bench_gan import train_curve
    from genlab.autoencoders.explore import held_out_sample, traversal_effects

    print("\nbeta   active_dims  effective_dims  style_dims  elbo   (beta-vae quick)")
    for beta in betas.split(","):
        holder = {}

        def score(recipe, data, holder=holder):  # called within this iteration
            holder["recipe"] = recipe
            return {}

        train_curve("beta-vae", "quick", {"beta": float(beta)}, None, 1, score, f"beta={beta}")
        recipe = holder["recipe"]
        with torch.no_grad():
            eff = traversal_effects(recipe, held_out_sample(recipe))
            elbo = float(recipe.log_weights(recipe.load_data().x_test, k=1).mean())
        print(
            f"{float(beta):<6g} {eff['active_dims']:>11} {eff['effective_dims']:>15.2f} {eff['style_dims']:>11}  {elbo:.1f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    betas = next((a.split("=", 1)[1] for a in argv if a.startswith("--betas=")), None)
    specs, points = parse_args([a for a in argv if not a.startswith("--betas=")], CONTENDERS, FULL, __doc__)
    print(
        f"held-out: 1,000 digits; 1,000 samples at {points} checkpoints per run; CPU-s of training on 1 thread",
        flush=True,
    )
    run_contenders(specs, points, score_vae, COLUMNS, "vae")
    if betas:
        compare_betas(betas)


if __name__ == "__main__":
    main()
