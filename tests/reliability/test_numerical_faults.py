"""Numerical faults stop training with a message naming the step, keeping the last good checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.data.datasets import load_npz
from genlab.errors import GenlabError
from genlab.train.checkpoint import list_checkpoints, load_checkpoint


def test_nan_in_the_data_is_refused(tmp_path, cli):
    x = np.random.default_rng(0).random((40, 28, 28)).astype(np.float32)
    x[3, 5, 5] = np.nan
    np.savez(tmp_path / "bad.npz", x=x, y=np.arange(40) % 2)
    r = cli("train", "ae", "--steps", "3", "--data", tmp_path / "bad.npz", "--out", tmp_path / "run")
    assert r.returncode == 2 and "NaN" in r.stderr and "Traceback" not in r.stderr


def test_inf_in_images_is_refused_by_the_loader(tmp_path):
    x = np.zeros((4, 28, 28), np.float32)
    x[1, 2, 3] = np.inf  # unchecked, scaling and clipping would turn it silently into a white pixel
    np.savez(tmp_path / "bad.npz", x=x)
    with pytest.raises(GenlabError, match="NaN or Inf"):
        load_npz(tmp_path / "bad.npz")


def test_diverging_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, cli):
    run = tmp_path / "run"
    r = cli(
        "train",
        "ae",
        "--set",
        "arch=mlp",
        "--set",
        "lr=1e30",
        "--set",
        "ckpt_every=1",
        "--steps",
        "50",
        "--set",
        "tensorboard=false",
        "--out",
        run,
    )
    assert r.returncode == 3, r.stderr
    assert "loss became" in r.stderr and "at step" in r.stderr and "Traceback" not in r.stderr
    stems = list_checkpoints(run / "checkpoints")
    assert stems, "a good checkpoint from before the divergence is kept"
    state, meta = load_checkpoint(stems[0])
    assert all(np.isfinite(t.numpy()).all() for t in state["recipe"]["nets"]["model"].values() if t.is_floating_point())
