"""Chapter 5.1: classic, denoising and sparse autoencoders learn what they should.

One small run per model (the book's MLP, batch 64) is shared by the tests of this module.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from genlab.cli import main as genlab_main
from genlab.train.engine import load_run, train

pytestmark = pytest.mark.slow

SMALL = {"arch": "mlp", "batch_size": 64, "eval_samples": 0, "progress": False, "log_every": 50}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ae-runs")
    steps = {"ae": 600, "dae": 600, "sparse-ae": 300}
    return {m: train(m, "quick", {**SMALL, "steps": n}, out=root / m).path for m, n in steps.items()}


def test_ae_reconstructs_held_out_digits(runs):
    ev = json.loads((runs["ae"] / "eval.json").read_text())
    assert ev["recon_mse"] < 0.035 and ev["psnr"] > 15.0
    assert ev["recon_acc"] > 0.8  # the digit survives the round trip
    assert ev["compression_ratio"] == 784 / 32
    assert 0 < ev["pixel_mass_lost"] < 0.6 and 0 < ev["ssim"] <= 1
    for name in ("reconstructions.png", "latent_pca.png", "interpolation.png", "interpolation.gif"):
        assert (runs["ae"] / "plots" / name).stat().st_size > 1000


def test_dae_denoises_better_than_ae_on_the_same_noisy_inputs(runs):
    ae = json.loads((runs["ae"] / "eval.json").read_text())
    dae = json.loads((runs["dae"] / "eval.json").read_text())
    assert ae["noisy_input_psnr"] == pytest.approx(dae["noisy_input_psnr"])  # same noisy digits
    assert dae["noisy_recon_psnr"] > ae["noisy_recon_psnr"] + 0.5
    assert dae["noisy_recon_psnr"] > dae["noisy_input_psnr"] + 1.5  # it removes noise


def test_sparse_ae_codes_are_sparser_than_plain_ae_codes(runs):
    sparse = json.loads((runs["sparse-ae"] / "eval.json").read_text())
    recipe, _, _ = load_run(runs["ae"])
    with torch.no_grad():
        z = recipe.encode(recipe.load_data().x_test)
    plain = float((z.abs() < 0.05).float().mean())
    assert sparse["sparsity"] > plain + 0.3
    assert sparse["recon_mse"] < 0.05


def test_explore_denoise_and_reconstruct_write_pictures(runs, tmp_path):
    out = tmp_path / "denoise.png"
    assert genlab_main(["explore", str(runs["dae"]), "--what", "denoise", "--noise", "0.5", "--out", str(out)]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape[0] > 3 * 28 and img.shape[1] > 16 * 28  # noisy | denoised | clean rows of 16
    assert img.std() > 20
    rec = tmp_path / "rec.png"
    assert genlab_main(["explore", str(runs["ae"]), "--what", "reconstruct", "--index", "5", "--out", str(rec)]) == 0
    assert np.asarray(Image.open(rec)).std() > 20


def test_explore_rejects_bad_requests(runs, tmp_path, capsys):
    assert genlab_main(["explore", str(runs["ae"]), "--what", "manifold", "--out", str(tmp_path / "m.png")]) == 2
    assert "prior" in capsys.readouterr().err
    assert genlab_main(["explore", str(runs["ae"]), "--what", "denoise", "--out", str(tmp_path / "d.jpg")]) == 2
    assert (
        genlab_main(
            ["explore", str(runs["ae"]), "--what", "denoise", "--index", "5000", "--out", str(tmp_path / "d.png")]
        )
        == 2
    )
