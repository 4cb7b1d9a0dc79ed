"""`genlab explore RUN --what ... --out FILE.png`: pictures of a trained autoencoder or VAE."""

from __future__ import annotations

from genlab.errors import GenlabError
from genlab.utils.cliargs import positive_int

WHATS = ("reconstruct", "interpolate", "latent-map", "manifold", "traversal", "denoise")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explore",
        help="pictures of a trained autoencoder / VAE (interpolation, latent map, ...)",
        description="Write a PNG that shows what a trained ae/dae/sparse-ae/vae/beta-vae/cvae learned. "
        "interpolate also writes a GIF next to the PNG.",
    )
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("--what", required=True, choices=WHATS)
    p.add_argument("--out", required=True, help="output .png file")
    p.add_argument("--pair", type=int, nargs=2, metavar=("I", "J"), help="held-out images to interpolate between")
    p.add_argument(
        "--method",
        choices=["linear", "slerp", "both"],
        help="interpolation path (default: both for VAEs, linear otherwise)",
    )
    p.add_argument(
        "--steps", type=positive_int, help="interpolation frames (default 10) / manifold grid side (default 15)"
    )
    p.add_argument("--noise", type=float, default=0.3, help="noise factor for --what denoise (default 0.3)")
    p.add_argument("--projection", choices=["pca", "tsne", "both"], default="both", help="latent map projection")
    p.add_argument("--n", type=positive_int, default=1000, help="held-out images in the latent map (default 1000)")
    p.add_argument(
        "--index",
        type=int,
        default=0,
        help="first held-out image shown (reconstruct, denoise, traversal); the others are spread over the digits",
    )
    p.add_argument("--label", type=int, help="digit for the cvae manifold")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_explore)


def cmd_explore(a) -> None:
    import torch

    from genlab.autoencoders import explore
    from genlab.train.engine import load_run

    if not a.out.lower().endswith(".png"):
        raise GenlabError(f"--out must be a .png file, got {a.out}")
    recipe, store, _ = load_run(a.run, device=a.device)
    if getattr(recipe, "family", "") != "autoencoder":
        raise GenlabError(
            f"explore works on autoencoder runs (ae, dae, sparse-ae, vae, beta-vae, cvae); {store.path} is '{recipe.name}'"
        )
    data = recipe.load_data()
    if not 0 <= a.index < len(data.x_test):
        raise GenlabError(f"--index must be between 0 and {len(data.x_test) - 1}, got {a.index}")
    x, y = data.heldout(16, start=a.index)
    with torch.no_grad():
        if a.what == "reconstruct":
            paths = [explore.reconstruction_grid(recipe, x, a.out, y if recipe.conditional else None)]
        elif a.what == "interpolate":
            methods = None if a.method in (None, "both") else [a.method]
            paths = explore.interpolation(recipe, data, a.out, pair=a.pair, steps=a.steps or 10, methods=methods)
        elif a.what == "latent-map":
            paths = [explore.latent_map(recipe, data, a.out, projection=a.projection, n=a.n)]
        elif a.what == "manifold":
            paths = [explore.manifold(recipe, a.out, n=a.steps or 15, label=a.label)]
        elif a.what == "traversal":
            path, eff = explore.traversal(recipe, x[:1], a.out)
            paths = [path]
            print(
                f"active dims {eff['active_dims']}, effective dims {eff['effective_dims']:.2f}, style dims {eff['style_dims']}"
            )
        else:
            if recipe.conditional:
                raise GenlabError("denoise needs an unconditional model (ae, dae, sparse-ae, vae, beta-vae)")
            paths = [explore.denoise(recipe, x, a.out, noise=a.noise)]
    print("wrote " + " and ".join(str(p) for p in paths))
