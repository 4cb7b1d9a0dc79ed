"""Evaluation kit: Fréchet distance, the evaluator, sample-quality metrics, SSIM, IWAE, other families."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genlab.data.datasets import embedded_mnist
from genlab.metrics.families import fewshot_accuracy, recall_at_k, return_stats
from genlab.metrics.likelihood import iwae_nll
from genlab.metrics.quality import fid, frechet_distance, kid, precision_recall, sample_quality
from genlab.metrics.reconstruction import reconstruction_metrics, ssim


# ----------------------------------------------------------------------------- pure maths
def test_frechet_distance_matches_closed_form():
    # 1-D: (m1 - m2)^2 + s1^2 + s2^2 - 2 s1 s2
    assert frechet_distance([0.0], [[4.0]], [1.0], [[1.0]]) == pytest.approx(1 + 4 + 1 - 2 * 2)
    # diagonal: sum over dimensions of the 1-D formula
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=5), rng.normal(size=5)
    v1, v2 = rng.uniform(0.2, 3, 5), rng.uniform(0.2, 3, 5)
    expected = ((m1 - m2) ** 2 + v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()
    assert frechet_distance(m1, np.diag(v1), m2, np.diag(v2)) == pytest.approx(expected, rel=1e-9)
    # full covariances: invariant under a common rotation
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    assert frechet_distance(q @ m1, q @ np.diag(v1) @ q.T, q @ m2, q @ np.diag(v2) @ q.T) == pytest.approx(
        expected, rel=1e-6
    )


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    f = np.random.default_rng(1).normal(size=(500, 16))
    assert fid(f, f) == pytest.approx(0.0, abs=1e-6)
    assert fid(f, f + 0.5) == pytest.approx(16 * 0.25, rel=1e-6)  # pure mean shift
    assert abs(kid(f, f[::-1].copy())) < 0.05 and kid(f, f + 2.0) > 1.0
    assert precision_recall(f, f) == (1.0, 1.0) and precision_recall(f, f + 10.0) == (0.0, 0.0)
    g = np.random.default_rng(2).normal(size=(1000, 2))
    precision, recall = precision_recall(g, g[g[:, 0] > 0.5])  # drops 70 % of the mass: precise, low recall
    assert precision > 0.95 and 0.25 < recall < 0.45


def test_ssim_and_iwae_bound():
    x = embedded_mnist().x_test[:64]
    assert ssim(x, x).min().item() == pytest.approx(1.0, abs=1e-5)
    noisy = (x + 0.2 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    blurred = F.avg_pool2d(x, 3, 1, 1)
    s_noisy, s_blur = ssim(x, noisy).mean().item(), ssim(x, blurred).mean().item()
    # reference: scikit-image 0.26 structural_similarity(gaussian_weights=True, sigma=1.5,
    # use_sample_covariance=False, data_range=1.0), averaged over the 64 images
    assert s_noisy == pytest.approx(0.787728, abs=1e-4) and s_blur == pytest.approx(0.858932, abs=1e-4)
    assert ssim(x, noisy).allclose(ssim(noisy, x), atol=1e-6)
    m = reconstruction_metrics(x, blurred)
    assert {"recon_mse", "psnr", "ssim", "pixel_mass_lost"} <= set(m) and m["ssim"] == pytest.approx(s_blur, rel=1e-5)

    # Toy model with a known likelihood: z ~ N(0,1), x|z ~ N(z,1) => x ~ N(0,2); q(z|x) = N(x/2, 1).
    def normal_logpdf(v, mean, var):
        return -0.5 * (math.log(2 * math.pi * var) + (v - mean) ** 2 / var)

    g = torch.Generator().manual_seed(0)
    xs = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    z = xs / 2 + torch.randn(2000, 3, generator=g, dtype=torch.float64)
    lw = normal_logpdf(xs, z, 1.0) + normal_logpdf(z, 0.0, 1.0) - normal_logpdf(z, xs / 2, 1.0)
    exact = -normal_logpdf(xs, 0.0, 2.0)
    elbo_nll, iwae = iwae_nll(lw[:1]), iwae_nll(lw)
    assert torch.allclose(iwae, exact, atol=0.05)
    assert (-lw.mean(0) > exact + 0.1).all()  # the ELBO bound is looser (by KL(q || posterior) = 0.15 nats)
    assert elbo_nll.shape == (3,) and torch.equal(elbo_nll, -lw[0])


def test_other_families_metrics():
    fs = fewshot_accuracy([0.5, 0.7, 0.6, 0.6])
    assert fs["accuracy"] == pytest.approx(0.6) and fs["ci95"] == pytest.approx(
        1.96 * np.std([0.5, 0.7, 0.6, 0.6], ddof=1) / 2
    )
    sim = torch.eye(20) + 0.01 * torch.arange(20.0)[None, :]  # the match always wins
    assert recall_at_k(sim) == {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0}
    shifted = torch.roll(torch.eye(20), 1, dims=1) * 2 + torch.eye(20)  # the match always ranks 2nd
    assert recall_at_k(shifted, ks=(1, 2)) == {"recall@1": 0.0, "recall@2": 1.0}
    rs = return_stats([100, 200, 300], threshold=195)
    assert rs["mean_return"] == 200 and rs["min_return"] == 100 and rs["episodes"] == 3 and rs["solved"] is True
    assert return_stats([1.0])["solved"] is None


# ----------------------------------------------------------------------------- with the evaluator
@pytest.fixture(scope="module")
def evaluator():
    from genlab.metrics.evaluator import get_evaluator

    return get_evaluator()  # trained once per test session into the session GENLAB_CACHE


def _random_train_digits(n: int, seed: int = 0) -> torch.Tensor:
    x = embedded_mnist().x_train
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]]


@pytest.mark.slow
def test_evaluator_is_accurate_cached_and_accepts_every_layout(evaluator, tmp_path):
    from genlab.metrics.evaluator import _load_cached, cache_stem
    from genlab.utils.images import to_uint8

    d = embedded_mnist()
    assert evaluator.accuracy >= 0.97
    pred = evaluator.predict(d.x_test)
    assert pred.dtype == torch.long and float((pred == d.y_test).float().mean()) == pytest.approx(evaluator.accuracy)
    assert torch.equal(evaluator.predict(to_uint8(d.x_test[:200])), pred[:200])  # uint8 (N, 28, 28)
    big = F.interpolate(d.x_test[:200], size=56, mode="bilinear").repeat(1, 3, 1, 1)  # RGB, 56x56
    assert float((evaluator.predict(big) == pred[:200]).float().mean()) > 0.95
    assert evaluator.features(d.x_test[:5]).shape == (5, 128)
    assert evaluator.probs(d.x_test[:5]).sum(1).allclose(torch.ones(5))
    cached = _load_cached(cache_stem())  # verified against its checksum
    assert cached is not None and cached.accuracy == evaluator.accuracy
    copy = tmp_path / cache_stem().name
    for suffix in (".json", ".safetensors"):
        shutil.copyfile(cache_stem().with_suffix(suffix), copy.with_suffix(suffix))
    data = bytearray(copy.with_suffix(".safetensors").read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the weights: rejected (and so retrained)
    copy.with_suffix(".safetensors").write_bytes(bytes(data))
    assert _load_cached(copy) is None


@pytest.mark.slow
def test_fid_orders_real_blurred_noise(evaluator):
    real = _random_train_digits(1000)
    kernel = torch.tensor([1.0, 4, 6, 4, 1])
    kernel = (kernel[:, None] * kernel[None, :] / 256)[None, None]
    blurred = F.conv2d(F.conv2d(real, kernel, padding=2), kernel, padding=2)
    noise = torch.rand(real.shape, generator=torch.Generator().manual_seed(0))
    q_real, q_blur, q_noise = (sample_quality(x) for x in (real, blurred, noise))
    assert q_real["fid"] < 2 * q_real["fid_floor"]  # real train digits score at the floor
    assert 10 * q_real["fid"] < q_blur["fid"] < q_noise["fid"]
    assert q_real["kid"] < 0.1 * q_blur["kid"]
    assert q_real["is"] > 8 and q_noise["is"] < 2
    assert q_real["precision"] > 0.85 and q_real["recall"] > 0.85  # real vs real: near 1/1
    assert q_real["coverage"] == 10 and q_real["class_entropy"] > 3.2
    assert q_noise["precision"] < 0.3 and q_noise["recall"] < 0.1


@pytest.mark.slow
def test_single_digit_generator_has_low_recall_and_coverage_one(evaluator):
    d = embedded_mnist()
    threes = d.x_train[d.y_train == 3]
    q = sample_quality(threes, labels=torch.full((len(threes),), 3))
    assert q["coverage"] == 1 and q["class_entropy"] < 0.5
    assert q["recall"] < 0.3 and q["precision"] > 0.7  # realistic, but only one mode
    assert q["label_acc"] > 0.97
    assert sample_quality(d.x_test, labels=(d.y_test + 1) % 10)["label_acc"] < 0.05  # wrong classes asked
