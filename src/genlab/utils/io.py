"""Atomic file writing: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path

from genlab.errors import GenlabError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; on success fsync it and rename it over ``path``.

    On any failure the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as e:
        raise GenlabError(f"cannot write to {parent}: {e.strerror or e}; choose a writable folder") from None
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        with contextlib.suppress(OSError):
            dfd = os.open(parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if e.errno == errno.ENOSPC:
            raise GenlabError(
                f"no space left on device while writing {path}; free some space (the previous file is intact)"
            ) from None
        raise GenlabError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def write_text_atomic(path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_npy_atomic(path, array) -> None:
    """Save a numpy array as .npy, atomically."""
    import numpy as np

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def save_figure(fig, path, dpi: int = 100) -> Path:
    """Write a matplotlib figure as PNG, atomically, and close it; returns the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    return path


def read_input(path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a file the user named (``what`` says what it should be, e.g. "image"); a one-line
    GenlabError when it is missing, a folder, over ``limit`` bytes (checked before reading) or unreadable."""
    path = Path(path)
    try:
        if limit is not None and path.stat().st_size > limit:
            raise GenlabError(f"{path} is over the {limit}-byte limit; use a smaller {what}")
        return path.read_bytes()
    except FileNotFoundError:
        raise GenlabError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise GenlabError(f"{path} is a folder; give the {what} itself") from None
    except OSError as e:
        raise GenlabError(f"cannot read {path}: {e.strerror or e}") from None


def ensure_writable_dir(path) -> Path:
    """Create ``path`` if needed and check that files can be written in it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise GenlabError(f"output folder {path} is not writable ({e.strerror or e}); pass a writable --out") from None
    return path
