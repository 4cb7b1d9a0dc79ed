"""Fuzzing the untrusted-input paths: any bytes give a result or a clean GenlabError, never an
uncaught exception, a hang or unbounded memory."""

from __future__ import annotations

import gzip
import io
import struct

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from genlab.data.datasets import load_npz
from genlab.data.idx import idx_bytes, parse_idx, read_idx
from genlab.data.images import decode_image
from genlab.errors import GenlabError

FAST = settings(
    max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _png(w=8, h=8) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((h, w), np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@FAST
@given(st.binary(max_size=600))
def test_parse_idx_any_bytes(data):
    try:
        arr = parse_idx(data)
        assert arr.size * arr.itemsize <= len(data)
    except GenlabError:
        pass


@FAST
@given(st.integers(0, 255), st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4), st.binary(max_size=64))
def test_parse_idx_huge_declared_sizes(code, dims, tail):
    data = struct.pack(">HBB", 0, code, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + tail
    try:
        parse_idx(data)  # must not try to allocate what the header claims
    except GenlabError:
        pass


@FAST
@given(st.integers(0, 400), st.integers(0, 255))
@example(cut=20, flip=4)  # a corrupt deflate block: zlib.error, not OSError
def test_read_idx_mutated_gzip(tmp_path_factory, cut, flip):
    good = gzip.compress(idx_bytes(np.arange(64, dtype=np.uint8).reshape(4, 4, 4)), mtime=0)
    data = bytearray(good[: max(1, min(cut, len(good)))])
    data[len(data) // 2] ^= flip
    path = tmp_path_factory.mktemp("idx") / "x.gz"
    path.write_bytes(bytes(data))
    try:
        read_idx(path)
    except GenlabError:
        pass


@FAST
@given(st.binary(max_size=400), st.integers(0, 300))
def test_decode_image_mutated_png(noise, pos):
    base = bytearray(_png())
    data = bytes(base[:pos]) + noise + bytes(base[pos + len(noise) :])
    try:
        arr = decode_image(data, "fuzz.png", size=28)
        assert arr.shape == (1, 28, 28) and np.isfinite(arr).all()
    except GenlabError:
        pass


def test_decode_image_bomb_is_refused_fast(bomb_png):
    import time

    data = bomb_png(20_000)  # a real 400-megapixel PNG: refused from its header, never decoded
    t0 = time.time()
    try:
        decode_image(data, "bomb.png")
        raise AssertionError("a 400-megapixel image was accepted")
    except GenlabError as e:
        assert "pixel" in str(e)
    assert time.time() - t0 < 2


@FAST
@given(st.binary(max_size=800))
def test_load_npz_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("npz") / "x.npz"
    path.write_bytes(data)
    try:
        load_npz(path)
    except GenlabError:
        pass


@settings(max_examples=60, deadline=5000)
@given(st.text(max_size=300))
def test_caption_prompt_path_any_text(text):
    """The CLIP tokenizer takes any prompt (empty, long, non-Latin, control characters)."""
    ids = _tokenizer().encode([text])
    assert ids.shape == (1, _tokenizer().max_len)


_TOK = {}


def _tokenizer():
    from genlab.multimodal.captions import CaptionGenerator
    from genlab.multimodal.tokenizer import Tokenizer

    if "t" not in _TOK:
        _TOK["t"] = Tokenizer.train(CaptionGenerator().corpus(), vocab_size=256)
    return _TOK["t"]
