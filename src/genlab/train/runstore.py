"""The run store: one folder per run.

    runs/<name>/config.yaml     model, preset and the resolved config
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
            raise GenlabError(f"cannot append to {self.metrics_path}: {e.strerror or e} (no space left on device?); earlier checkpoints are intact") from None

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
    path = Path(path)
    if not path.exists():
        raise GenlabError(f"run folder {path} does not exist; see 'genlab runs list'")
    if not is_run_dir(path):
        raise GenlabError(f"{path} is not a genlab run folder (no config.yaml)")
    return RunStore(path)
