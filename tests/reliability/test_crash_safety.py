"""Nothing lost under faults: SIGKILL during checkpoint writes, a full disk, torn metrics lines."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from genlab.errors import GenlabError
from genlab.train.checkpoint import latest_good_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from genlab.train.runstore import read_jsonl

WRITER = textwrap.dedent(
    """
    import sys, torch
    from genlab.train.checkpoint import save_checkpoint
    folder = sys.argv[1]
    step = 0
    print("ready", flush=True)
    while True:
        step += 1
        state = {"w": torch.full((256, 1024), float(step)), "step": step}
        save_checkpoint(f"{folder}/step_{step:07d}", state, {"step": step})
    """
)


@pytest.mark.slow
def test_sigkill_during_checkpoint_writes_20_trials(tmp_path):
    """A writer saving 1 MB checkpoints back to back is killed at random moments, 20 times.
    After every kill each checkpoint that counts (both files present) loads and verifies,
    and the newest good one is found."""
    rng = random.Random(0)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    folder = tmp_path / "ckpts"
    folder.mkdir()
    damaged_seen = 0
    for trial in range(20):
        p = subprocess.Popen([sys.executable, str(script), str(folder)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))
        p.send_signal(signal.SIGKILL)
        p.wait()
        stems = list_checkpoints(folder)
        good = latest_good_checkpoint(folder)
        if stems:
            assert good is not None, f"trial {trial}: no loadable checkpoint left"
        for stem in stems:
            try:
                load_checkpoint(stem)
            except GenlabError:
                damaged_seen += 1
                raise AssertionError(f"trial {trial}: {stem.name} counts as a checkpoint but fails to load")
        for leftover in folder.glob(".*.tmp"):  # temp files of a killed write never count
            leftover.unlink()
        for stem in stems:  # keep the folder small between trials
            stem.with_suffix(".json").unlink()
            stem.with_suffix(".safetensors").unlink()
    assert damaged_seen == 0


@pytest.fixture
def tiny_fs(tmp_path):
    mnt = tmp_path / "full"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_full_disk_keeps_previous_checkpoint(tiny_fs):
    save_checkpoint(tiny_fs / "step_0000001", {"w": torch.ones(1000)}, {"step": 1})
    with pytest.raises(GenlabError, match="no space left"):
        save_checkpoint(tiny_fs / "step_0000002", {"w": torch.ones(1_000_000)}, {"step": 2})
    stems = list_checkpoints(tiny_fs)
    assert [s.name for s in stems] == ["step_0000001"]
    state, meta = load_checkpoint(stems[0])
    assert meta["step"] == 1 and torch.equal(state["w"], torch.ones(1000))
    assert not list(tiny_fs.glob(".*.tmp")), "no temporary file left behind"


def test_full_disk_training_run_fails_cleanly(tiny_fs, cli):
    r = cli("train", "ae", "--steps", "4", "--set", "ckpt_every=2", "--set", "tensorboard=false", "--out", tiny_fs / "run",
            "--set", "hidden=512,256", "--set", "arch=mlp")
    assert r.returncode == 2, r.stderr
    assert "no space left" in r.stderr and "Traceback" not in r.stderr


def test_torn_metrics_line_is_tolerated(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text('{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4}\n{"step": 3, "lo')
    assert [r["step"] for r in read_jsonl(p)] == [1, 2]


def test_pickles_are_refused_unless_trusted(tmp_path, cli):
    from genlab.autoencoders.ae import Autoencoder

    good = tmp_path / "book_ae.pt"
    torch.save(Autoencoder().state_dict(), good)
    r = cli("import", "ae", good, "--out", tmp_path / "run")
    assert r.returncode == 2 and "--trust-pickle" in r.stderr
    assert not (tmp_path / "run").exists()
    r = cli("import", "ae", good, "--out", tmp_path / "run", "--trust-pickle")
    assert r.returncode == 0, r.stderr
    assert cli("eval", tmp_path / "run", "--json").returncode == 0

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    evil = tmp_path / "evil.pt"
    torch.save({"w": Evil()}, evil)
    r = cli("import", "ae", evil, "--out", tmp_path / "run2", "--trust-pickle")
    assert r.returncode == 2 and "weights_only" in r.stderr
    assert not (tmp_path / "pwned").exists(), "nothing executed from an untrusted file"
