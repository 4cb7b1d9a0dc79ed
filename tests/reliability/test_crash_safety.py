"""Nothing lost under faults: SIGKILL during checkpoint writes, writes cut short, a full disk, damaged
checkpoints, torn metrics lines; nothing executed from pickles."""

from __future__ import annotations

import contextlib
import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from genlab.errors import GenlabError
from genlab.pipelines.search import SearchIndex
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
                raise AssertionError(f"trial {trial}: {stem.name} counts as a checkpoint but fails to load") from None
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
    r = cli(
        "train",
        "ae",
        "--steps",
        "4",
        "--set",
        "ckpt_every=2",
        "--set",
        "tensorboard=false",
        "--out",
        tiny_fs / "run",
        "--set",
        "hidden=512,256",
        "--set",
        "arch=mlp",
    )
    assert r.returncode == 2, r.stderr
    assert "no space left" in r.stderr and "Traceback" not in r.stderr


def test_torn_metrics_line_is_tolerated(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text('{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4}\n{"step": 3, "lo')
    assert [r["step"] for r in read_jsonl(p)] == [1, 2]
    p.write_bytes('{"step": 1, "loss": 0.5}\n{"step": 2, "note": "é"}'.encode()[:-3])  # cut inside a UTF-8 character
    assert [r["step"] for r in read_jsonl(p)] == [1]


@contextlib.contextmanager
def file_size_limit(nbytes: int):
    """Writes past ``nbytes`` fail midway with EFBIG (Python ignores SIGXFSZ): a write cut short, as by
    a crash or a quota, at a moment the test chooses."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_checkpoint_write_cut_short_keeps_the_previous_one(tmp_path):
    stem = tmp_path / "best"  # rewritten in place whenever the score improves
    save_checkpoint(stem, {"w": torch.ones(100)}, {"step": 1})
    with file_size_limit(200_000), pytest.raises(GenlabError, match="cannot write"):
        save_checkpoint(stem, {"w": torch.zeros(1_000_000)}, {"step": 2})  # 4 MB
    state, meta = load_checkpoint(stem)
    assert meta["step"] == 1 and torch.equal(state["w"], torch.ones(100))
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"


def test_a_search_index_write_cut_short_keeps_the_previous_index(tmp_path):
    def index(n: int) -> SearchIndex:
        emb = np.random.default_rng(n).standard_normal((n, 64)).astype(np.float16)
        return SearchIndex(
            str(tmp_path), "run", "0" * 64, [f"{i}.png" for i in range(n)], [f"{i:064x}" for i in range(n)], emb
        )

    path = tmp_path / "index.npz"
    index(10).save(path)
    with file_size_limit(50_000), pytest.raises(GenlabError, match="cannot write"):
        index(5000).save(path)  # 640 KB of embeddings
    loaded = SearchIndex.load(path)
    assert loaded.paths == index(10).paths and np.array_equal(loaded.embeddings, index(10).embeddings)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_damaged_checkpoint_is_detected_and_resume_skips_it(tmp_path):
    for step in (1, 2):
        save_checkpoint(tmp_path / f"step_{step:07d}", {"w": torch.full((1000,), float(step))}, {"step": step})
    newest = tmp_path / "step_0000002.safetensors"
    data = bytearray(newest.read_bytes())
    data[-10] ^= 0x01  # one bit of a weight: the file still parses, only the checksum tells
    newest.write_bytes(bytes(data))
    with pytest.raises(GenlabError, match="checksum mismatch"):
        load_checkpoint(tmp_path / "step_0000002")
    stem, state, meta = latest_good_checkpoint(tmp_path)
    assert stem.name == "step_0000001" and meta["step"] == 1 and torch.equal(state["w"], torch.ones(1000))


def test_pickles_are_refused_unless_trusted(tmp_path, cli):
    from genlab.autoencoders.ae import Autoencoder

    good = tmp_path / "book_ae.pt"
    torch.save({k: torch.full_like(v, 0.25) for k, v in Autoencoder().state_dict().items()}, good)
    with pytest.raises(GenlabError, match="pickle-based"):
        load_checkpoint(good)
    r = cli("import", "ae", good, "--out", tmp_path / "run")
    assert r.returncode == 2 and "--trust-pickle" in r.stderr
    assert not (tmp_path / "run").exists()
    r = cli("import", "ae", good, "--out", tmp_path / "run", "--trust-pickle")
    assert r.returncode == 0, r.stderr
    state, _ = load_checkpoint(list_checkpoints(tmp_path / "run" / "checkpoints")[0])
    assert all(torch.all(t == 0.25) for t in state["recipe"]["nets"]["model"].values() if t.is_floating_point())
    assert cli("sample", tmp_path / "run", "--n", "2", "--out", tmp_path / "s.npy").returncode == 0

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    evil = tmp_path / "evil.pt"
    torch.save({"w": Evil()}, evil)
    r = cli("import", "ae", evil, "--out", tmp_path / "run2", "--trust-pickle")
    assert r.returncode == 2 and "weights_only" in r.stderr
    assert not (tmp_path / "pwned").exists(), "nothing executed from an untrusted file"
