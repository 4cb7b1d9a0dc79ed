"""The background trainer: the studio's missing models, trained with their quick presets.

The pages use the user's finished runs first and otherwise the pretrained models shipped with
genlab (genlab.zoo), so with the zoo installed nothing needs training. On start the studio calls
:func:`ensure_trainer`. When some model it needs has neither a finished run in the runs folder nor
a pretrained model, it starts one supervisor process (``python -m genlab.app.trainer --runs DIR``)
that trains the missing models ONE AT A TIME, in :data:`STUDIO_MODELS` order, each with

    python -m genlab train MODEL --preset quick --out RUNS/studio-MODEL [--resume]

``--resume`` is added when the folder already holds a checkpoint, so an interrupted studio
continues where it stopped. The supervisor holds an exclusive lock on ``RUNS/.studio/trainer.lock``
for its whole life (released by the kernel if it dies), so several studio processes or sessions
on one runs folder start only one trainer. It writes ``RUNS/.studio/trainer.json`` (queue,
current model, done, failed, and each training's CPU and wall seconds in ``cost``) for the pages; progress comes from the run's metrics.jsonl. It runs
at low priority, and stops the training cleanly (SIGTERM: the engine saves a checkpoint) when it
is stopped or when the studio process that started it goes away.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from genlab.app.runs import finished_runs, progress, run_model
from genlab.registry import available_models
from genlab.train.checkpoint import list_checkpoints
from genlab.utils.io import write_json_atomic

#: what the studio's pages need, most useful first (text2image is the studio's main page)
STUDIO_MODELS = ("text2image", "vae", "dae", "clip", "ddpm", "dcgan", "protonet", "dqn", "beta-vae", "stylegan")
QUIET = ("--set", "progress=false", "--set", "tensorboard=false")


def state_dir(runs) -> Path:
    return Path(runs) / ".studio"


def studio_run_dir(runs, model: str) -> Path:
    return Path(runs) / f"studio-{model}"


def plan(runs, models=STUDIO_MODELS) -> list[str]:
    """The models (installed ones only) without a finished run under ``runs``, in training order."""
    installed = set(available_models())
    return [m for m in models if m in installed and not finished_runs(Path(runs), m)]


def train_command(runs, model: str, extra=()) -> list[str]:
    """The `genlab train` command for ``model``; resumes the studio's run when it has a checkpoint."""
    out = studio_run_dir(runs, model)
    cmd = [sys.executable, "-m", "genlab", "train", model, "--preset", "quick", "--out", str(out), *QUIET, *extra]
    if list_checkpoints(out / "checkpoints"):
        return [*cmd, "--resume"]
    if out.is_dir() and run_model(out) in (model, None):
        shutil.rmtree(out)  # started but killed before its first checkpoint: nothing worth keeping
    return cmd


class TrainerLock:
    """An exclusive, non-blocking flock on a file; the kernel drops it when the holder dies."""

    def __init__(self, path: Path):
        self.path, self.fd = Path(path), None

    def acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def trainer_running(runs) -> bool:
    lock = TrainerLock(state_dir(runs) / "trainer.lock")
    if lock.acquire():
        lock.release()
        return False
    return True


def read_status(runs) -> dict:
    """The supervisor's status, with ``running`` (is it alive) and the current run's ``progress``."""
    try:
        status = json.loads((state_dir(runs) / "trainer.json").read_text())
    except (OSError, ValueError):
        status = {}
    status = status if isinstance(status, dict) else {}
    status["running"] = trainer_running(runs)
    if status["running"] and status.get("current"):
        status["progress"] = progress(studio_run_dir(runs, status["current"]))
    return status


def child_env() -> dict[str, str]:
    """Training runs niced, with every core (up to 4) and passive OpenMP waits, unless the user chose."""
    env = dict(os.environ)
    env.setdefault("GENLAB_THREADS", str(min(4, os.cpu_count() or 1)))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def ensure_trainer(runs, models=STUDIO_MODELS) -> str:
    """Start the supervisor unless one is running or nothing is missing; returns what happened."""
    if trainer_running(runs):
        return "running"
    if not plan(runs, models):
        return "nothing to train"
    state_dir(runs).mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "genlab.app.trainer",
        "--runs",
        str(runs),
        "--parent",
        str(os.getpid()),
        "--models",
        ",".join(models),
    ]
    with open(state_dir(runs) / "trainer.log", "ab") as log:
        subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=child_env())
    return "started"


def _last_error(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "see the log"
    errors = [ln for ln in lines if ln.startswith("genlab: error:")]
    return (errors or lines or ["no output"])[-1][:300]


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished children: one training at a time,
    so the difference across a training is what it cost."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def supervise(runs, models=STUDIO_MODELS, extra=(), parent: int | None = None, poll: float = 1.0) -> int:
    """Train every planned model in turn (the supervisor process's main loop)."""
    runs = Path(runs)
    lock = TrainerLock(state_dir(runs) / "trainer.lock")
    if not lock.acquire():
        print("genlab studio trainer: another trainer is already working on this runs folder", flush=True)
        return 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: stop.append(signal.SIGINT))
    try:
        os.nice(10)  # the studio's pages come first; trainings inherit this
    except OSError:
        pass
    queue = plan(runs, models)
    status = {
        "pid": os.getpid(),
        "queue": list(queue),
        "current": None,
        "done": [],
        "failed": {},
        "cost": {},
        "started": time.time(),
    }
    try:
        for model in queue:
            if stop:
                break
            cmd = train_command(runs, model, extra)
            status.update(current=model, run=str(studio_run_dir(runs, model)))
            write_json_atomic(state_dir(runs) / "trainer.json", status)
            log_path = state_dir(runs) / f"train-{model}.log"
            print(f"genlab studio trainer: {shlex.join(cmd)}", flush=True)
            cpu0, t0 = children_cpu_s(), time.time()
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            while proc.poll() is None:
                if parent is not None and os.getppid() != parent:
                    stop.append("parent gone")
                if stop:
                    proc.send_signal(signal.SIGTERM)  # the engine saves a checkpoint and exits
                    proc.wait()
                    break
                time.sleep(poll)
            status["cost"][model] = {"cpu_s": round(children_cpu_s() - cpu0, 2), "wall_s": round(time.time() - t0, 2)}
            if stop and proc.returncode != 0:
                break  # interrupted: the model stays queued, its checkpoint waits for --resume
            status["queue"].remove(model)
            if proc.returncode == 0:
                status["done"].append(model)
            else:
                status["failed"][model] = _last_error(log_path)
        status.update(current=None, finished=not stop)
        write_json_atomic(state_dir(runs) / "trainer.json", status)
    finally:
        lock.release()
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m genlab.app.trainer", description="The studio's background trainer.")
    p.add_argument("--runs", required=True, help="runs folder")
    p.add_argument("--models", default=",".join(STUDIO_MODELS), help="comma-separated models, in training order")
    p.add_argument("--train-args", default="", help="extra arguments for every `genlab train` (e.g. '--steps 50')")
    p.add_argument("--parent", type=int, help="stop when this process (the studio) goes away")
    a = p.parse_args(argv)
    models = tuple(m for m in a.models.split(",") if m)
    return supervise(a.runs, models, shlex.split(a.train_args), a.parent)


if __name__ == "__main__":
    raise SystemExit(main())
