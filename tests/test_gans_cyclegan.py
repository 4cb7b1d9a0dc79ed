"""CycleGAN thin <-> bold: translated digits keep their class, their strokes move toward the
target domain, cycles come back, and `genlab translate` works on .npy files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genlab.train.engine import train

STEPS = 120


@pytest.fixture(scope="module")
def cycle_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan") / "cyclegan"
    train(
        "cyclegan",
        "quick",
        {"steps": STEPS, "batch_size": 8, "eval_every": 60, "log_every": 20, "progress": False},
        out=out,
    )
    return out


@pytest.mark.slow
def test_translation_keeps_the_digit_and_moves_the_thickness(cycle_run):
    ev = json.loads((cycle_run / "eval.json").read_text())
    assert ev["class_kept_a2b"] >= 0.9 and ev["class_kept_b2a"] >= 0.9, ev
    assert ev["thickness_a2b"] > ev["thickness_a"] + 0.3 * (ev["thickness_b"] - ev["thickness_a"]), ev
    assert ev["thickness_b2a"] < ev["thickness_b"] - 0.3 * (ev["thickness_b"] - ev["thickness_a"]), ev
    assert ev["cycle_l1_a"] < 0.08 and ev["cycle_l1_b"] < 0.08, ev
    rows = [json.loads(line) for line in (cycle_run / "metrics.jsonl").read_text().splitlines()]
    assert all(
        k in rows[0]
        for k in ("d_loss", "g_loss", "cycle_loss", "identity_loss", "d_real_acc", "d_fake_acc", "g_grad_norm")
    )
    assert (cycle_run / "samples" / "translations.png").exists()


def test_translate_cli(cycle_run, cli, tmp_path):
    from genlab.data.datasets import embedded_mnist
    from genlab.utils.ink import stroke_thickness

    x = (embedded_mnist().x_test[:40, 0].numpy() * 255).astype(np.uint8)
    src, out, png = tmp_path / "in.npy", tmp_path / "out.npy", tmp_path / "pairs.png"
    np.save(src, x)
    r = cli("translate", cycle_run, "--direction", "a2b", "--in", src, "--out", out, "--png", png)
    assert r.returncode == 0, r.stderr
    y = np.load(out)
    assert y.shape == x.shape and y.dtype == np.uint8 and png.exists()
    assert stroke_thickness(y).mean() > stroke_thickness(x).mean() + 0.2

    np.save(tmp_path / "rgb.npy", np.zeros((2, 3, 32, 32), np.uint8))
    for args, message in [
        (("--in", tmp_path / "rgb.npy"), "translates (1, 28, 28)"),
        (("--in", tmp_path / "nope.npy"), "not found"),
        (("--in", png), "must be a .npy"),
    ]:
        r = cli("translate", cycle_run, "--direction", "b2a", *args, "--out", tmp_path / "o.npy")
        assert r.returncode == 2 and message in r.stderr, r.stderr
    r = cli("translate", cycle_run, "--direction", "sideways", "--in", src, "--out", tmp_path / "o.npy")
    assert r.returncode == 2
