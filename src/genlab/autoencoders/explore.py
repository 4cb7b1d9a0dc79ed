"""Looking inside a trained autoencoder: reconstructions, interpolations, denoising, latent maps,
the decoded manifold of a 2-D VAE and latent traversals with a disentanglement indicator.

Every function takes a loaded recipe (``genlab.train.engine.load_run(RUN)[0]`` or the recipe
at the end of training) and writes a PNG; ``genlab explore RUN --what ...`` calls them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genlab.autoencoders.base import add_noise
from genlab.data.datasets import spread
from genlab.errors import GenlabError
from genlab.utils.images import make_grid, save_gif, save_grid, to_uint8
from genlab.utils.io import save_figure

INTERPOLATIONS = ("linear", "slerp")


def _is_vae(recipe) -> bool:
    return hasattr(recipe, "prior")


def _require_vae(recipe, what: str) -> None:
    if not _is_vae(recipe):
        raise GenlabError(f"{what} needs a model with a prior (vae, beta-vae, cvae); this run is '{recipe.name}'")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@torch.no_grad()
def reconstruction_grid(recipe, x, path, y=None) -> Path:
    """Originals (top row) over their reconstructions (bottom row)."""
    return save_grid(path, torch.cat([x.to(recipe.device), recipe.reconstruct(x, y)]), nrow=len(x))


def pick_pair(data, pair: tuple[int, int] | None = None) -> tuple[int, int]:
    """Two held-out indices: ``pair`` if given, else the first image and the first of another digit."""
    n = len(data.x_test)
    if pair is not None:
        bad = [i for i in pair if not 0 <= i < n]
        if bad:
            raise GenlabError(f"--pair index {bad[0]} is out of range; the held-out split has {n} images (0..{n - 1})")
        return int(pair[0]), int(pair[1])
    other = torch.nonzero(data.y_test != data.y_test[0]).flatten()
    return 0, int(other[0]) if len(other) else min(1, n - 1)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows a and b (1, D) at fractions t (T,) -> (T, D)."""
    omega = torch.arccos(torch.nn.functional.cosine_similarity(a, b).clamp(-1 + 1e-6, 1 - 1e-6))
    t = t[:, None]
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate_codes(za, zb, steps: int, method: str) -> torch.Tensor:
    t = torch.linspace(0, 1, steps, device=za.device)
    if method == "slerp":
        return slerp(za, zb, t)
    if method == "linear":
        return torch.lerp(za, zb, t[:, None])
    raise GenlabError(f"unknown interpolation '{method}'; choose one of: {', '.join(INTERPOLATIONS)}")


@torch.no_grad()
def interpolation(recipe, data, path, pair=None, steps: int = 10, methods=None) -> list[Path]:
    """Decode codes on the path between two held-out images: a PNG strip (one row per method,
    original images at both ends) and a GIF of the last row. VAEs show linear and spherical
    paths, the plain autoencoders the linear one."""
    methods = list(methods or (INTERPOLATIONS if _is_vae(recipe) else ("linear",)))
    if steps < 2:
        raise GenlabError(f"--steps must be at least 2 for an interpolation, got {steps}")
    i, j = pick_pair(data, pair)
    x = data.x_test[[i, j]].to(recipe.device)
    y = data.y_test[[i, j]].to(recipe.device)
    z = recipe.encode(x, y if recipe.conditional else None)
    c = None
    if recipe.conditional:  # the label moves along with the code
        c = torch.lerp(*recipe.condition(y).chunk(2), torch.linspace(0, 1, steps, device=recipe.device)[:, None])
    rows = []
    for m in methods:
        frames = recipe.decode(interpolate_codes(z[:1], z[1:], steps, m), c)
        rows.append(torch.cat([x[:1], frames, x[1:]]))
    path = Path(path)
    png = save_grid(path, torch.cat(rows), nrow=steps + 2)
    frames = to_uint8(rows[-1][1:-1])
    if frames.ndim == 4:
        frames = frames.transpose(0, 2, 3, 1)
    gif = save_gif(path.with_suffix(".gif"), [*frames, *frames[-2:0:-1]], duration_ms=120)  # there and back
    return [png, gif]


