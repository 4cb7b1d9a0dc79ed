"""Shared test setup: pinned threads, a per-session cache, and a helper to run the CLI."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# under pytest-xdist (-n 2) each worker gets one core; alone, the tests may use both
os.environ.setdefault("GENLAB_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import zlib  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ["GENLAB_THREADS"]))


@pytest.fixture(scope="session", autouse=True)
def genlab_cache(tmp_path_factory):
    """Every test session starts from an empty cache (as on a fresh machine), shared by its tests
    (and by all xdist workers of the session: the evaluator is trained once, under a file lock)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "genlab-cache"
        path.mkdir(exist_ok=True)
    else:
        path = tmp_path_factory.mktemp("genlab-cache")
    old = os.environ.get("GENLAB_CACHE")
    os.environ["GENLAB_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("GENLAB_CACHE", None)
    else:
        os.environ["GENLAB_CACHE"] = old


def run_cli(*args, cwd=None, timeout=600, env=None) -> subprocess.CompletedProcess:
    """Run `python -m genlab ARGS` in a subprocess; returns the completed process (text mode)."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "genlab", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=e,
    )


@pytest.fixture
def cli():
    return run_cli


def blank_png(side: int) -> bytes:
    """A valid side x side grayscale PNG of zeros, built in a moment (a 20,000-pixel side is about
    400 KB of file and 400 MB decoded: a decompression bomb). One deflate block of 100 rows, ended
    by a full flush so it does not refer back, is repeated, then closed with the Adler-32 of all
    those zeros. ``side`` must be a multiple of 100."""
    if side % 100:
        raise ValueError("blank_png builds images in blocks of 100 rows")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytes(side + 1) * 100  # filter byte + pixels, 100 rows
    co = zlib.compressobj(9)
    head = co.compress(rows) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(rows) + co.flush(zlib.Z_FULL_FLUSH)
    adler = (((side + 1) * side % 65521) << 16) | 1
    idat = head + block * (side // 100 - 1) + co.flush()[:-4] + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def bomb_png():
    """``blank_png``: ``bomb_png(20_000)`` is a real 400-megapixel PNG of about 400 KB."""
    return blank_png
