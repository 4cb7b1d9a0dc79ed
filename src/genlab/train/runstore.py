"""The run store: one folder per run.

runs/<name>/config.yaml     model, preset and the resolved config
runs/<name>/status.json     stage (training | evaluating | done | failed), step, total steps, time
runs/<name>/checkpoints/    step_XXXXXXX.{safetensors,json}, best.{...}
runs/<name>/metrics.jsonl   one JSON object per logged step (a torn last line is ignored)
runs/<name>/eval.json       held-out metrics at the end of training
runs/<name>/samples/        sample grids (PNG) and the progress animation (GIF)
runs/<name>/plots/          loss curves and family-specific figures
runs/<name>/tb/             TensorBoard events
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from genlab.errors import GenlabError

#: the stages of status.json, in the order a run goes through them (or "failed" from any of them)
STAGES = ("training", "evaluating", "done", "failed")


def default_runs_dir() -> Path:
    return Path(os.environ.get("GENLAB_RUNS", "runs"))


def new_run_dir(model: str, root: Path | None = None) -> Path:
    root = Path(root or default_runs_dir())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"{model}-{stamp}"
    i = 1
    while path.exists():
        i += 1
        path = root / f"{model}-{stamp}-{i}"
    return path


class RunStore:
    def __init__(self, path):
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def ckpt_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def plots_dir(self) -> Path:
        return self.path / "plots"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def eval_path(self) -> Path:
        return self.path / "eval.json"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    def create(self) -> None:
        for d in (self.path, self.ckpt_dir, self.samples_dir, self.plots_dir):
            d.mkdir(parents=True, exist_ok=True)

    def append_metrics(self, record: dict) -> None:
        line = json.dumps(record, sort_keys=True) + "\n"
        try:
            with open(self.metrics_path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
        except OSError as e:
            raise GenlabError(
                f"cannot append to {self.metrics_path}: {e.strerror or e} (no space left on device?); earlier checkpoints are intact"
            ) from None

    def truncate_metrics(self, after_step: int) -> None:
        """On resume: drop records logged after the checkpoint we resume from."""
        rows = [r for r in self.read_metrics() if r.get("step", 0) <= after_step]
        from genlab.utils.io import write_text_atomic

        write_text_atomic(self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))

    def read_metrics(self) -> list[dict]:
        return read_jsonl(self.metrics_path)

    def read_eval(self) -> dict | None:
        try:
            return json.loads(self.eval_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def write_status(self, stage: str, step: int, total_steps: int, **extra) -> None:
        """Write status.json atomically: a reader sees the previous status or this one, never half."""
        from genlab.utils.io import write_json_atomic

        if stage not in STAGES:
            raise ValueError(f"unknown run stage {stage!r}; one of {STAGES}")
        write_json_atomic(
            self.status_path,
            {
                "stage": stage,
                "step": int(step),
                "total_steps": int(total_steps),
                "updated": time.time(),
                "pid": os.getpid(),
                **extra,
            },
        )


class StatusWriter:
    """The engine's side of status.json: ``set`` writes a stage at once, ``progress`` at most every
    ``every_s`` seconds (a step can take microseconds), ``failed`` never raises (the run's own
    error is the one to report). Does nothing when ``enabled`` is false (ranks other than 0)."""

    def __init__(self, store: RunStore, total_steps: int, enabled: bool = True, every_s: float = 2.0):
        self.store, self.total, self.enabled, self.every_s = store, total_steps, enabled, every_s
        self.step, self._last = 0, -float("inf")

    def set(self, stage: str, step: int, **extra) -> None:
        self.step = step
        if self.enabled:
            self.store.write_status(stage, step, self.total, **extra)
            self._last = time.monotonic()

    def progress(self, step: int) -> None:
        self.step = step
        if self.enabled and time.monotonic() - self._last >= self.every_s:
            self.set("training", step)

    def failed(self, error: BaseException) -> None:
        message = str(error) or type(error).__name__
        try:
            self.set("failed", self.step, error=message)
        except Exception:  # a full disk, a removed folder: the run's own error is the one to raise
            pass


def run_status(run_dir) -> dict | None:
    """Where a run stands: its status.json as a dict (``stage``: training | evaluating | done |
    failed, ``step``, ``total_steps``, ``updated`` in seconds since the epoch, ``pid`` of the
    writer, ``error`` when failed). A folder without a readable status.json counts as done when
    it holds plots/metrics.png (the engine's last output); otherwise the answer is None (a run
    made by ``genlab import``, or one the engine has not started)."""
    run_dir = Path(run_dir)
    try:
        doc = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = None
    if isinstance(doc, dict) and doc.get("stage") in STAGES:
        return doc
    if (run_dir / "plots" / "metrics.png").is_file():
        return {"stage": "done"}
    return None


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSON-lines file, tolerating a torn (half-written) last line."""
    rows = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return rows
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            rows.append(obj)
    return rows


def is_run_dir(path: Path) -> bool:
    return (Path(path) / "config.yaml").is_file()


def list_runs(root: Path | None = None) -> list[Path]:
    root = Path(root or default_runs_dir())
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if is_run_dir(p)), key=lambda p: p.stat().st_mtime)


def require_run(path) -> RunStore:
    """The run folder ``path`` (``pretrained:NAME`` is a zoo model's, verified: genlab.zoo)."""
    from genlab.zoo.manifest import resolve

    path = resolve(path)
    if not path.exists():
        raise GenlabError(f"run folder {path} does not exist; see 'genlab runs list'")
    if not is_run_dir(path):
        raise GenlabError(f"{path} is not a genlab run folder (no config.yaml)")
    return RunStore(path)
