"""Shared test setup: pinned threads, a per-session cache, and a helper to run the CLI."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# under pytest-xdist (-n 2) each worker gets one core; alone, the tests may use both
os.environ.setdefault("GENLAB_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import subprocess  # noqa: E402
import sys  # noqa: E402

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
    return subprocess.run([sys.executable, "-m", "genlab", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=e)


@pytest.fixture
def cli():
    return run_cli
