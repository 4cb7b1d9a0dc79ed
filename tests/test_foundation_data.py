"""Data: embedded MNIST, IDX round trip and validation, NPZ, image folders, verified downloads."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from genlab.data.datasets import embedded_mnist, load_dataset
from genlab.data.idx import idx_bytes, parse_idx, read_idx
from genlab.errors import GenlabError


def test_embedded_mnist_split_is_deterministic_and_stratified():
    d = embedded_mnist()
    assert d.x_train.shape == (4000, 1, 28, 28) and d.x_test.shape == (1000, 1, 28, 28)
    assert np.bincount(d.y_test.numpy()).tolist() == [100] * 10
    assert 0.0 <= float(d.x_train.min()) and float(d.x_train.max()) <= 1.0
    assert float(d.x_train.mean()) < 0.2, "ink bright on a dark background"


def test_heldout_subset_gives_every_digit_its_share():
    d = embedded_mnist()
    assert len(set(d.y_test[:100].tolist())) == 1  # the split is sorted by class: a prefix is all zeros
    x, y = d.heldout(500)
    assert x.shape == (500, 1, 28, 28) and np.bincount(y.numpy(), minlength=10).tolist() == [50] * 10
    assert torch.equal(x, d.x_test[::2])


def test_export_then_load_idx_round_trip(tmp_path, cli):
    r = cli("data", "export", "mnist", "--out", tmp_path / "idx", "--gzip")
    assert r.returncode == 0, r.stderr
    d = load_dataset(str(tmp_path / "idx"))
    ref = embedded_mnist()
    assert d.x_train.shape == ref.x_train.shape
    assert float((d.x_train - ref.x_train).abs().max()) <= 1 / 255 + 1e-6
    assert d.y_test.tolist() == ref.y_test.tolist()


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda b: b[:3], "not an IDX file"),
        (lambda b: b"\x01" + b[1:], "bad magic"),
        (lambda b: b[:-5], "truncated"),
        (lambda b: b + b"xx", "trailing bytes"),
    ],
)
def test_idx_validation(mutate, needle):
    good = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    assert parse_idx(good).shape == (3, 4, 4)
    with pytest.raises(GenlabError, match=needle):
        parse_idx(mutate(good))


def test_missing_and_corrupt_idx_files_exit_2(tmp_path, cli):
    r = cli("train", "ae", "--steps", "2", "--data", tmp_path / "nothing-here", "--out", tmp_path / "r")
    assert r.returncode == 2 and "unknown dataset" in r.stderr
    d = tmp_path / "bad"
    d.mkdir()
    (d / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    r = cli("train", "ae", "--steps", "2", "--data", d, "--out", tmp_path / "r2")
    assert r.returncode == 2 and "corrupt gzip" in r.stderr, r.stderr
    assert not (tmp_path / "r2" / "checkpoints").exists() or not any((tmp_path / "r2" / "checkpoints").iterdir())


def test_npz_and_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(0, 255, (20, 28, 28), dtype=np.uint8), y=np.arange(20) % 2)
    d = load_dataset(str(tmp_path / "d.npz"))
    assert len(d.x_train) + len(d.x_test) == 20
    folder = tmp_path / "faces"
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(folder / cls / f"{i}.png")
    (folder / "a" / "broken.png").write_bytes(b"not an image")
    d = load_dataset(str(folder), image_size=32, channels=3)
    assert d.x_train.shape[1:] == (3, 32, 32) and d.classes == ["a", "b"]
    assert len(d.x_train) + len(d.x_test) == 10


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "mirror"
    root.mkdir()
    files = {
        "train-images-idx3-ubyte.gz": np.full((6, 28, 28), 7, np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(6, dtype=np.uint8) % 3,
        "t10k-images-idx3-ubyte.gz": np.full((3, 28, 28), 9, np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.arange(3, dtype=np.uint8),
    }
    sums = {}
    for name, arr in files.items():
        data = gzip.compress(idx_bytes(arr), mtime=0)
        (root / name).write_bytes(data)
        sums[name] = hashlib.md5(data).hexdigest()
    (tmp_path / "sums.json").write_text(json.dumps(sums))
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", tmp_path / "sums.json", root
    server.shutdown()


def test_download_verifies_and_never_leaves_partial_files(mirror, tmp_path, cli):
    url, sums, root = mirror
    cache = tmp_path / "cache"
    env = {"GENLAB_CACHE": str(cache)}
    r = cli("data", "download", "mnist", "--base-url", url, "--checksums", sums, env=env)
    assert r.returncode == 0, r.stderr
    target = cache / "datasets" / "mnist-full"
    assert read_idx(target / "train-images-idx3-ubyte.gz").shape == (6, 28, 28)
    # a tampered mirror: checksum mismatch, nothing left behind
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"garbage"))
    (target / "t10k-labels-idx1-ubyte.gz").unlink()
    r = cli("data", "download", "mnist", "--base-url", url, "--checksums", sums, env=env)
    assert r.returncode == 2 and "checksum mismatch" in r.stderr
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    )
    # an unreachable mirror: a clean error
    r = cli("data", "download", "fashion-mnist", "--base-url", "http://127.0.0.1:9/", env=env)
    assert r.returncode == 2 and "failed" in r.stderr
