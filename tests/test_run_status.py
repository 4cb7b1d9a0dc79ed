"""status.json: the engine says where a run stands (training, evaluating, done, failed)."""

from __future__ import annotations

import json

import pytest

from genlab.errors import TrainingDiverged
from genlab.train import engine
from genlab.train.runstore import STAGES, RunStore, StatusWriter, run_status

TINY = {"arch": "mlp", "tensorboard": False, "progress": False, "sample_every": 0}


def test_a_run_goes_through_training_evaluating_done(tmp_path, monkeypatch):
    seen = []
    write = RunStore.write_status

    def spy(self, stage, step, total_steps, **extra):
        seen.append((stage, step, total_steps))
        write(self, stage, step, total_steps, **extra)

    monkeypatch.setattr(RunStore, "write_status", spy)
    finish = engine.finish_run

    def finish_and_check(recipe, store, cfg, **kw):
        assert run_status(store.path)["stage"] == "evaluating"  # written before the evaluation starts
        finish(recipe, store, cfg, **kw)

    monkeypatch.setattr(engine, "finish_run", finish_and_check)
    store = engine.train("ae", "quick", {**TINY, "steps": 6}, out=tmp_path / "run")
    assert seen[0] == ("training", 0, 6)
    assert [s for s, _, _ in seen][-2:] == ["evaluating", "done"]
    status = run_status(store.path)
    assert status["stage"] == "done" and status["step"] == status["total_steps"] == 6
    assert {"updated", "pid"} <= set(status)
    assert not [p for p in store.path.iterdir() if p.name.endswith(".tmp")], "written atomically"
    ev = json.loads(store.eval_path.read_text())  # CPU seconds of training and evaluation, reported apart
    assert ev["train_cpu_s"] > 0 and ev["eval_cpu_s"] > 0


def test_a_diverged_run_is_marked_failed_with_its_error(tmp_path):
    with pytest.raises(TrainingDiverged):
        engine.train("ae", "quick", {**TINY, "steps": 50, "lr": 1e30, "ckpt_every": 1}, out=tmp_path / "run")
    status = run_status(tmp_path / "run")
    assert status["stage"] == "failed" and "loss became" in status["error"]
    assert 0 < status["step"] <= 50 and status["total_steps"] == 50


def test_progress_is_throttled(tmp_path):
    store = RunStore(tmp_path)
    writer = StatusWriter(store, total_steps=1000, every_s=3600)
    writer.set("training", 0)
    for step in range(1, 1001):
        writer.progress(step)
    assert run_status(tmp_path)["step"] == 0, "no second write within every_s"
    StatusWriter(store, total_steps=1000, every_s=0).progress(5)
    assert run_status(tmp_path)["step"] == 5
    writer.set("done", 1000)
    assert run_status(tmp_path)["stage"] == "done"


def test_other_ranks_write_nothing_and_failed_never_raises(tmp_path):
    StatusWriter(RunStore(tmp_path), 10, enabled=False).set("training", 0)
    assert not (tmp_path / "status.json").exists()
    (tmp_path / "blocker").write_text("a file where the run folder should be")
    StatusWriter(RunStore(tmp_path / "blocker" / "run"), 10).failed(RuntimeError("boom"))  # unwritable: swallowed


def test_run_status_of_folders_without_a_status_file(tmp_path):
    assert run_status(tmp_path) is None
    (tmp_path / "status.json").write_text("{torn")
    assert run_status(tmp_path) is None
    (tmp_path / "status.json").write_text(json.dumps({"stage": "sleeping"}))
    assert run_status(tmp_path) is None, "an unknown stage is not trusted"
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "metrics.png").write_bytes(b"png")
    assert run_status(tmp_path) == {"stage": "done"}, "the engine's last output marks a finished run"


def test_unknown_stages_are_refused(tmp_path):
    with pytest.raises(ValueError):
        RunStore(tmp_path).write_status("paused", 0, 1)
    assert STAGES == ("training", "evaluating", "done", "failed")
