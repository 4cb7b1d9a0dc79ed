"""A drawn digit made to look like an MNIST digit (numpy and Pillow only, no Streamlit)."""

from __future__ import annotations

import numpy as np


def center_digit(x: np.ndarray, box: int = 20, size: int = 28) -> np.ndarray | None:
    """A drawing (H, W) in [0, 1], ink bright, placed as MNIST places its digits: the ink's bounding
    box scaled to fit ``box`` pixels, its centre of mass at the centre of a ``size`` picture.
    None when nothing is drawn."""
    from PIL import Image

    rows, cols = np.nonzero(x > 0.1)
    if len(rows) == 0:
        return None
    crop = x[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    s = box / max(crop.shape)
    h, w = max(1, round(crop.shape[0] * s)), max(1, round(crop.shape[1] * s))
    small = np.asarray(Image.fromarray(np.uint8(crop * 255)).resize((w, h), Image.LANCZOS), np.float32) / 255
    total = small.sum() or 1.0
    cy, cx = (small.sum(1) @ np.arange(h)) / total, (small.sum(0) @ np.arange(w)) / total
    top, left = (
        int(np.clip(round(size / 2 - cy - 0.5), 0, size - h)),
        int(np.clip(round(size / 2 - cx - 0.5), 0, size - w)),
    )
    out = np.zeros((size, size), np.float32)
    out[top : top + h, left : left + w] = small
    return out
