"""`genlab classify`: zero-shot classification with a CLIP run."""

from __future__ import annotations

import json

from genlab.errors import GenlabError
from genlab.utils.cliargs import positive_int


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
                x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(
                    0, 1
                )
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
        raise GenlabError(
            f"{a.run} is a '{recipe.name}' run; zero-shot classification needs a CLIP run (genlab train clip)"
        )
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


def register(sub) -> None:
    c = sub.add_parser(
        "classify",
        help="zero-shot classification with a CLIP run",
        description="Zero-shot classify images (files or .npy batches) with a CLIP run and text prompts.",
    )
    c.add_argument("run", metavar="RUN")
    c.add_argument("inputs", metavar="IMAGE", nargs="+", help="image files (PNG/JPEG) or .npy arrays of images")
    c.add_argument(
        "--classes",
        help="comma-separated class names in English or Russian (default: zero,one,...,nine; "
        "e.g. ноль,один,два,три,четыре,пять,шесть,семь,восемь,девять)",
    )
    c.add_argument(
        "--template",
        action="append",
        help="prompt template with {} for the class (repeatable; default: an ensemble "
        "in the language of the class names, e.g. 'цифра {}' for Russian ones)",
    )
    c.add_argument("--top", type=positive_int, default=3, help="probabilities shown per image")
    c.add_argument(
        "--json", action="store_true", help='print {"predictions": [{"label", "probs"}, ...]} in input order'
    )
    c.add_argument("--device", default="cpu")
    c.set_defaults(func=cmd_classify)
