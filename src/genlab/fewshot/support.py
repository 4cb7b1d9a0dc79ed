"""Few-shot prediction for user images: a support folder (one subfolder of examples per class)
and query images, classified by a trained few-shot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genlab.data.images import IMAGE_SUFFIXES, load_image
from genlab.errors import GenlabError


def load_support_folder(folder, image_size: int = 28, channels: int = 1, shots: int | None = None):
    """(images (N, C, S, S), labels (N,), class names) from DIR/<class>/<image>; ``shots``
    takes the first K images (sorted by name) of every class. Hidden files are ignored."""
    root = Path(folder)
    if not root.is_dir():
        raise GenlabError(f"support folder not found: {folder}")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    loose = [p for p in entries if not p.is_dir()]
    if loose:
        raise GenlabError(
            f"{loose[0]} is not in a class subfolder; the support folder holds one subfolder of images per class"
        )
    if len(entries) < 2:
        raise GenlabError(
            f"{folder} has {len(entries)} class subfolder(s); few-shot prediction needs at least 2 classes"
        )
    xs, ys, names = [], [], []
    for c, cls_dir in enumerate(entries):
        files = sorted(p for p in cls_dir.iterdir() if not p.name.startswith("."))
        for p in files:
            if p.is_dir() or p.suffix.lower() not in IMAGE_SUFFIXES:
                raise GenlabError(f"{p} is not an image file; a class subfolder may only hold images (PNG, JPEG, ...)")
        if not files:
            raise GenlabError(f"class folder {cls_dir} is empty; give at least one example image per class")
        if shots is not None and len(files) < shots:
            raise GenlabError(
                f"class {cls_dir.name} has {len(files)} image(s) but --shots is {shots}; add images or lower --shots"
            )
        for p in files[:shots]:
            xs.append(load_image(p, channels=channels, size=image_size))
            ys.append(c)
        names.append(cls_dir.name)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys), names


def predict_images(recipe, support_dir, queries, shots: int | None = None) -> list[dict]:
    """Classify each query image among the support classes: label and class probabilities."""
    size, channels = recipe.cfg.image_size, recipe.cfg.channels
    sx, sy, names = load_support_folder(support_dir, size, channels, shots)
    if not queries:
        raise GenlabError("give at least one query image")
    qx = torch.from_numpy(np.stack([load_image(q, channels=channels, size=size) for q in queries]))
    probs = recipe.predict(sx, sy, qx, len(names))
    return [
        {"query": str(q), "label": names[int(p.argmax())], "probs": {n: float(v) for n, v in zip(names, p)}}
        for q, p in zip(queries, probs)
    ]
