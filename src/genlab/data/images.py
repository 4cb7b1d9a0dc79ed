"""Loading user images safely: size and pixel limits, content-based type check, clean errors."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from genlab.errors import GenlabError
from genlab.utils.images import MAX_IMAGE_PIXELS
from genlab.utils.io import read_input

MAX_IMAGE_BYTES = 50_000_000
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


def decode_image(
    data: bytes, name: str = "image", channels: int = 1, size: int | None = None, invert_if_light: bool = True
) -> np.ndarray:
    """Decode image bytes into a float32 array (C, H, W) in [0, 1], ink bright on dark.

    ``size`` resizes the shorter side and centre-crops to a square. Grayscale images drawn dark
    on light (photos of paper, Omniglot) are inverted to the MNIST convention when
    ``invert_if_light``.
    """
    if len(data) == 0:
        raise GenlabError(f"{name} is empty; give a PNG or JPEG image")
    if len(data) > MAX_IMAGE_BYTES:
        raise GenlabError(f"{name} is {len(data)} bytes, over the {MAX_IMAGE_BYTES}-byte limit; use a smaller image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_IMAGE_PIXELS or w <= 0 or h <= 0:
                raise GenlabError(
                    f"{name} is {w}x{h} pixels, over the {MAX_IMAGE_PIXELS:,}-pixel limit; use a smaller image"
                )
            img.load()
    except GenlabError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise GenlabError(f"{name} has too many pixels (decompression bomb guard); use a smaller image") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as e:
        raise GenlabError(f"{name} is not a readable image ({type(e).__name__}); give a PNG or JPEG file") from None
    mode = "L" if channels == 1 else "RGB"
    try:
        img = img.convert(mode)
    except (OSError, ValueError) as e:
        raise GenlabError(f"{name} cannot be converted to {mode} ({e}); give a PNG or JPEG file") from None
    if size is not None:
        w, h = img.size
        s = size / min(w, h)
        nw, nh = max(size, round(w * s)), max(size, round(h * s))
        img = img.resize((nw, nh), Image.BILINEAR)
        left, top = (nw - size) // 2, (nh - size) // 2
        img = img.crop((left, top, left + size, top + size))
    arr = np.asarray(img, dtype=np.float32) / 255.0
    if arr.ndim == 2:
        arr = arr[None]
        if invert_if_light and _border_mean(arr[0]) > 0.5:
            arr = 1.0 - arr
    else:
        arr = arr.transpose(2, 0, 1)
    return np.ascontiguousarray(arr)


def _border_mean(a: np.ndarray) -> float:
    return float(np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]).mean())


def load_image(path, channels: int = 1, size: int | None = None, invert_if_light: bool = True) -> np.ndarray:
    data = read_input(path, "image", limit=MAX_IMAGE_BYTES)
    return decode_image(data, name=str(path), channels=channels, size=size, invert_if_light=invert_if_light)


def list_images(folder) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted), by suffix; symlinks leaving the folder are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GenlabError(f"folder not found: {folder}")
    root = folder.resolve()
    out = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
            try:
                p.resolve().relative_to(root)
            except ValueError:
                continue
            out.append(p)
    return out
