"""Few-shot data: labelled image pools split by class, seeded N-way K-shot episodes, augmentation.

A :class:`FewShotData` is a pool of images with class labels and, per class, a group (the
Omniglot alphabet). Training and evaluation pools hold *disjoint classes*: few-shot evaluation
asks about classes the model never saw.

- ``omniglot``: the shipped background sets, split by ALPHABET. The alphabets in
  :data:`HOLDOUT_ALPHABETS` (Balinese, 24 characters, and Early_Aramaic, 22) are held out for
  evaluation; the other six (196 characters) train. Both held-out alphabets have at least 20
  characters, so Lake et al.'s 20-way within-alphabet runs can be built from them. An empty
  holdout trains on all eight alphabets (242 characters), for a model meant for the official
  evaluation runs, whose alphabets are none of these.
- ``mnist``: the embedded digits; 0-4 train, 5-9 are held out.
- an image folder with one subfolder per class: a fixed quarter of the classes is held out.

Rotating every training character by 90/180/270 degrees makes new classes (x4), as is
standard on Omniglot; small random affine distortions augment within a class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genlab.errors import GenlabError

HOLDOUT_ALPHABETS = ("Balinese", "Early_Aramaic")


@dataclass
class Episode:
    """One task: support images with labels 0..ways-1 (in random order) and labelled queries."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    ways: int


class FewShotData:
    """Images (N, C, H, W) in [0, 1] with class labels; ``groups[c]`` is the group of class c."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, classes: list[str], groups: torch.Tensor | None = None):
        self.x, self.y, self.classes = x, y.long(), list(classes)
        self.groups = groups if groups is not None else torch.zeros(len(self.classes), dtype=torch.long)
        order = torch.argsort(self.y, stable=True)
        self.counts = torch.bincount(self.y, minlength=len(self.classes))
        self.members = list(torch.split(order, self.counts.tolist()))

    def __len__(self) -> int:
        return len(self.x)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def subset(self, class_ids) -> FewShotData:
        """The pool restricted to ``class_ids`` (relabelled 0..len-1 in that order)."""
        class_ids = torch.as_tensor(list(class_ids), dtype=torch.long)
        remap = torch.full((self.n_classes,), -1, dtype=torch.long)
        remap[class_ids] = torch.arange(len(class_ids))
        keep = remap[self.y] >= 0
        _, groups = torch.unique(self.groups[class_ids], return_inverse=True)
        return FewShotData(self.x[keep], remap[self.y[keep]], [self.classes[i] for i in class_ids], groups)

    def with_rotations(self) -> FewShotData:
        """Rotations by 90/180/270 degrees as new classes (and new groups): 4x the classes."""
        n, g = self.n_classes, int(self.groups.max()) + 1 if self.n_classes else 0
        xs = [torch.rot90(self.x, k, dims=(2, 3)) for k in range(4)]
        ys = [self.y + k * n for k in range(4)]
        names = [c if k == 0 else f"{c}@rot{90 * k}" for k in range(4) for c in self.classes]
        return FewShotData(torch.cat(xs), torch.cat(ys), names, torch.cat([self.groups + k * g for k in range(4)]))

    def check(self, ways: int, examples: int, what: str = "episodes") -> None:
        """Raise a one-line error when ``ways`` classes with ``examples`` images each do not exist."""
        enough = int((self.counts >= examples).sum())
        if ways < 2:
            raise GenlabError(f"few-shot {what} need at least 2 classes (ways), got {ways}")
        if enough < ways:
            raise GenlabError(
                f"{what}: {ways}-way needs {ways} classes with at least {examples} images each "
                f"(shots + queries), but only {enough} of {self.n_classes} classes have that many; use fewer ways, shots or queries"
            )

    def sample_episode(
        self, ways: int, shots: int, queries: int, generator: torch.Generator, hard: bool = False, affine: float = 0.0
    ) -> Episode:
        """An N-way K-shot episode; ``hard`` draws as many classes as possible from one group."""
        self.check(ways, shots + queries)
        eligible = torch.nonzero(self.counts >= shots + queries).flatten()
        if hard:
            g = self.groups[eligible]
            pick_group = g[torch.randint(len(g), (1,), generator=generator)]
            inside, outside = eligible[g == pick_group], eligible[g != pick_group]
            inside = inside[torch.randperm(len(inside), generator=generator)][:ways]
            outside = outside[torch.randperm(len(outside), generator=generator)][: ways - len(inside)]
            chosen = torch.cat([inside, outside])
        else:
            chosen = eligible[torch.randperm(len(eligible), generator=generator)[:ways]]
        s_idx, q_idx = [], []
        for c in chosen.tolist():
            m = self.members[c]
            pick = m[torch.randperm(len(m), generator=generator)[: shots + queries]]
            s_idx.append(pick[:shots])
            q_idx.append(pick[shots:])
        labels = torch.arange(ways)
        sy, qy = labels.repeat_interleave(shots), labels.repeat_interleave(queries)
        perm = torch.randperm(len(sy), generator=generator)  # any support order must work
        sx, qx = self.x[torch.cat(s_idx)[perm]], self.x[torch.cat(q_idx)] if queries else self.x[:0]
        if affine > 0:
            sx, qx = random_affine(sx, generator, affine), random_affine(qx, generator, affine)
        return Episode(sx, sy[perm], qx, qy, ways)


def random_affine(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Small random distortions per image: rotation +-15 deg, scale +-10%, shear +-0.15,
    shift +-5% of the size, all times ``strength``. The background (0) fills the border."""
    n = len(x)
    if n == 0:
        return x

    def u(lo, hi):
        return lo + (hi - lo) * torch.rand(n, generator=generator)

    ang = u(-15, 15) * strength * math.pi / 180
    scale = 1 + u(-0.1, 0.1) * strength
    shear = u(-0.15, 0.15) * strength
    tx, ty = u(-0.1, 0.1) * strength, u(-0.1, 0.1) * strength
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def iter_episodes(data: FewShotData, ways: int, shots: int, queries: int, episodes: int, seed: int = 0):
    """The same ``episodes`` tasks for every model given the same arguments (for fair comparisons)."""
    data.check(ways, shots + queries, "evaluation episodes")
    g = torch.Generator().manual_seed(seed)
    for _ in range(episodes):
        yield data.sample_episode(ways, shots, queries, g)


