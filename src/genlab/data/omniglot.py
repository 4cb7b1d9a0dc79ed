"""Omniglot background sets shipped with genlab (MIT licence, Lake et al. 2015; see omniglot/README.md).

Layout inside each zip: ``<set>/<Alphabet>/<characterNN>/<drawer image>.png``, 105x105 1-bit,
ink black on white. Loaded as float images with ink bright on dark (the MNIST convention).
Greek and Latin appear in both sets; their images are merged per character.
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass
from importlib import resources

import numpy as np
from PIL import Image

ZIPS = ("images_background_small1.zip", "images_background_small2.zip")


@dataclass
class OmniglotChars:
    images: np.ndarray  # (N, 1, S, S) float32 in [0, 1]
    char_ids: np.ndarray  # (N,) index into ``names``
    names: list[str]  # "Alphabet/characterNN"

    @property
    def alphabets(self) -> list[str]:
        return sorted({n.split("/")[0] for n in self.names})


def _decode(data: bytes, size: int) -> np.ndarray:
    img = Image.open(io.BytesIO(data)).convert("L")
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return 1.0 - np.asarray(img, dtype=np.float32) / 255.0


@functools.lru_cache(maxsize=4)
def load_omniglot(size: int = 28) -> OmniglotChars:
    per_char: dict[str, dict[str, np.ndarray]] = {}
    root = resources.files("genlab.data") / "omniglot"
    for zname in ZIPS:
        with resources.as_file(root / zname) as zpath, zipfile.ZipFile(zpath) as zf:
            for info in zf.infolist():
                parts = info.filename.split("/")
                if info.is_dir() or len(parts) != 4 or not parts[3].endswith(".png"):
                    continue
                key = f"{parts[1]}/{parts[2]}"
                per_char.setdefault(key, {})[parts[3]] = _decode(zf.read(info), size)
    names = sorted(per_char)
    imgs, ids = [], []
    for i, n in enumerate(names):
        for fname in sorted(per_char[n]):
            imgs.append(per_char[n][fname])
            ids.append(i)
    return OmniglotChars(np.stack(imgs)[:, None], np.asarray(ids), names)
