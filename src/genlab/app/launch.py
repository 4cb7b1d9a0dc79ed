"""`genlab studio` as a server process on a free local port, and a headless Chromium to visit it:
what the studio's tests and its load bench (``python -m bench studio``) start the same way.

:func:`running_studio` starts ``python -m genlab studio`` in a process group of its own, waits
for Streamlit's health check and stops the whole group (the command and the Streamlit server it
starts) on the way out. The server's output goes to a temporary file, not a pipe, so a long run
can never block on a full pipe; a server that does not come up is reported with its last lines.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

#: Debian's Chromium, which playwright drives in the studio's browser tests and screenshots
CHROMIUM = "/usr/bin/chromium"
#: a headless Chromium that talks to the studio and nothing else
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Studio(NamedTuple):
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen  # `genlab studio` (the Streamlit server is its child)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def studio_command(runs: Path | str, port: int, *flags: str) -> list[str]:
    """``python -m genlab studio --port PORT --runs RUNS FLAGS`` with this interpreter."""
    return [sys.executable, "-m", "genlab", "studio", "--port", str(port), "--runs", str(runs), *flags]


@contextlib.contextmanager
def running_studio(runs: Path | str, *flags: str, env: dict | None = None, timeout_s: float = 60.0):
    """`genlab studio --runs RUNS FLAGS` on a free port; yields a :class:`Studio` once the server
    answers its health check (RuntimeError if it exits or ``timeout_s`` passes first), and stops
    its process group afterwards."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            studio_command(runs, port, *flags),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + timeout_s
        try:
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                        break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        log.seek(0)
                        tail = log.read().decode(errors="replace")[-2000:]
                        raise RuntimeError(f"the studio did not start: {tail}") from None
                    time.sleep(0.3)
            yield Studio(url, proc)
        finally:
            with contextlib.suppress(ProcessLookupError):  # the group may be gone already
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=120)


def launch_chromium(playwright, profile: Path | str, width: int, height: int):
    """A persistent-profile headless Chromium context (``CHROMIUM``, ``CHROMIUM_ARGS``) with a
    ``width`` x ``height`` viewport, from a started ``playwright.sync_api.sync_playwright()``."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": width, "height": height},
    )
