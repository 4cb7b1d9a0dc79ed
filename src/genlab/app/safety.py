"""Untrusted input at the studio's edge: uploads are checked by size, pixels and content (never by
their name), and files are read or listed only inside the folders the studio was given."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from genlab.app.settings import MAX_UPLOAD_PIXELS, Settings
from genlab.data.images import decode_image
from genlab.errors import GenlabError


def _peek_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the image header alone (no pixels decoded); None when unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data)).size
    except Image.DecompressionBombError:
        return (1 << 30, 1 << 30)
    except Exception:  # noqa: BLE001 - any parser failure: decode_image gives the user-facing message
        return None


def read_image_upload(
    data: bytes, name: str, settings: Settings, channels: int = 1, size: int | None = 28
) -> np.ndarray:
    """An uploaded file -> float32 (C, size, size) in [0, 1], ink bright on dark; GenlabError if unusable."""
    if len(data) > settings.max_upload_bytes:
        raise GenlabError(
            f"{name} is {len(data) / 2**20:.1f} MB; the studio takes images up to {settings.max_upload_mb} MB"
        )
    wh = _peek_size(data)
    if wh is not None and wh[0] * wh[1] > MAX_UPLOAD_PIXELS:
        side = int(MAX_UPLOAD_PIXELS**0.5)
        shown = "too many" if wh[0] >= 1 << 30 else f"{wh[0]:,} x {wh[1]:,}"
        raise GenlabError(f"{name} has {shown} pixels; the studio takes images up to {side:,} x {side:,} pixels")
    return decode_image(data, name=name, channels=channels, size=size)


def inside_roots(path, settings: Settings) -> Path:
    """The resolved ``path`` if it lies inside one of the allowed folders (symlinks followed first)."""
    text = str(path).strip()
    if not text:
        raise GenlabError("give a folder path")
    if "\x00" in text:
        raise GenlabError("the path contains a NUL character")
    p = Path(text).expanduser()
    if not p.is_absolute():
        p = settings.runs / p
    real = p.resolve()
    for root in settings.roots:
        if real.is_relative_to(root.resolve()):
            return real
    allowed = ", ".join(str(r) for r in settings.roots)
    raise GenlabError(
        f"{text} is outside the folders this studio may read ({allowed}); "
        "start it with 'genlab studio --folder DIR' to allow another folder"
    )


def read_file_inside(path, settings: Settings, limit: int | None = None) -> bytes:
    """Bytes of a file inside the allowed folders, at most ``limit`` bytes (default: the upload limit)."""
    real = inside_roots(path, settings)
    limit = settings.max_upload_bytes if limit is None else limit
    try:
        if not real.is_file():
            raise GenlabError(f"{path} is not a file")
        if real.stat().st_size > limit:
            raise GenlabError(f"{path} is over the {limit:,}-byte limit")
        return real.read_bytes()
    except OSError as e:
        raise GenlabError(f"cannot read {path}: {e.strerror or e}") from None


# ----------------------------------------------------------------------------- pictures out
def enlarge(grid: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a uint8 (H, W[, C]) picture, so 28-pixel digits stay crisp."""
    return grid.repeat(scale, 0).repeat(scale, 1) if scale > 1 else grid


def png_bytes(picture: np.ndarray) -> bytes:
    """A uint8 (H, W[, C]) picture as PNG file bytes (for downloads)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture)).save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(frames: list[np.ndarray], duration_ms: int = 40) -> bytes:
    """uint8 frames as a looping animated GIF, in memory."""
    pil = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    buf = io.BytesIO()
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=duration_ms, loop=0)
    return buf.getvalue()