@torch.no_grad()
def denoise(recipe, x, path, noise: float = 0.3, seed: int = 0) -> Path:
    """Rows: noisy input, the model's output, the clean target."""
    if not 0 <= noise <= 1:
        raise GenlabError(f"--noise must be between 0 and 1, got {noise}")
    x = x.to(recipe.device)
    noisy = add_noise(x, noise, torch.Generator(device=x.device).manual_seed(seed))
    return save_grid(path, torch.cat([noisy, recipe.reconstruct(noisy), x]), nrow=len(x))


@torch.no_grad()
def held_out_codes(recipe, data, n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    x, y = data.heldout(n)
    x = x.to(recipe.device)
    z = recipe.encode(x, y.to(recipe.device) if recipe.conditional else None)
    return z.cpu().numpy(), y.numpy()


def project(z: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """2-D projection of codes with scikit-learn: PCA or t-SNE."""
    if z.shape[1] == 2 and method == "pca":
        return z
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(z)
    if method == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(
            n_components=2, init="pca", perplexity=min(30.0, (len(z) - 1) / 3), random_state=seed
        ).fit_transform(z)
    raise GenlabError(f"unknown projection '{method}'; choose pca, tsne or both")


def latent_map(recipe, data, path, projection: str = "both", n: int = 1000) -> Path:
    """Held-out codes projected to 2-D (PCA and/or t-SNE), one colour per class."""
    z, y = held_out_codes(recipe, data, n)
    methods = ["pca", "tsne"] if projection == "both" else [projection]
    plt = _plt()
    fig, axes = plt.subplots(1, len(methods), figsize=(5.2 * len(methods), 4.6), squeeze=False)
    for ax, m in zip(axes[0], methods):
        p = project(z, m)
        sc = ax.scatter(p[:, 0], p[:, 1], c=y, cmap="tab10", s=7, vmin=-0.5, vmax=9.5)
        ax.set_title(
            f"{recipe.name}: {m.upper() if m == 'pca' else 't-SNE'} of {len(z)} held-out codes (dim {z.shape[1]})",
            fontsize=9,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(sc, ax=axes[0].tolist(), ticks=range(10), label="digit")
    return save_figure(fig, path)


@torch.no_grad()
def manifold(recipe, path, n: int = 15, label: int | None = None) -> Path:
    """Decoded grid over a 2-D latent: z at Gaussian quantiles 5%..95% on each axis."""
    _require_vae(recipe, "the manifold grid")
    if recipe.cfg.latent_dim != 2:
        raise GenlabError(
            f"the manifold grid needs a VAE trained with a 2-D latent (this one has {recipe.cfg.latent_dim}); "
            f"train one with: genlab train {recipe.name} --set latent_dim=2"
        )
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, n))
    zy, zx = torch.meshgrid(q.flip(0), q, indexing="ij")
    z = torch.stack([zx.flatten(), zy.flatten()], 1).to(recipe.device)
    y = None
    if recipe.conditional:
        y = torch.full((len(z),), 0 if label is None else label, dtype=torch.long)
    return save_grid(path, recipe.decode(z, y), nrow=n, scale=1)


def held_out_sample(recipe, n: int = 64) -> torch.Tensor:
    """``n`` held-out images spread over the digits (the default set for traversal effects)."""
    x = recipe.load_data().x_test
    return x[spread(len(x), n)]


@torch.no_grad()
def traversal_effects(recipe, x, values=(-2.0, -1.0, 0.0, 1.0, 2.0)) -> dict:
    """A disentanglement indicator from the evaluator's view of latent traversals.

    For each latent dimension j, z_j of held-out codes is set to each of ``values`` and the
    decoded images are passed through the MNIST evaluator. Per dimension:
    ``effect`` = mean distance of the evaluator features from their traversal mean, relative
    to the mean feature distance between two different real held-out digits;
    ``class_flip`` = fraction of traversed images whose predicted digit changes.
    Summaries: ``active_dims`` (mean KL > 0.01 nats), ``effective_dims`` = (sum e)^2 / sum e^2
    (how many dimensions share the visible change: fewer means a more factorised latent),
    ``style_dims`` (dimensions with effect > 0.1 that flip the digit less than 20% of the time).
    """
    from genlab.autoencoders.losses import kl_per_dim
    from genlab.autoencoders.vae import ACTIVE_KL
    from genlab.metrics.evaluator import get_evaluator

    if not _is_vae(recipe) or recipe.conditional:
        raise GenlabError(f"a latent traversal needs an unconditional VAE (vae, beta-vae); this run is '{recipe.name}'")
    ev = get_evaluator()
    x = x.to(recipe.device)
    mu, logvar = recipe.sampler_net.encode(x, None)
    kl = kl_per_dim(mu, logvar).mean(0)
    p0 = ev.predict(recipe.decode(mu))
    real = ev.features(x)
    scale = (real - real.roll(1, 0)).norm(dim=1).mean().clamp_min(1e-8)
    effect, flip = [], []
    for j in range(mu.shape[1]):
        z = mu.repeat(len(values), 1)
        z[:, j] = torch.tensor(values, device=mu.device).repeat_interleave(len(mu))
        imgs = recipe.decode(z)
        f = ev.features(imgs).view(len(values), len(mu), -1)
        effect.append(float((f - f.mean(0)).norm(dim=2).mean() / scale))
        flip.append(float((ev.predict(imgs).view(len(values), -1) != p0).float().mean()))
    e = np.asarray(effect)
    return {
        "kl_per_dim": kl.tolist(),
        "effect": effect,
        "class_flip": flip,
        "active_dims": int((kl > ACTIVE_KL).sum()),
        "effective_dims": float(e.sum() ** 2 / max((e**2).sum(), 1e-12)),
        "style_dims": int(sum(1 for ej, fj in zip(effect, flip) if ej > 0.1 and fj < 0.2)),
    }


@torch.no_grad()
def traversal(recipe, x, path, n_dims: int = 10, values=None, effects: dict | None = None) -> tuple[Path, dict]:
    """One row per latent dimension (the ``n_dims`` with the largest KL): z_j swept over
    ``values`` from the code of image ``x[0]``; each row is labelled with its KL, evaluator
    effect and digit-flip rate (``effects`` from :func:`traversal_effects`, computed on 64
    held-out digits when not given)."""
    if values is None:
        values = torch.linspace(-3, 3, 9).tolist()
    eff = effects if effects is not None else traversal_effects(recipe, held_out_sample(recipe))
    dims = np.argsort(eff["kl_per_dim"])[::-1][:n_dims]
    mu = recipe.encode(x[:1].to(recipe.device))
    rows = []
    for j in dims:
        z = mu.repeat(len(values), 1)
        z[:, j] = torch.tensor(values, device=mu.device)
        rows.append(recipe.decode(z))
    grid = make_grid(torch.cat(rows), nrow=len(values))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.2 + 0.55 * len(values), 0.55 * len(dims) + 1.2))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None)
    h = grid.shape[0] / len(dims)
    ax.set_yticks([h * (k + 0.5) for k in range(len(dims))])
    ax.set_yticklabels(
        [
            f"z{j}  KL {eff['kl_per_dim'][j]:.2f}  eff {eff['effect'][j]:.2f}  flip {eff['class_flip'][j]:.0%}"
            for j in dims
        ],
        fontsize=7,
    )
    w = grid.shape[1] / len(values)
    ax.set_xticks([w * (k + 0.5) for k in range(len(values))])
    ax.set_xticklabels([f"{v:+.1f}" for v in values], fontsize=7)
    ax.set_title(
        f"{recipe.name} (beta={recipe.cfg.beta:g}): active dims {eff['active_dims']}, "
        f"effective dims {eff['effective_dims']:.1f}",
        fontsize=9,
    )
    fig.tight_layout()
    return save_figure(fig, path), eff
