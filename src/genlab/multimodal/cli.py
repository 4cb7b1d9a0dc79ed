"""`genlab classify` (zero-shot) and `genlab search index|query` (the image search engine)."""

from __future__ import annotations

import json
from pathlib import Path

from genlab.cli import Parser, positive_int
from genlab.errors import GenlabError


def _load_inputs(items: list[str], channels: int, size: int):
    """Image files and/or .npy batches -> (float images (N, C, size, size), names)."""
    import torch
    import torch.nn.functional as F

    from genlab.data.datasets import load_images_npy
    from genlab.data.images import load_image

    xs, names = [], []
    for item in items:
        if item.endswith(".npy"):
            x = load_images_npy(item, ndims=(2, 3, 4))
            if x.shape[1] != channels:
                x = x.mean(1, keepdim=True) if channels == 1 else x.repeat(1, channels, 1, 1)
            if x.shape[-2:] != (size, size):
                x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
            xs.append(x)
            names += [f"{item}[{i}]" for i in range(len(x))]
        else:
            xs.append(torch.from_numpy(load_image(item, channels=channels, size=size))[None])
            names.append(item)
    return torch.cat(xs), names


def cmd_classify(a):
    from genlab.multimodal.zeroshot import check_template
    from genlab.train.engine import load_run

    classes = [c.strip() for c in a.classes.split(",") if c.strip()] if a.classes else None
    if classes is not None and len(classes) < 2:
        raise GenlabError("--classes needs at least two comma-separated names, e.g. --classes zero,one,two")
    if classes is not None and len(set(classes)) != len(classes):
        raise GenlabError("--classes contains a name twice")
    for t in a.template or []:
        check_template(t)
    recipe, _, _ = load_run(a.run, device=a.device)
    if not hasattr(recipe, "classify"):
        raise GenlabError(f"{a.run} is a '{recipe.name}' run; zero-shot classification needs a CLIP run (genlab train clip)")
    classes = classes or recipe.captioner.words
    x, names = _load_inputs(a.inputs, recipe.cfg.channels, recipe.cfg.image_size)
    probs = recipe.classify(x, classes, a.template)
    preds = [{"label": classes[int(p.argmax())], "probs": {c: float(v) for c, v in zip(classes, p)}} for p in probs]
    if a.json:
        print(json.dumps({"predictions": preds}))
        return
    for name, pred in zip(names, preds):
        ranked = sorted(pred["probs"].items(), key=lambda kv: -kv[1])[: a.top]
        print(f"{name}: {pred['label']}  (" + ", ".join(f"{c} {p:.3f}" for c, p in ranked) + ")")


def cmd_search_index(a):
    from genlab.pipelines.search import build_index

    index, stats = build_index(a.folder, a.model, a.index, batch=a.batch)
    print(f"indexed {stats['images']} images in {a.index}: {stats['embedded']} embedded, {stats['reused']} unchanged, "
          f"{stats['removed']} removed, {stats['skipped']} skipped")
    for s in index.skipped:
        print(f"  skipped {s['path']}: {s['reason']}")


def cmd_search_query(a):
    from genlab.pipelines.search import SearchIndex, check_query, load_model, query

    check_query(a.text, a.image)
    index = SearchIndex.load(a.index)
    run = a.model or index.model
    if not Path(run).is_dir():
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
    c = sub.add_parser("classify", help="zero-shot classification with a CLIP run",
                       description="Zero-shot classify images (files or .npy batches) with a CLIP run and text prompts.")
    c.add_argument("run", metavar="RUN")
    c.add_argument("inputs", metavar="IMAGE", nargs="+", help="image files (PNG/JPEG) or .npy arrays of images")
    c.add_argument("--classes", help="comma-separated class names (default: zero,one,...,nine)")
    c.add_argument("--template", action="append", help="prompt template with {} for the class (repeatable; default: an ensemble)")
    c.add_argument("--top", type=positive_int, default=3, help="probabilities shown per image")
    c.add_argument("--json", action="store_true", help='print {"predictions": [{"label", "probs"}, ...]} in input order')
    c.add_argument("--device", default="cpu")
    c.set_defaults(func=cmd_classify)

    s = sub.add_parser("search", help="image search engine: index a folder, query it by text or image")
    ss = s.add_subparsers(dest="search_command", metavar="ACTION", parser_class=Parser)
    ss.required = True
    si = ss.add_parser("index", help="embed every image under a folder (only new or changed files on re-runs)")
    si.add_argument("folder", metavar="FOLDER")
    si.add_argument("--model", required=True, metavar="RUN", help="a CLIP run folder")
    si.add_argument("--index", required=True, metavar="PATH", help="index file to create or update (.npz)")
    si.add_argument("--batch", type=positive_int, default=256, help="images embedded per forward pass")
    si.set_defaults(func=cmd_search_index)
    sq = ss.add_parser("query", help="top-k images for a text (or --image FILE)")
    sq.add_argument("index", metavar="PATH")
    sq.add_argument("text", nargs="?", help="what to look for, e.g. \"a bold seven\"")
    sq.add_argument("--image", metavar="FILE", help="find images similar to this one")
    sq.add_argument("-k", type=positive_int, default=5, help="number of results")
    sq.add_argument("--model", metavar="RUN", help="the run that built the index, if it moved")
    sq.add_argument("--json", action="store_true")
    sq.set_defaults(func=cmd_search_query)
