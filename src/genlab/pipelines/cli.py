"""`genlab generate` (prompts in, digits out, with a trained text2image run) and `genlab search
index|query` (the image search engine over a CLIP run)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from genlab.errors import GenlabError
from genlab.utils.cliargs import add_actions, non_negative_float, positive_int


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
        raise GenlabError(
            "--stages shows the VAE base next to the refined image; the diffusion backend has no base stage"
        )
    n, k = a.n, a.candidates
    if n > MAX_IMAGES:
        print(f"genlab: --n {n} is more than {MAX_IMAGES} images per prompt; generating {MAX_IMAGES}", file=sys.stderr)
        n = MAX_IMAGES
    if k > MAX_CANDIDATES:
        print(f"genlab: --candidates {k} is more than {MAX_CANDIDATES}; using {MAX_CANDIDATES}", file=sys.stderr)
        k = MAX_CANDIDATES
    prompts = check_prompts(a.prompt)  # before the (slower) model load
    t2i = TextToImage.from_runs(a.model, device=a.device)
    gen = t2i(
        prompts, n=n, seed=a.seed, candidates=k, backend=a.backend, temperature=a.temperature, guidance=a.guidance
    )
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
    per_prompt = [
        {"prompt": p, "clip_score": float(gen.for_prompt(i).scores.mean())} for i, p in enumerate(gen.prompts)
    ]
    if a.json:
        print(
            json.dumps(
                {
                    "shape": list(arr.shape),
                    "backend": gen.backend,
                    "candidates": k,
                    "seconds": gen.seconds,
                    "files": written,
                    "prompts": per_prompt,
                }
            )
        )
        return
    print(
        f"generated {arr.shape[0]} images ({gen.backend}, {k} candidate(s) each) in {gen.seconds:.2f} s"
        + (f"; wrote {', '.join(written)}" if written else "")
    )
    for p in per_prompt:
        print(f"  {p['clip_score']:.3f}  {p['prompt']}")


def cmd_search_index(a):
    from genlab.pipelines.search import build_index

    index, stats = build_index(a.folder, a.model, a.index, batch=a.batch)
    print(
        f"indexed {stats['images']} images in {a.index}: {stats['embedded']} embedded, {stats['reused']} unchanged, "
        f"{stats['removed']} removed, {stats['skipped']} skipped"
    )
    for s in index.skipped:
        print(f"  skipped {s['path']}: {s['reason']}")


def cmd_search_query(a):
    from genlab.pipelines.search import SearchIndex, check_query, load_model, query

    check_query(a.text, a.image)
    index = SearchIndex.load(a.index)
    run = a.model or index.model
    from genlab.zoo.manifest import is_spec

    if not is_spec(run) and not Path(run).is_dir():  # pretrained:NAME is checked when it is opened
        raise GenlabError(f"the model run {run} of this index is gone; pass --model RUN (the run that built the index)")
    recipe, sha = load_model(run)
    if sha != index.model_sha256:
        raise GenlabError(f"{run} is not the checkpoint that built {a.index}; re-run 'genlab search index' with it")
    results = query(index, recipe, text=a.text, image=a.image, k=a.k)
    if a.json:
        print(json.dumps({"query": a.text if a.image is None else a.image, "results": results}))
        return
    for i, r in enumerate(results, 1):
        print(f"{i:>3}. {r['score']:.4f}  {r['path']}")


def register(sub) -> None:
    g = sub.add_parser(
        "generate",
        help="text to image: digits from a prompt with a text2image run",
        description="Generate digits from text prompts with a trained text2image run "
        "(CLIP text encoder -> VAE -> GAN refiner, or the diffusion backend). "
        "--out writes uint8 (N, 28, 28), N = prompts x --n, prompt after prompt. "
        "Prompts may be English or Russian. A prompt that names no digit the model knows "
        "(e.g. 'a cat', 'красивый закат над океаном') draws nothing: genlab prints one line "
        "'genlab: error: ...' naming the words it does not know and what it can draw, writes "
        "no files and exits with code 2.",
    )
    g.add_argument(
        "prompt", nargs="+", help="one or more prompts, e.g. 'a bold seven slanted right' or 'жирная семёрка'"
    )
    g.add_argument("--n", type=positive_int, default=16, help="images per prompt (default 16)")
    g.add_argument("--out", help="output .npy file (uint8, ink bright on dark)")
    g.add_argument("--png", help="also write a grid of (up to 256) images as PNG")
    g.add_argument(
        "--model",
        metavar="RUN_DIR",
        help="text2image run or pretrained:text2image (default: the newest under ./runs or $GENLAB_RUNS, else the pretrained model)",
    )
    g.add_argument("--backend", choices=["vae-gan", "diffusion"], default="vae-gan")
    g.add_argument(
        "--candidates",
        type=positive_int,
        default=1,
        metavar="K",
        help="draw K candidates per image and keep the best by CLIP similarity",
    )
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--stages", action="store_true", help="also write NAME_stages.png: VAE base images next to the refined ones"
    )
    g.add_argument("--temperature", type=non_negative_float, help="scale of the VAE latent noise (vae-gan)")
    g.add_argument("--guidance", type=non_negative_float, help="classifier-free guidance weight (diffusion)")
    g.add_argument("--device", default="cpu")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(func=cmd_generate)

    s = sub.add_parser("search", help="image search engine: index a folder, query it by text or image")
    ss = add_actions(s, "search_command")
    si = ss.add_parser("index", help="embed every image under a folder (only new or changed files on re-runs)")
    si.add_argument("folder", metavar="FOLDER")
    si.add_argument("--model", required=True, metavar="RUN", help="a CLIP run folder")
    si.add_argument("--index", required=True, metavar="PATH", help="index file to create or update (.npz)")
    si.add_argument("--batch", type=positive_int, default=256, help="images embedded per forward pass")
    si.set_defaults(func=cmd_search_index)
    sq = ss.add_parser("query", help="top-k images for a text (or --image FILE)")
    sq.add_argument("index", metavar="PATH")
    sq.add_argument(
        "text", nargs="?", help='what to look for, in English or Russian, e.g. "a bold seven" or "жирная семёрка"'
    )
    sq.add_argument("--image", metavar="FILE", help="find images similar to this one")
    sq.add_argument("-k", type=positive_int, default=5, help="number of results")
    sq.add_argument("--model", metavar="RUN", help="the run that built the index, if it moved")
    sq.add_argument("--json", action="store_true")
    sq.set_defaults(func=cmd_search_query)
