"""Captions derived from the images themselves.

Three attributes are *measured* on every digit (float images (N, 1, H, W) in [0, 1], ink
bright on dark), so a caption like "the digit seven, bold and slanted right" is true of its
image:

- stroke thickness: ``2 * ink mass / ink perimeter`` (a stroke of width w and length L has
  mass ~ wL and perimeter ~ 2L), with the perimeter measured as the total variation;
- slant: the second-moment shear ``-cov(x, y) / var(y)`` (positive: the top leans right);
- size: the radius of gyration of the ink, ``sqrt(var(x) + var(y))`` in pixels.

Words come from per-class training-set quantiles (:func:`fit_thresholds`): "bold" means bolder
than two thirds of the training digits of the same class. :class:`CaptionGenerator` turns
labels and attribute levels into many phrasings, numbers as words or numerals, all randomness
from the numpy ``Generator`` it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genlab.data.datasets import MNIST_CLASSES

# -- measurements -------------------------------------------------------------------------


def _ink(x: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.dim() == 3:
        x = x[:, None]
    return x.mean(1)  # (N, H, W): colour images count as their gray level


def stroke_thickness(x: torch.Tensor) -> torch.Tensor:
    """Mean stroke width in pixels, ``2 * mass / perimeter``; (N,) float."""
    g = _ink(x)
    mass = g.sum((1, 2))
    perimeter = (g[:, 1:] - g[:, :-1]).abs().sum((1, 2)) + (g[:, :, 1:] - g[:, :, :-1]).abs().sum((1, 2))
    return 2 * mass / perimeter.clamp_min(1e-6)


def _moments(x: torch.Tensor):
    g = _ink(x)
    n, h, w = g.shape
    mass = g.sum((1, 2)).clamp_min(1e-6)
    ys = torch.arange(h, dtype=g.dtype).view(1, h, 1)
    xs = torch.arange(w, dtype=g.dtype).view(1, 1, w)
    my = (g * ys).sum((1, 2)) / mass
    mx = (g * xs).sum((1, 2)) / mass
    dy, dx = ys - my.view(n, 1, 1), xs - mx.view(n, 1, 1)
    vyy = (g * dy * dy).sum((1, 2)) / mass
    vxx = (g * dx * dx).sum((1, 2)) / mass
    vxy = (g * dx * dy).sum((1, 2)) / mass
    return vxx, vyy, vxy


def slant(x: torch.Tensor) -> torch.Tensor:
    """Shear of the ink, ``-cov(x, y) / var(y)`` with y pointing down: > 0 leans right; (N,) float."""
    _, vyy, vxy = _moments(x)
    return -vxy / vyy.clamp_min(1e-6)


def ink_size(x: torch.Tensor) -> torch.Tensor:
    """Radius of gyration of the ink in pixels, ``sqrt(var x + var y)``; (N,) float."""
    vxx, vyy, _ = _moments(x)
    return (vxx + vyy).sqrt()


def measure(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """All three measurements of a batch: {"thickness", "slant", "size"} -> (N,) tensors."""
    return {"thickness": stroke_thickness(x), "slant": slant(x), "size": ink_size(x)}


# -- levels -------------------------------------------------------------------------------

ATTRIBUTES = ("thickness", "slant", "size")
LEVELS = {"thickness": ("thin", "regular", "bold"), "slant": ("left", "upright", "right"), "size": ("small", "medium", "large")}
#: quantiles cutting each class into three levels (size: only the outer 30% get a word)
QUANTILES = {"thickness": (1 / 3, 2 / 3), "slant": (1 / 3, 2 / 3), "size": (0.3, 0.7)}


@dataclass
class Thresholds:
    """Per-class cut points: ``cuts[attribute]`` is (n_classes, 2), low and high."""

    cuts: dict[str, np.ndarray]

    def levels(self, x: torch.Tensor, y) -> dict[str, np.ndarray]:
        """Level index 0/1/2 (e.g. thin/regular/bold) of every image for every attribute."""
        y = np.asarray(y, dtype=np.int64)
        m = measure(x)
        out = {}
        for a in ATTRIBUTES:
            v = m[a].numpy()
            c = self.cuts[a][y]
            out[a] = (v > c[:, 0]).astype(np.int64) + (v > c[:, 1]).astype(np.int64)
        return out


def fit_thresholds(x: torch.Tensor, y, n_classes: int | None = None) -> Thresholds:
    """Per-class quantile cut points of the three measurements on a training set."""
    y = np.asarray(y, dtype=np.int64)
    n_classes = n_classes or int(y.max()) + 1
    m = {a: v.numpy() for a, v in measure(x).items()}
    cuts = {}
    for a in ATTRIBUTES:
        c = np.tile(np.quantile(m[a], QUANTILES[a]), (n_classes, 1))  # classes with no examples: global cuts
        for k in range(n_classes):
            if (y == k).sum() >= 3:
                c[k] = np.quantile(m[a][y == k], QUANTILES[a])
        cuts[a] = c
    return Thresholds(cuts)


# -- captions -----------------------------------------------------------------------------

#: (words before the noun, phrases after "the digit seven, ...") for each attribute level
PHRASES = {
    "thickness": {
        "thin": (["thin", "light", "fine"], ["thin", "drawn with thin strokes", "written lightly"]),
        "regular": (["regular", "medium"], ["of regular thickness", "with medium strokes"]),
        "bold": (["bold", "thick", "heavy"], ["bold", "drawn with thick strokes", "written heavily"]),
    },
    "slant": {
        "left": (["left-slanted", "left-leaning"], ["slanted left", "leaning to the left", "tilted left"]),
        "upright": (["upright", "straight"], ["upright", "standing straight", "not slanted"]),
        "right": (["right-slanted", "right-leaning"], ["slanted right", "leaning to the right", "tilted right"]),
    },
    "size": {
        "small": (["small", "little", "tiny"], ["small", "written small"]),
        "large": (["large", "big"], ["large", "written large"]),
    },
}
PLAIN = ["{a} handwritten {n}", "the digit {n}", "the number {n}", "{a} photo of {a} {n}", "{a} picture of the digit {n}",
         "an image of {a} {n}", "{n}", "{a} {n} written by hand", "handwritten {n}", "{a} drawing of the number {n}"]
PREFIX = ["{a} {adj} {n}", "{a} {adj} handwritten {n}", "the {adj} digit {n}", "{a} photo of {a} {adj} {n}", "an image of {a} {adj} number {n}"]
POSTFIX = ["the digit {n}, {post}", "{a} handwritten {n}, {post}", "{n}, {post}", "{a} {n} that is {post}"]
#: zero-shot prompt ensemble (each a template with one "{}")
TEMPLATES = ["a handwritten {}", "the digit {}", "the number {}", "a photo of a {}", "a picture of the digit {}", "{}"]


def _fix_articles(text: str) -> str:
    """'{a}' -> 'a' or 'an' by the next word ('an eight', 'an 8', 'a bold seven')."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if w == "{a}":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            words[i] = "an" if nxt[:1] in ("a", "e", "i", "o", "u", "8") else "a"
    return " ".join(words)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class CaptionGenerator:
    """Random captions for (label, attribute levels); ``p_attr`` is the chance to mention each attribute."""

    def __init__(self, class_words: list[str] | None = None, p_attr: float = 0.5, p_numeral: float = 0.5):
        self.words = list(class_words or MNIST_CLASSES)
        self.numerals = [str(i) for i in range(10)] if self.words == MNIST_CLASSES else self.words
        self.p_attr, self.p_numeral = p_attr, p_numeral

    def caption(self, label: int, levels: dict[str, int], rng: np.random.Generator, p_attr: float | None = None) -> str:
        p_attr = self.p_attr if p_attr is None else p_attr
        n = self.numerals[label] if rng.random() < self.p_numeral else self.words[label]
        chosen = []
        for a in ATTRIBUTES:
            name = LEVELS[a][levels[a]]
            if name in PHRASES[a] and rng.random() < p_attr:
                chosen.append(PHRASES[a][name])
        if not chosen:
            text = PLAIN[rng.integers(len(PLAIN))].format(a="{a}", n=n)
        elif rng.random() < 0.5:
            order = rng.permutation(len(chosen))
            adj = " ".join(chosen[i][0][rng.integers(len(chosen[i][0]))] for i in order)
            text = PREFIX[rng.integers(len(PREFIX))].format(a="{a}", adj=adj, n=n)
        else:
            post = _join([c[1][rng.integers(len(c[1]))] for c in chosen])
            text = POSTFIX[rng.integers(len(POSTFIX))].format(a="{a}", post=post, n=n)
        return _fix_articles(text)

    def captions(self, labels, levels: dict[str, np.ndarray], rng: np.random.Generator, p_attr: float | None = None) -> list[str]:
        """One caption per image; ``levels`` as returned by :meth:`Thresholds.levels`."""
        labels = np.asarray(labels).tolist()
        return [self.caption(int(c), {a: int(levels[a][i]) for a in ATTRIBUTES}, rng, p_attr) for i, c in enumerate(labels)]

    def corpus(self) -> list[str]:
        """Every word and phrase the generator can produce (for training a tokenizer)."""
        rng = np.random.default_rng(0)
        texts = [t.format(a="a", n="", adj="", post="") for t in PLAIN + PREFIX + POSTFIX] + self.words + self.numerals
        texts += [p for levels in PHRASES.values() for pre, post in levels.values() for p in pre + post]
        for label in range(len(self.words)):
            for lv in np.ndindex(3, 3, 3):
                levels = dict(zip(ATTRIBUTES, lv))
                texts += [self.caption(label, levels, rng, p_attr=p) for p in (0.0, 0.5, 1.0) for _ in range(4)]
        return texts
