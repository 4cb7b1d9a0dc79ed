"""The studio's edge: uploads checked by content, size and pixels; files only inside the allowed
folders (no ../ escapes, no symlinks out); bound to 127.0.0.1 unless told, with a warning when not."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

from genlab.app.cli import streamlit_command
from genlab.app.launch import free_port, studio_command
from genlab.app.safety import inside_roots, read_file_inside, read_image_upload
from genlab.app.settings import MAX_UPLOAD_PIXELS, Settings
from genlab.cli import build_parser
from genlab.data.images import list_images
from genlab.errors import GenlabError


@pytest.fixture
def settings(tmp_path):
    runs, extra = tmp_path / "runs", tmp_path / "photos"
    runs.mkdir()
    extra.mkdir()
    return Settings(runs.resolve(), (extra.resolve(),), train=False, max_upload_mb=1)


def test_a_real_image_upload_becomes_a_28x28_digit(settings):
    buf = io.BytesIO()
    Image.fromarray(np.full((300, 200), 255, np.uint8)).save(buf, format="JPEG")  # white paper: inverted to dark
    x = read_image_upload(buf.getvalue(), "paper.jpg", settings)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and x.max() < 0.1


@pytest.mark.parametrize(
    "data, expect",
    [
        (b"hello, I am a text file renamed to .png\n", "not a readable image"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a readable image"),
    ],
)
def test_uploads_are_checked_by_content_not_name(settings, data, expect):
    with pytest.raises(GenlabError, match=expect):
        read_image_upload(data, "digit.png", settings)


def test_pixel_bombs_are_refused_from_the_header_without_decoding(settings, bomb_png):
    for side in (20_000, 5_000):  # 400 M pixels (also over Pillow's own guard), 25 M (only the studio's limit)
        data = bomb_png(side)
        assert len(data) < settings.max_upload_bytes and side * side > MAX_UPLOAD_PIXELS
        t0 = time.perf_counter()
        with pytest.raises(GenlabError, match="pixels"):
            read_image_upload(data, "bomb.png", settings)
        assert time.perf_counter() - t0 < 2.0


def test_uploads_over_the_size_limit_are_refused(settings):
    with pytest.raises(GenlabError, match="up to 1 MB"):
        read_image_upload(b"\x89PNG" + bytes(2 * 2**20), "big.png", settings)


def test_folders_only_inside_the_allowed_roots(settings, tmp_path):
    (settings.runs / "gallery" / "sub").mkdir(parents=True)
    assert inside_roots(settings.runs / "gallery" / "sub", settings) == (settings.runs / "gallery" / "sub").resolve()
    assert (
        inside_roots("gallery", settings) == (settings.runs / "gallery").resolve()
    )  # relative: inside the runs folder
    assert inside_roots(settings.folders[0], settings) == settings.folders[0]
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.png").write_bytes(b"secret")
    (settings.runs / "escape").symlink_to(secret)
    (settings.runs / "gallery" / "key.png").symlink_to(secret / "key.png")
    sibling = tmp_path / f"{settings.runs.name}-old"  # shares the allowed folder's name as a prefix
    sibling.mkdir()
    for bad in (
        "/etc",
        "../secret",
        str(settings.runs / ".." / "secret"),
        str(settings.runs / "escape"),
        str(sibling),
        "~",
        "a\x00b",
        "",
    ):
        with pytest.raises(GenlabError):
            inside_roots(bad, settings)
    with pytest.raises(GenlabError, match="outside"):
        read_file_inside(settings.runs / "gallery" / "key.png", settings)
    (settings.runs / "gallery" / "ok.png").write_bytes(b"fine")
    assert read_file_inside(settings.runs / "gallery" / "ok.png", settings) == b"fine"
    (settings.runs / "gallery" / "big.png").write_bytes(bytes(settings.max_upload_bytes + 1))
    with pytest.raises(GenlabError, match="limit"):
        read_file_inside(settings.runs / "gallery" / "big.png", settings)


def test_image_folders_are_listed_without_symlinks_out(tmp_path):
    inside, outside = tmp_path / "photos", tmp_path / "private"
    inside.mkdir()
    outside.mkdir()
    for folder in (inside, outside):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "a.png")
    (inside / "b.png").symlink_to(outside / "a.png")
    (inside / "more").symlink_to(outside, target_is_directory=True)
    assert list_images(inside) == [inside / "a.png"]


def test_studio_binds_to_localhost_by_default_without_usage_stats():
    a = build_parser().parse_args(["studio"])
    cmd = streamlit_command(a.host, a.port, a.max_upload_mb)
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags["--server.address"] == "127.0.0.1" and flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.headless"] == "true" and flags["--server.maxUploadSize"] == "5"
    assert flags["--client.showErrorDetails"] == "none"  # no traceback reaches a browser


def test_studio_warns_when_exposed_on_another_address(tmp_path):
    proc = subprocess.Popen(
        studio_command(tmp_path, free_port(), "--host", "0.0.0.0", "--no-train"),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stderr.readline()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert "warning" in line and "0.0.0.0" in line and "127.0.0.1" in line, line


def test_bad_cli_values_are_one_line_errors(cli, tmp_path):
    r = cli("studio", "--port", "70000")
    assert r.returncode == 2 and "between 1 and 65535" in r.stderr and "Traceback" not in r.stderr
    r = cli("studio", "--folder", str(tmp_path / "nope"), "--runs", str(tmp_path))
    assert r.returncode == 2 and "is not a folder" in r.stderr and "Traceback" not in r.stderr
