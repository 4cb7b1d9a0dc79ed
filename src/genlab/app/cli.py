"""`genlab studio`: start the web studio (Streamlit) on this machine."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

from genlab.app.settings import DEFAULT_MAX_UPLOAD_MB, environment
from genlab.errors import GenlabError
from genlab.utils.cliargs import positive_int

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
APP = Path(__file__).with_name("studio.py")


def port_number(text: str) -> int:
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, got {v}")
    return v


def streamlit_command(host: str, port: int, max_upload_mb: int) -> list[str]:
    """`streamlit run` on the studio: headless, no usage statistics (no network calls), no error details."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.maxUploadSize",
        str(max_upload_mb),
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.showErrorDetails",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "dark",
    ]


def cmd_studio(a):
    from genlab.train.runstore import default_runs_dir
    from genlab.utils.io import ensure_writable_dir

    if importlib.util.find_spec("streamlit") is None:
        raise GenlabError("the studio needs Streamlit: pip install 'genlab[studio]'")
    runs = ensure_writable_dir(Path(a.runs) if a.runs else default_runs_dir()).resolve()
    folders = []
    for f in a.folder or []:
        if not Path(f).is_dir():
            raise GenlabError(f"--folder {f} is not a folder")
        folders.append(Path(f).resolve())
    if a.host not in LOCAL_HOSTS:
        print(
            f"genlab: warning: the studio listens on {a.host}:{a.port}, not only on this machine: anyone who can reach it "
            f"can generate images and read the images in {', '.join(map(str, [runs, *folders]))}. "
            "Use --host 127.0.0.1 to keep it local.",
            file=sys.stderr,
            flush=True,
        )
    env = {**os.environ, **environment(runs, folders, train=not a.no_train, max_upload_mb=a.max_upload_mb)}
    print(
        f"genlab studio: http://{a.host if ':' not in a.host else f'[{a.host}]'}:{a.port}  (runs: {runs}; Ctrl-C stops it)",
        flush=True,
    )
    proc = subprocess.Popen(streamlit_command(a.host, a.port, a.max_upload_mb), env=env)
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())  # stopping `genlab studio` stops Streamlit too
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # the terminal's Ctrl-C reached Streamlit too; let it shut down
        code = proc.wait()
    if code not in (0, -2, 130):
        raise GenlabError(f"Streamlit stopped with exit code {code} (is port {a.port} already in use? try --port)")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "studio",
        help="start the web studio (every demo in the browser)",
        description="Start the genlab web studio (Streamlit). Every page uses your finished runs in the "
        "runs folder first and otherwise the pretrained models shipped with genlab; a model that has "
        "neither is trained in the background with its quick preset.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8501)
    p.add_argument("--runs", help="runs folder (default ./runs or $GENLAB_RUNS)")
    p.add_argument(
        "--folder", action="append", metavar="DIR", help="another folder the studio may read (image search); repeatable"
    )
    p.add_argument("--no-train", action="store_true", help="do not train missing models in the background")
    p.add_argument(
        "--max-upload-mb", type=positive_int, default=DEFAULT_MAX_UPLOAD_MB, help="largest upload accepted (MB)"
    )
    p.set_defaults(func=cmd_studio)
