"""Sample quality in the evaluator's space: FID, KID, IS, precision/recall, coverage, class entropy.

All numbers are measured with genlab's own MNIST evaluator (see ``genlab.metrics.evaluator``:
a 2-conv CNN, 128-d penultimate features, ~98 % held-out accuracy), against the 1,000-digit
held-out split of the embedded MNIST. Definitions:

- ``fid``: Fréchet distance between Gaussians fitted to the 128-d features of the samples and
  of the reference set. ``fid_floor`` is the same quantity for *real* training digits (as many
  as there are samples) against the same reference: what a perfect generator would score at
  this sample size. Read a FID next to its floor.
- ``kid``: unbiased squared MMD with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3,
  averaged over 20 random subsets of min(1000, n, n_ref) samples (Binkowski et al. 2018);
  unbiased, so it can be slightly negative for sets from the same distribution. Its scale
  follows the evaluator's features (not comparable with Inception-KID).
- ``is``: Inception-Score analogue exp(E_x KL(p(y|x) || p(y))) from the evaluator's class
  probabilities, over the whole set (1 = one class or no confident class, 10 = confident and
  uniform over digits).
- ``precision`` / ``recall``: improved precision and recall (Kynkäänniemi et al. 2019): each
  set's manifold is the union of balls around its features with the distance to the 3rd
  nearest neighbour as radius; precision = share of samples inside the real manifold, recall =
  share of real digits inside the samples' manifold.
- ``coverage``: number of digit classes (0..10) that the evaluator predicts for at least 1 % of
  the samples; ``class_entropy``: entropy of the predicted-class histogram, in **bits**
  (log2 10 = 3.32 for a uniform spread, 0 for total mode collapse).
- ``label_acc`` (conditional models, when labels are given): share of samples the evaluator
  reads as the asked class.

Inception-FID (optional, never required): genlab cannot download Inception weights. A user who
has torch-fidelity and its weights locally can score the same samples on the paper scale:
write each image of ``genlab sample --out s.npy`` as a PNG into a folder (e.g. with
``genlab.utils.images.save_png``), the held-out digits into another, and run
``fidelity --fid --input1 SAMPLES_DIR --input2 REAL_DIR``. Those numbers are not comparable
with genlab's evaluator-FID.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from genlab.errors import GenlabError

KID_SUBSETS = 20
KID_SUBSET_SIZE = 1000
PR_K = 3
COVERAGE_SHARE = 0.01
MIN_SAMPLES = 10


# ----------------------------------------------------------------------------- distances
def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), computed stably in float64.

    tr((S1 S2)^(1/2)) = tr((A S2 A)^(1/2)) with A = S1^(1/2); both square roots are of symmetric
    PSD matrices, taken by eigendecomposition (negative round-off eigenvalues clipped to 0).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched shapes: mu {mu1.shape}/{mu2.shape}, sigma {s1.shape}/{s2.shape}")
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = a @ s2 @ a
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(max(0.0, ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt))


def gaussian_stats(feats) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(feats, np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


def fid(feats1, feats2) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D)."""
    return frechet_distance(*gaussian_stats(feats1), *gaussian_stats(feats2))


def kid(feats1, feats2, subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> float:
    """Kernel Inception Distance: mean unbiased MMD^2 (cubic polynomial kernel) over random subsets."""
    x, y = (
        torch.as_tensor(np.asarray(feats1), dtype=torch.float32),
        torch.as_tensor(np.asarray(feats2), dtype=torch.float32),
    )
    m = min(subset_size, len(x), len(y))
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    if len(x) == len(y) == m:
        subsets = 1  # every subset is the whole of both sets: one evaluation is exact
    g = torch.Generator().manual_seed(seed)
    d = x.shape[1]

    def k(a, b):  # cubic polynomial kernel matrix, float32 (sums are taken in float64)
        return ((a @ b.T) / d + 1).pow_(3)

    total = 0.0
    for _ in range(subsets):
        a, b = x[torch.randperm(len(x), generator=g)[:m]], y[torch.randperm(len(y), generator=g)[:m]]
        kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
        within = (
            kxx.sum(dtype=torch.float64)
            - kxx.diagonal().sum(dtype=torch.float64)
            + kyy.sum(dtype=torch.float64)
            - kyy.diagonal().sum(dtype=torch.float64)
        )
        total += float(within / (m * (m - 1)) - 2 * kxy.sum(dtype=torch.float64) / (m * m))
    return total / subsets


def inception_score(probs) -> float:
    """exp(E_x KL(p(y|x) || p(y))) from class probabilities (N, C)."""
    p = torch.as_tensor(probs, dtype=torch.float64).clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)
    return float(torch.exp((p * (p.log() - marginal.log())).sum(1).mean()))


