"""Read and check sample arrays given to ``genlab eval --samples`` (and their labels).

Accepted: a .npy file (loaded with allow_pickle=False) holding (N, H, W) or (N, C, H, W) with
C = 1 or 3 (channels-last (N, H, W, C) too), uint8 0..255 or float in [0, 1], at least
``MIN_SAMPLES`` images; labels: a 1-D integer .npy with one digit 0..9 per image.
Anything else is a one-line GenlabError.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genlab.errors import GenlabError
from genlab.metrics.quality import MIN_SAMPLES

RANGE_TOLERANCE = 1e-3  # floats may overshoot [0, 1] by this much (then they are clipped)


def _load_npy(path, what: str) -> np.ndarray:
    path = Path(path)
    if path.suffix != ".npy":
        raise GenlabError(f"{what} file {path} is not a .npy file; save the array with numpy.save")
    if not path.is_file():
        raise GenlabError(f"{what} file {path} does not exist")
    if path.stat().st_size == 0:
        raise GenlabError(f"{what} file {path} is empty")
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise GenlabError(
                f"{what} file {path} is not a NumPy .npy file (no .npy header); save the array with numpy.save"
            )
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        hint = "it holds Python objects; save a numeric array" if "pickle" in str(e) else str(e).splitlines()[0][:80]
        raise GenlabError(f"{what} file {path} cannot be read as a numeric .npy ({hint})") from None
    except (OSError, EOFError) as e:
        raise GenlabError(f"{what} file {path} is not a readable .npy ({type(e).__name__})") from None


def load_samples(path) -> np.ndarray:
    """The images in ``path`` as float32 (N, C, H, W) in [0, 1], after checking them."""
    x = _load_npy(path, "samples")
    if x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3) or min(x.shape[2:]) < 8:
        raise GenlabError(
            f"{path}: samples have shape {x.shape}; expected (N, H, W) or (N, C, H, W) with C = 1 or 3 and H, W >= 8, e.g. (N, 28, 28)"
        )
    if len(x) < MIN_SAMPLES:
        raise GenlabError(
            f"{path} holds {len(x)} images; the metrics need at least {MIN_SAMPLES} (1,000 or more recommended)"
        )
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if not np.issubdtype(x.dtype, np.floating):
        raise GenlabError(f"{path}: samples have dtype {x.dtype}; expected uint8 (0..255) or float (0..1)")
    if not np.isfinite(x).all():
        raise GenlabError(f"{path}: samples contain NaN or Inf values ({int((~np.isfinite(x)).sum())} of them)")
    lo, hi = float(x.min()), float(x.max())
    if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        raise GenlabError(
            f"{path}: float samples range over [{lo:.3g}, {hi:.3g}]; expected [0, 1] (rescale, or save uint8 0..255)"
        )
    return np.clip(x, 0, 1).astype(np.float32)


def load_labels(path, n: int) -> np.ndarray:
    """Class labels in ``path`` as int64 (n,), checked against the number of images."""
    y = _load_npy(path, "labels")
    if y.ndim != 1:
        raise GenlabError(f"{path}: labels have shape {y.shape}; expected a 1-D array (N,)")
    if not np.issubdtype(y.dtype, np.integer):
        raise GenlabError(f"{path}: labels have dtype {y.dtype}; expected integers 0..9")
    if len(y) != n:
        raise GenlabError(f"{path} holds {len(y)} labels for {n} images; give exactly one label per image")
    if y.min() < 0 or y.max() > 9:
        raise GenlabError(f"{path}: labels range over {int(y.min())}..{int(y.max())}; expected digits 0..9")
    return y.astype(np.int64)
