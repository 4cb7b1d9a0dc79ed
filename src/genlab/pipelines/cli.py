"""`genlab generate`: prompts in, digits out, with a trained text2image run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genlab.cli import positive_int
from genlab.errors import GenlabError


def cmd_generate(a):
    from genlab.pipelines.t2i_metrics import stages_grid
    from genlab.pipelines.text2image import MAX_CANDIDATES, MAX_IMAGES, TextToImage, check_prompts
    from genlab.utils.images import save_grid, save_png, to_uint8
    from genlab.utils.io import write_npy_atomic

    if a.out is None and a.png is None:
        raise GenlabError("say where the images go: --out FILE.npy and/or --png FILE.png")
    if a.out is not None and not a.out.endswith(".npy"):
        raise GenlabError(f"--out must be a .npy file, got {a.out}")
    if a.png is not None and not a.png.lower().endswith(".png"):
        raise GenlabError(f"--png must be a .png file, got {a.png}")
    if a.stages and a.backend == "diffusion":
        raise GenlabError("--stages shows the VAE base next to the refined image; the diffusion backend has no base stage")
    n, k = a.n, a.candidates
    if n > MAX_IMAGES:
        print(f"genlab: --n {n} is more than {MAX_IMAGES} images per prompt; generating {MAX_IMAGES}", file=sys.stderr)
        n = MAX_IMAGES
    if k > MAX_CANDIDATES:
        print(f"genlab: --candidates {k} is more than {MAX_CANDIDATES}; using {MAX_CANDIDATES}", file=sys.stderr)
        k = MAX_CANDIDATES
    prompts = check_prompts(a.prompt)  # before the (slower) model load
    t2i = TextToImage.from_runs(a.model, device=a.device)
    gen = t2i(prompts, n=n, seed=a.seed, candidates=k, backend=a.backend, temperature=a.temperature, guidance=a.guidance)
    arr = to_uint8(gen.images)
    written = []
    if a.out:
        write_npy_atomic(a.out, arr)
        written.append(a.out)
    if a.png:
        save_grid(a.png, arr[:256], nrow=min(n, 16))
        written.append(a.png)
    if a.stages:
        path = Path(a.png or a.out)
        path = path.with_name(path.stem + "_stages.png")
        save_png(path, stages_grid(gen, nrow=min(n, 16)), scale=2)
        written.append(str(path))
    per_prompt = [{"prompt": p, "clip_score": float(gen.for_prompt(i).scores.mean())} for i, p in enumerate(gen.prompts)]
    if a.json:
        print(json.dumps({"shape": list(arr.shape), "backend": gen.backend, "candidates": k, "seconds": gen.seconds,
                          "files": written, "prompts": per_prompt}))
        return
    print(f"generated {arr.shape[0]} images ({gen.backend}, {k} candidate(s) each) in {gen.seconds:.2f} s"
          + (f"; wrote {', '.join(written)}" if written else ""))
    for p in per_prompt:
        print(f"  {p['clip_score']:.3f}  {p['prompt']}")


def non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return v


def register(sub) -> None:
    g = sub.add_parser("generate", help="text to image: digits from a prompt with a text2image run",
                       description="Generate digits from text prompts with a trained text2image run "
                                   "(CLIP text encoder -> VAE -> GAN refiner, or the diffusion backend). "
                                   "--out writes uint8 (N, 28, 28), N = prompts x --n, prompt after prompt.")
    g.add_argument("prompt", nargs="+", help="one or more prompts, e.g. 'a bold seven slanted right'")
    g.add_argument("--n", type=positive_int, default=16, help="images per prompt (default 16)")
    g.add_argument("--out", help="output .npy file (uint8, ink bright on dark)")
    g.add_argument("--png", help="also write a grid of (up to 256) images as PNG")
    g.add_argument("--model", metavar="RUN_DIR", help="text2image run (default: the newest under ./runs or $GENLAB_RUNS)")
    g.add_argument("--backend", choices=["vae-gan", "diffusion"], default="vae-gan")
    g.add_argument("--candidates", type=positive_int, default=1, metavar="K", help="draw K candidates per image and keep the best by CLIP similarity")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--stages", action="store_true", help="also write NAME_stages.png: VAE base images next to the refined ones")
    g.add_argument("--temperature", type=non_negative_float, help="scale of the VAE latent noise (vae-gan)")
    g.add_argument("--guidance", type=non_negative_float, help="classifier-free guidance weight (diffusion)")
    g.add_argument("--device", default="cpu")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(func=cmd_generate)
