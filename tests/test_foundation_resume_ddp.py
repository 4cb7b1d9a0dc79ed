"""Exact resume after SIGKILL, and torchrun DDP matching a single process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from genlab.train.checkpoint import list_checkpoints

ARGS = ["--steps", "160", "--set", "ckpt_every=20", "--set", "log_every=10", "--set", "keep_checkpoints=3"]


def _tensors(run):
    return load_file(str(list_checkpoints(run / "checkpoints")[0]) + ".safetensors")


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical(tmp_path, cli):
    ref = tmp_path / "ref"
    assert cli("train", "ae", "--out", ref, *ARGS).returncode == 0
    run = tmp_path / "killed"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "genlab", "train", "ae", "--out", str(run), *ARGS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list_checkpoints(run / "checkpoints")) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stems = list_checkpoints(run / "checkpoints")
    assert stems and stems[0].name != "step_0000160", "killed midway"
    r = cli("train", "ae", "--out", run, "--resume", *ARGS)
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stderr
    a, b = _tensors(ref), _tensors(run)
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    ref_loss = [line for line in (ref / "metrics.jsonl").read_text().splitlines()]
    run_loss = [line for line in (run / "metrics.jsonl").read_text().splitlines()]
    strip = lambda rows: [r.split('"elapsed_s"')[0] for r in rows]  # noqa: E731
    assert strip(ref_loss) == strip(run_loss)


def test_resume_needs_a_run(tmp_path, cli):
    r = cli("train", "ae", "--resume")
    assert r.returncode == 2 and "--resume needs --out" in r.stderr
    r = cli("train", "ae", "--resume", "--out", tmp_path / "none")
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_existing_run_is_not_overwritten(tmp_path, cli):
    run = tmp_path / "r"
    assert cli("train", "ae", "--steps", "2", "--out", run).returncode == 0
    r = cli("train", "ae", "--steps", "2", "--out", run)
    assert r.returncode == 2 and "already holds a run" in r.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not on PATH")
def test_torchrun_two_processes_match_one(tmp_path, cli):
    common = [
        "train",
        "ae",
        "--steps",
        "30",
        "--set",
        "arch=mlp",
        "--set",
        "batch_size=64",
        "--set",
        "log_every=5",
        "--set",
        "ckpt_every=30",
        "--set",
        "tensorboard=false",
    ]
    single = tmp_path / "single"
    r = cli(*common, "--out", single)
    assert r.returncode == 0, r.stderr
    ddp = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", GENLAB_THREADS="1")
    r = subprocess.run(
        ["torchrun", "--standalone", "--nproc_per_node", "2", "-m", "genlab", *common, "--out", str(ddp)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert r.returncode == 0, (
        r.stderr[:2500] + "\n...\n" + r.stderr[-1500:]
    )  # the head holds a crashed rank's own message
    a, b = _tensors(single), _tensors(ddp)
    params = [k for k in a if "nets" in k and ("weight" in k or "bias" in k)]
    assert params
    for k in params:
        assert np.abs(a[k] - b[k]).max() < 1e-5, k
    import json

    la = [json.loads(x)["loss"] for x in (single / "metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(x)["loss"] for x in (ddp / "metrics.jsonl").read_text().splitlines()]
    assert len(la) == len(lb) and np.allclose(la, lb, atol=1e-5), "same loss curve"
