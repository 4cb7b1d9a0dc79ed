"""The few image utilities genlab needs, on numpy and Pillow: uint8 conversion, grids, PNG, GIF.

Image arrays follow the MNIST convention: ink bright on a dark background, values in [0, 1]
as floats or 0..255 as uint8, shape (N, H, W) or (N, C, H, W).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from genlab.utils.io import atomic_path

# Decompression-bomb guard for every image genlab opens.
MAX_IMAGE_PIXELS = 64_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


def to_uint8(x) -> np.ndarray:
    """Float images in [0, 1] (torch or numpy) -> uint8 0..255; a single channel is squeezed."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().float().numpy()
    x = np.asarray(x)
    if x.dtype != np.uint8:
        x = np.clip(np.rint(np.nan_to_num(x, nan=0.0) * 255.0), 0, 255).astype(np.uint8)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    return x


def make_grid(images, nrow: int | None = None, pad: int = 2, pad_value: int = 40) -> np.ndarray:
    """Tile (N, H, W) or (N, C, H, W) images into one uint8 (H', W') or (H', W', C) array."""
    imgs = to_uint8(images)
    if imgs.ndim == 4:  # N, C, H, W -> N, H, W, C
        imgs = imgs.transpose(0, 2, 3, 1)
    n = imgs.shape[0]
    if n == 0:
        raise ValueError("make_grid needs at least one image")
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    ncol_rows = int(math.ceil(n / nrow))
    h, w = imgs.shape[1], imgs.shape[2]
    shape = (ncol_rows * (h + pad) + pad, nrow * (w + pad) + pad) + imgs.shape[3:]
    grid = np.full(shape, pad_value, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = imgs[i]
    return grid


def save_png(path, array: np.ndarray, scale: int = 1) -> Path:
    """Write a uint8 (H, W) or (H, W, C) array as PNG, atomically; ``scale`` enlarges pixels."""
    img = Image.fromarray(np.ascontiguousarray(array))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    path = Path(path)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")
    return path


def save_grid(path, images, nrow: int | None = None, scale: int = 2) -> Path:
    return save_png(path, make_grid(images, nrow=nrow), scale=scale)


def save_gif(path, frames, duration_ms: int = 80, scale: int = 3) -> Path:
    """Write a list of uint8 (H, W[, C]) frames as a looping animated GIF, atomically."""
    pil = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    if not pil:
        raise ValueError("save_gif needs at least one frame")
    if scale > 1:
        pil = [p.resize((p.width * scale, p.height * scale), Image.NEAREST) for p in pil]
    path = Path(path)
    with atomic_path(path) as tmp:
        pil[0].save(tmp, format="GIF", save_all=True, append_images=pil[1:], duration=duration_ms, loop=0)
    return path
