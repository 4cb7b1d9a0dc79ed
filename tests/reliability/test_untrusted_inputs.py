"""Untrusted files, beyond what the fuzzers reach: pickles hidden in .npz files, pixel and byte
limits that hold even when Pillow's own guard is off, and gzip bombs read only up to the limit."""

from __future__ import annotations

import gzip
import json
import os
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from genlab.data.datasets import load_npz
from genlab.data.idx import idx_bytes, read_idx
from genlab.data.images import MAX_IMAGE_BYTES, decode_image
from genlab.errors import GenlabError
from genlab.pipelines.search import FORMAT, SearchIndex


class MakesADirectory:
    """Unpickling this runs os.mkdir: the marker folder shows whether anything was executed."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


@pytest.mark.parametrize("loader", ["dataset", "search index"])
def test_npz_files_are_never_unpickled(tmp_path, loader):
    marker = tmp_path / "executed"
    evil = np.array([MakesADirectory(marker)], dtype=object)
    path = tmp_path / "evil.npz"
    if loader == "dataset":
        np.savez(path, x=evil, y=np.zeros(1))
        with pytest.raises(GenlabError, match="not a readable .npz"):
            load_npz(path)
    else:
        header = {"format": FORMAT, "root": str(tmp_path), "model": "run", "model_sha256": ""}
        np.savez(
            path,
            embeddings=np.zeros((1, 8), np.float16),
            paths=evil,
            sha256=np.zeros((1, 32), np.uint8),
            header=np.array(json.dumps(header)),
        )
        with pytest.raises(GenlabError, match="not a readable genlab search index"):
            SearchIndex.load(path)
    assert not marker.exists(), "nothing executed from an untrusted file"


def test_the_pixel_limit_holds_when_pillows_own_guard_is_off(monkeypatch, bomb_png):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # as some libraries set it
    with pytest.raises(GenlabError, match="pixel"):
        decode_image(bomb_png(8_100), "bomb.png")  # 65.6 M pixels, just over genlab's 64 M


def test_images_over_the_byte_limit_are_refused():
    with pytest.raises(GenlabError, match="byte limit"):
        decode_image(bytes(MAX_IMAGE_BYTES + 1), "huge.png")


def test_a_gzip_bomb_is_decompressed_only_up_to_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("genlab.data.idx.MAX_IDX_BYTES", 100_000)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((40_000, 28, 28), np.uint8)), mtime=0))  # 31 MB inside, ~30 KB
    tracemalloc.start()
    try:
        with pytest.raises(GenlabError, match="more than genlab will load"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak / 1e6:.1f} MB held while refusing the file"
