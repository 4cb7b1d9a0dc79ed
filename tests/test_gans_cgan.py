"""Conditional GAN: samples asked for digit K are read as K; --label is validated."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genlab.train.engine import train

STEPS = 600


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan") / "cgan"
    train(
        "cgan",
        "quick",
        {"steps": STEPS, "batch_size": 32, "eval_every": 200, "log_every": 50, "progress": False},
        out=out,
    )
    return out


@pytest.mark.slow
def test_cgan_draws_the_digit_it_is_asked_for(cgan_run):
    ev = json.loads((cgan_run / "eval.json").read_text())
    assert ev["label_acc"] >= 0.8, ev[
        "label_acc"
    ]  # measured 0.851-0.856 at this test budget (hinge, TTUR); the 0.9 target is for the quick preset
    assert ev["coverage"] == 10
    rows = [json.loads(line) for line in (cgan_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["label_acc"] for r in rows if "label_acc" in r][-1] >= 0.8  # measured 0.856-0.874


def test_sample_label_cli(cgan_run, cli, tmp_path):
    from genlab.metrics.evaluator import get_evaluator

    out = tmp_path / "sevens.npy"
    r = cli("sample", cgan_run, "--n", 50, "--label", 7, "--out", out, "--seed", 1)
    assert r.returncode == 0, r.stderr
    pred = get_evaluator().predict(np.load(out))
    assert (pred == 7).float().mean() >= 0.7  # measured 0.82 at this test budget
    r = cli("sample", cgan_run, "--n", 5, "--label", 12, "--out", tmp_path / "bad.npy")
    assert r.returncode == 2 and "out of range" in r.stderr and not (tmp_path / "bad.npy").exists()
