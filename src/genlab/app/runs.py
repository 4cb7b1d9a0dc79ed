"""Runs as the studio sees them: which model a run folder holds, whether its training finished,
how far a training in progress has got (from its config.yaml, status.json and metrics.jsonl), and
the pretrained models shipped with genlab (genlab.zoo), which every page can use from the start."""

from __future__ import annotations

import math
from pathlib import Path

from genlab.config import load_config_yaml
from genlab.errors import GenlabError
from genlab.train.checkpoint import list_checkpoints
from genlab.train.runstore import RunStore, list_runs, run_status


def run_model(run: Path) -> str | None:
    """The model name in a run's config.yaml (None when it is not a readable run)."""
    try:
        return load_config_yaml(Path(run) / "config.yaml")["model"]
    except GenlabError:
        return None


def is_finished(run: Path) -> bool:
    """The run's status says "done" (:func:`genlab.train.runstore.run_status`, which also settles a
    run without status.json); a pretrained model is finished by definition."""
    from genlab.zoo.manifest import is_pretrained

    run = Path(run)
    if is_pretrained(run):
        return True
    status = run_status(run)
    return status is not None and status.get("stage") == "done"


def zoo_runs(models) -> list[Path]:
    """The run folders of the pretrained models of ``models`` shipped with genlab, in ``models``
    order, each checked against the zoo's manifest (sha256; once per process). A damaged one is
    left out with a note on stderr, and the page falls back to the user's runs or the trainer."""
    import sys

    from genlab.zoo.manifest import available, verify

    have, out = set(available()), []
    for m in models:
        if m in have:
            try:
                out.append(verify(m))
            except GenlabError as e:
                print(f"genlab studio: {e}", file=sys.stderr)
    return out


def run_label(run: Path) -> str:
    """How a run is named in the pages: its folder name, or pretrained:NAME for a zoo model."""
    from genlab.zoo.manifest import PREFIX, is_pretrained

    return f"{PREFIX}{Path(run).name}" if is_pretrained(run) else Path(run).name


def all_runs(root: Path) -> list[tuple[Path, str]]:
    """(run folder, model) of every readable run under ``root``, newest first."""
    out = []
    for r in reversed(list_runs(root)):
        model = run_model(r)
        if model is not None:
            out.append((r, model))
    return out


def finished_runs(root: Path, models) -> list[Path]:
    """Finished runs of any of ``models``: the user's under ``root`` first (the first model's runs
    first, newest first), then the pretrained models shipped with genlab."""
    models = [models] if isinstance(models, str) else list(models)
    found = [(models.index(m), r) for r, m in all_runs(root) if m in models and is_finished(r)]
    return [r for _, r in sorted(found, key=lambda t: t[0])] + zoo_runs(models)  # stable: newest first within a model


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