def _kth_nn_radii(f: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row to its k-th nearest other row."""
    d = torch.cdist(f, f)
    return d.kthvalue(k + 1, dim=1).values  # +1: the point itself is at distance 0


def precision_recall(real_feats, fake_feats, k: int = PR_K) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN radii."""
    real, fake = torch.as_tensor(real_feats, dtype=torch.float64), torch.as_tensor(fake_feats, dtype=torch.float64)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision/recall need more than k={k} samples in each set")
    d = torch.cdist(fake, real)  # (n_fake, n_real)
    precision = (d <= _kth_nn_radii(real, k)[None, :]).any(1).double().mean()
    recall = (d <= _kth_nn_radii(fake, k)[:, None]).any(0).double().mean()
    return float(precision), float(recall)


# ----------------------------------------------------------------------------- class statistics
def class_stats(pred, n_classes: int = 10) -> dict:
    """coverage (classes with >= 1 % of the predictions) and class_entropy (bits) of a prediction vector."""
    counts = np.bincount(np.asarray(pred, np.int64), minlength=n_classes).astype(np.float64)
    share = counts / max(1.0, counts.sum())
    nz = share[share > 0]
    return {
        "coverage": int((share >= COVERAGE_SHARE).sum()),
        "class_entropy": float(max(0.0, -(nz * np.log2(nz)).sum())),
    }


# ----------------------------------------------------------------------------- reference set
def _subset(n_total: int, n: int, seed: int) -> np.ndarray:
    """A fixed, reproducible choice of n indices out of n_total (all of them, in order, if n >= n_total)."""
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).permutation(n_total)[:n])


@functools.lru_cache(maxsize=8)
def reference_features(n_ref: int | None = None) -> np.ndarray:
    """Evaluator features of the held-out split (or a fixed subset of n_ref of it), cached."""
    from genlab.data.datasets import embedded_mnist
    from genlab.metrics.evaluator import get_evaluator

    x = embedded_mnist().x_test
    idx = _subset(len(x), n_ref or len(x), seed=1)
    return get_evaluator().features(x[idx]).double().numpy()


@functools.lru_cache(maxsize=8)
def _reference_stats(n_ref: int | None):
    return gaussian_stats(reference_features(n_ref))


@functools.lru_cache(maxsize=32)
def fid_floor(n: int = 1000, n_ref: int | None = None) -> float:
    """FID of n real *training* digits against the held-out reference: a perfect generator's score."""
    from genlab.data.datasets import embedded_mnist
    from genlab.metrics.evaluator import get_evaluator

    x = embedded_mnist().x_train
    feats = get_evaluator().features(x[_subset(len(x), n, seed=2)]).double().numpy()
    return frechet_distance(*gaussian_stats(feats), *_reference_stats(n_ref))


# ----------------------------------------------------------------------------- everything at once
def sample_quality(images, labels=None, n_ref: int | None = None) -> dict:
    """All sample-quality metrics of ``images`` (N, 1, 28, 28) in [0, 1] (or uint8) vs the held-out split.

    ``labels`` (N,) are the classes a conditional model was asked for; ``n_ref`` limits the
    reference set to a fixed subset of the 1,000 held-out digits.
    """
    from genlab.metrics.evaluator import get_evaluator

    ev = get_evaluator()
    n = len(images)
    if n < MIN_SAMPLES:
        raise GenlabError(f"sample-quality metrics need at least {MIN_SAMPLES} images, got {n}")
    logits = ev.logits(images)
    feats = ev.features(images).double().numpy()
    ref = reference_features(n_ref)
    precision, recall = precision_recall(ref, feats)
    pred = logits.argmax(1)
    out = {
        "fid": frechet_distance(*gaussian_stats(feats), *_reference_stats(n_ref)),
        "fid_floor": fid_floor(min(n, 4000), n_ref),
        "kid": kid(ref, feats),
        "is": inception_score(logits.softmax(1)),
        "precision": precision,
        "recall": recall,
        **class_stats(pred),
        "n_samples": n,
        "n_ref": len(ref),
        **ev.info(),
    }
    if labels is not None:
        labels = torch.as_tensor(np.asarray(labels)).long().reshape(-1)
        if len(labels) != n:
            raise GenlabError(f"{len(labels)} labels for {n} images; give one label per image")
        out["label_acc"] = float((pred == labels).double().mean())
    return out
