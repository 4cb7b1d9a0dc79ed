"""DCGAN: it learns digits (FID far below noise's), training is visible, RGB folders work,
and a run whose discriminator wins outright stops with a clear message."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from genlab.train.engine import train

STEPS = 300
VITALS = ("d_loss", "g_loss", "d_real_acc", "d_fake_acc", "d_grad_norm", "g_grad_norm")


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan") / "dcgan"
    train(
        "dcgan",
        "quick",
        {"steps": STEPS, "batch_size": 32, "eval_every": 100, "sample_every": 100, "log_every": 20, "progress": False},
        out=out,
    )
    return out


@pytest.mark.slow
def test_dcgan_learns_digits_far_better_than_noise(dcgan_run):
    from genlab.metrics.quality import sample_quality

    ev = json.loads((dcgan_run / "eval.json").read_text())
    noise = sample_quality(torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    assert ev["n_samples"] == 1000
    # the default (width 64, non-saturating loss with R1, lr 1e-3 / 2e-3) after 300 steps of batch 32:
    # FID 184 against noise's 754, coverage 10 (the hinge loss with spectral norm at lr 2e-4 / 4e-4: 399)
    assert ev["fid"] < 0.4 * noise["fid"], (ev["fid"], noise["fid"])
    assert ev["coverage"] >= 9


def test_dcgan_training_is_visible(dcgan_run):
    rows = [json.loads(line) for line in (dcgan_run / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "d_loss" in r]
    assert len(train_rows) == STEPS // 20 and all(k in r for r in train_rows for k in VITALS)
    coverage = [r["coverage"] for r in rows if "coverage" in r]
    assert len(coverage) == STEPS // 100 and coverage[-1] >= 8
    for name in ("samples/progress.gif", "plots/gan_dynamics.png", "samples/final.png"):
        assert (dcgan_run / name).stat().st_size > 0, name


def test_dcgan_sample_cli(dcgan_run, cli, tmp_path):
    out = tmp_path / "s.npy"
    r = cli("sample", dcgan_run, "--n", 10, "--out", out, "--seed", 3)
    assert r.returncode == 0, r.stderr
    x = np.load(out)
    assert x.shape == (10, 28, 28) and x.dtype == np.uint8 and x.std() > 10
    r = cli("sample", dcgan_run, "--n", 4, "--out", tmp_path / "t.npy", "--label", 3)
    assert r.returncode == 2 and "does not take --label" in r.stderr


def test_rgb_image_folder_trains_at_32px(tmp_path, cli):
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(24):
        img = np.zeros((40, 40, 3), np.uint8)
        img[8:32, 8:32] = rng.integers(60, 255, 3)  # a coloured square on black
        Image.fromarray(img).save(folder / f"{i}.png")
    for preset in ("quick", "book"):
        run = tmp_path / f"rgb-{preset}"
        r = cli(
            "train",
            "dcgan",
            "--preset",
            preset,
            "--data",
            folder,
            "--set",
            "channels=3",
            "--set",
            "image_size=32",
            "--steps",
            4,
            "--set",
            "batch_size=8",
            "--set",
            "progress=false",
            "--out",
            run,
        )
        assert r.returncode == 0, r.stderr
        assert "digit evaluator" in json.loads((run / "eval.json").read_text())["note"]
    r = cli("sample", tmp_path / "rgb-quick", "--n", 5, "--out", tmp_path / "rgb.npy")
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "rgb.npy").shape == (5, 3, 32, 32)


@pytest.mark.parametrize(
    "detector,sets,message",
    [
        ("coverage", ["eval_every=5", "collapse_patience=3", "collapse_grace=0"], "mode collapse at step 15"),
        ("discriminator", ["eval_every=0", "lr_d=2e-3", "d_pinned_steps=25"], "100% right on every batch"),
    ],
)
def test_a_failed_run_stops_with_a_clear_message_and_keeps_its_checkpoint(detector, sets, message, tmp_path, cli):
    """A generator that cannot learn (lr 1e-9) makes one digit class and loses every duel."""
    run = tmp_path / detector
    extra = [arg for s in sets for arg in ("--set", s)]
    r = cli(
        "train",
        "dcgan",
        "--steps",
        300,
        "--out",
        run,
        "--set",
        "lr=1e-9",
        "--set",
        "ckpt_every=5",
        "--set",
        "batch_size=32",
        "--set",
        "progress=false",
        *extra,
    )
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert list((run / "checkpoints").glob("step_*.safetensors"))
