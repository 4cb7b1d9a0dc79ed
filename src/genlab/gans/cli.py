"""`genlab translate`: apply a trained CycleGAN run to images in a .npy file."""

from __future__ import annotations

from genlab.errors import GenlabError


def cmd_translate(a):
    import numpy as np

    from genlab.data.datasets import load_images_npy
    from genlab.train.engine import load_run
    from genlab.utils.images import save_grid, to_uint8
    from genlab.utils.io import write_npy_atomic

    if not a.out.endswith(".npy"):
        raise GenlabError(f"--out must be a .npy file, got {a.out}")
    x = load_images_npy(a.inp)
    recipe, _, _ = load_run(a.run, device=a.device)
    if not hasattr(recipe, "translate"):
        raise GenlabError(f"{a.run} is a '{recipe.name}' run; translate needs a cyclegan run (genlab train cyclegan)")
    y = recipe.translate(x, a.direction, batch=a.batch)
    arr = to_uint8(y)
    write_npy_atomic(a.out, arr)
    if a.png:
        k = min(len(x), 16)
        save_grid(a.png, np.concatenate([to_uint8(x[:k]), arr[:k]]), nrow=k, scale=3)
    print(
        f"translated {len(arr)} images {a.direction} into {a.out}"
        + (f" (originals over translations in {a.png})" if a.png else "")
    )


def register(sub) -> None:
    from genlab.utils.cliargs import positive_int

    t = sub.add_parser(
        "translate",
        help="translate images with a trained CycleGAN run",
        description="Translate images between a CycleGAN run's two domains (a2b: thin -> bold strokes, b2a: bold -> thin). "
        "Writes uint8 images like genlab sample does.",
    )
    t.add_argument("run", metavar="RUN_DIR")
    t.add_argument("--direction", choices=["a2b", "b2a"], required=True)
    t.add_argument(
        "--in",
        dest="inp",
        required=True,
        metavar="FILE.npy",
        help="images (N, H, W) or (N, C, H, W), uint8 or float in [0, 1]",
    )
    t.add_argument("--out", required=True, metavar="FILE.npy", help="translated images, uint8")
    t.add_argument("--png", metavar="FILE.png", help="also write originals over translations (first 16)")
    t.add_argument("--batch", type=positive_int, default=256, help="images per forward pass")
    t.add_argument("--device", default="cpu")
    t.set_defaults(func=cmd_translate)