def step_generator(seed: int, step: int, rank: int = 0) -> torch.Generator:
    """A generator that depends only on (seed, step, rank): resumed runs draw the same episodes."""
    state = np.random.SeedSequence([seed, step, rank]).generate_state(2, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state[0] >> np.uint64(1)))


# ----------------------------------------------------------------------------- loading
def _from_omniglot(image_size: int, holdout: tuple[str, ...]) -> tuple[FewShotData, FewShotData]:
    from genlab.data.omniglot import load_omniglot

    o = load_omniglot(size=image_size)
    unknown = sorted(set(holdout) - set(o.alphabets))
    if unknown:
        raise GenlabError(
            f"holdout alphabet {unknown[0]!r} is not in the shipped Omniglot sets; choose from {', '.join(o.alphabets)}"
        )
    if len(set(holdout)) == len(o.alphabets):
        raise GenlabError("holdout names every Omniglot alphabet, which leaves nothing to train on; hold out fewer")
    alphabets = [n.split("/")[0] for n in o.names]
    groups = torch.tensor([o.alphabets.index(a) for a in alphabets])
    pool = FewShotData(torch.from_numpy(o.images), torch.from_numpy(o.char_ids), o.names, groups)
    test = [i for i, a in enumerate(alphabets) if a in holdout]
    train = [i for i, a in enumerate(alphabets) if a not in holdout]
    return pool.subset(train), pool.subset(test)


def _split_classes(pool: FewShotData, test_ids: list[int]) -> tuple[FewShotData, FewShotData]:
    held = set(test_ids)
    train_ids = [c for c in range(pool.n_classes) if c not in held]
    return pool.subset(train_ids), pool.subset(test_ids)


def load_fewshot_data(
    spec: str, image_size: int = 28, channels: int = 1, holdout: tuple[str, ...] = HOLDOUT_ALPHABETS
) -> tuple[FewShotData, FewShotData]:
    """(training pool, held-out pool) for ``omniglot``, ``mnist`` or an image folder (one subfolder per class)."""
    if spec == "omniglot":
        if channels != 1:
            raise GenlabError("Omniglot is grayscale; use channels=1")
        return _from_omniglot(image_size, tuple(holdout))
    if spec == "mnist":
        from genlab.data.datasets import adapt, embedded_mnist

        d = adapt(embedded_mnist(), image_size, channels)
        pool = FewShotData(torch.cat([d.x_train, d.x_test]), torch.cat([d.y_train, d.y_test]), d.classes)
        return _split_classes(pool, [5, 6, 7, 8, 9])
    if Path(spec).is_dir():
        from genlab.data.datasets import load_image_folder

        d = load_image_folder(spec, size=image_size, channels=channels)
        pool = FewShotData(torch.cat([d.x_train, d.x_test]), torch.cat([d.y_train, d.y_test]), d.classes)
        n_test = max(2, round(pool.n_classes / 4))
        if pool.n_classes - n_test < 2:
            raise GenlabError(
                f"{spec} has {pool.n_classes} class subfolders; few-shot training needs at least 4 (2 to train on, 2 held out)"
            )
        perm = np.random.default_rng(0).permutation(pool.n_classes)
        return _split_classes(pool, sorted(perm[:n_test].tolist()))
    raise GenlabError(
        f"few-shot data must be 'omniglot', 'mnist' or a folder with one subfolder per class, got {spec!r}"
    )
