"""The studio's background trainer: one per runs folder (a lock), one model at a time, stopped
cleanly and resumed from its checkpoint, skipping models that already have a finished run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from genlab.app import trainer
from genlab.app.runs import finished_runs, is_finished, progress

MODEL = "qlearning"  # trains without the evaluator network and evaluates in a moment
ARGS = "--steps 3000 --set ckpt_every=300 --set log_every=100 --set final_eval_episodes=5 --set eval_every=0"


def start(runs):
    return subprocess.Popen(
        [sys.executable, "-m", "genlab.app.trainer", "--runs", str(runs), "--models", MODEL, "--train-args", ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition, what: str, timeout: float = 300):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_lock_allows_one_trainer_per_runs_folder(tmp_path):
    lock = trainer.TrainerLock(trainer.state_dir(tmp_path) / "trainer.lock")
    assert lock.acquire()
    try:
        assert trainer.trainer_running(tmp_path)
        assert trainer.ensure_trainer(tmp_path, (MODEL,)) == "running"
        assert trainer.supervise(tmp_path, (MODEL,)) == 0  # a second supervisor gives up at once
        assert not (trainer.state_dir(tmp_path) / "trainer.json").exists()
    finally:
        lock.release()
    assert not trainer.trainer_running(tmp_path)


def test_trainer_stops_cleanly_resumes_and_then_has_nothing_to_do(tmp_path):
    run = trainer.studio_run_dir(tmp_path, MODEL)
    assert trainer.plan(tmp_path, (MODEL, "no-such-model")) == [MODEL]
    proc = start(tmp_path)
    try:
        wait_for(
            lambda: (run / "checkpoints").is_dir() and any((run / "checkpoints").glob("step_*.json")),
            "a first checkpoint",
        )
        status = trainer.read_status(tmp_path)
        assert status["running"] and status["current"] == MODEL and 0 < status["progress"]["fraction"] < 1
        second = start(tmp_path)  # another studio process: its trainer must not start a second training
        assert "another trainer" in second.communicate(timeout=120)[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    stopped_at = progress(run)["step"]
    assert not is_finished(run) and stopped_at > 0
    assert MODEL in json.loads((trainer.state_dir(tmp_path) / "trainer.json").read_text())["queue"]
    assert "--resume" in trainer.train_command(tmp_path, MODEL)

    out = start(tmp_path).communicate(timeout=600)[0]
    assert "--resume" in out, out
    log = (trainer.state_dir(tmp_path) / f"train-{MODEL}.log").read_text()
    assert "resuming" in log and "from step" in log, log[-2000:]
    assert is_finished(run) and finished_runs(tmp_path, MODEL) == [run]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 3000  # no step logged twice, none lost
    status = trainer.read_status(tmp_path)
    assert status["done"] == [MODEL] and not status["failed"] and not status["running"]
    assert (
        0 < status["cost"][MODEL]["cpu_s"] and 0 < status["cost"][MODEL]["wall_s"]
    )  # what the training cost, for the page
    assert trainer.plan(tmp_path, (MODEL,)) == [] and trainer.ensure_trainer(tmp_path, (MODEL,)) == "nothing to train"
