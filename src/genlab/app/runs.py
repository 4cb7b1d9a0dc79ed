"""Runs as the studio sees them: which model a run folder holds, whether its training finished,
and how far a training in progress has got (from its config.yaml and metrics.jsonl)."""

from __future__ import annotations

import math
from pathlib import Path

from genlab.config import load_config_yaml
from genlab.errors import GenlabError
from genlab.train.checkpoint import list_checkpoints
from genlab.train.runstore import RunStore, list_runs


def run_model(run: Path) -> str | None:
    """The model name in a run's config.yaml (None when it is not a readable run)."""
    try:
        return load_config_yaml(Path(run) / "config.yaml")["model"]
    except GenlabError:
        return None


def is_finished(run: Path) -> bool:
    """The engine writes the loss plot last, after the final checkpoint, evaluation and figures."""
    return (Path(run) / "plots" / "metrics.png").is_file()


def all_runs(root: Path) -> list[tuple[Path, str]]:
    """(run folder, model) of every readable run under ``root``, newest first."""
    out = []
    for r in reversed(list_runs(root)):
        model = run_model(r)
        if model is not None:
            out.append((r, model))
    return out


def finished_runs(root: Path, models) -> list[Path]:
    """Finished runs of any of ``models`` under ``root``: the first model's runs first, newest first."""
    models = [models] if isinstance(models, str) else list(models)
    found = [(models.index(m), r) for r, m in all_runs(root) if m in models and is_finished(r)]
    return [r for _, r in sorted(found, key=lambda t: t[0])]  # stable: newest first within a model


def progress(run: Path) -> dict:
    """How far a run has got: step, steps, fraction, and the last logged loss (NaN when none)."""
    run = Path(run)
    try:
        steps = int(load_config_yaml(run / "config.yaml")["config"].get("steps", 0))
    except (GenlabError, TypeError, ValueError):
        steps = 0
    rows = [r for r in RunStore(run).read_metrics() if "loss" in r]
    step = int(rows[-1].get("step", 0)) if rows else 0
    loss = float(rows[-1]["loss"]) if rows else math.nan
    return {"step": step, "steps": steps, "fraction": min(1.0, step / steps) if steps else 0.0, "loss": loss}


def checkpoint_key(run: Path) -> str:
    """Changes whenever the run gets a new checkpoint: models are cached under this key."""
    stems = list_checkpoints(Path(run) / "checkpoints")
    if not stems:
        return ""
    json_file = stems[0].with_suffix(".json")
    return f"{stems[0].name}:{json_file.stat().st_mtime_ns if json_file.exists() else 0}"
