"""The background trainer as the pages show it: started once per process, its progress in the
sidebar, and "not trained yet" messages that say what is happening to a missing model."""

from __future__ import annotations

import math

import streamlit as st

from genlab.app import trainer
from genlab.app.i18n import MESSAGES, t
from genlab.app.settings import load_settings
from genlab.app.ui import friendly

#: the models with a catalogue line saying what they are for ("purpose.MODEL")
PURPOSES = {k for k in MESSAGES if k.startswith("purpose.")}


@st.cache_resource(show_spinner=False)
def _start_trainer(runs: str) -> str:
    """Once per process: start the background trainer if models are missing."""
    return trainer.ensure_trainer(runs)


def start_trainer() -> None:
    s = load_settings()
    if s.train:
        with friendly(t("ui.what_trainer")):
            _start_trainer(str(s.runs))


def describe_training(status: dict) -> str | None:
    """'training text2image in background: 40% — loss 0.12 (step ...)' while the trainer works."""
    if not (status.get("running") and status.get("current")):
        return None
    p = status["progress"]
    loss = "" if math.isnan(p["loss"]) else t("ui.training_loss", loss=f"{p['loss']:.3g}")
    return t(
        "ui.training",
        model=status["current"],
        fraction=f"{p['fraction']:.0%}",
        loss=loss,
        step=f"{p['step']:,}",
        steps=f"{p['steps']:,}",
    )


def sidebar_status() -> None:
    """The trainer's state in the sidebar; refreshes itself while a training runs and reruns the
    page when a model finishes, so a waiting page fills in by itself."""
    s = load_settings()

    @st.fragment(run_every=3.0 if trainer.trainer_running(s.runs) else None)
    def panel():
        status = trainer.read_status(s.runs)
        done = tuple(status.get("done", ()))
        if st.session_state.setdefault("_studio_done", done) != done:
            st.session_state["_studio_done"] = done
            st.rerun(scope="app")
        line = describe_training(status)
        if line:
            st.caption(line)
            st.progress(status["progress"]["fraction"])
            waiting = [m for m in status.get("queue", []) if m != status["current"]]
            if waiting:
                st.caption(t("ui.next", models=", ".join(waiting)))
        for model, why in status.get("failed", {}).items():
            st.caption(t("ui.failed_side", model=model, why=why))

    with st.sidebar:
        panel()
        st.caption(t("ui.runs_folder", path=s.runs))


def waiting_message(models) -> None:
    """Why no model is there yet, and what happens or what to do about it."""
    models = [models] if isinstance(models, str) else list(models)
    s = load_settings()
    status = trainer.read_status(s.runs)
    what = t(f"purpose.{models[0]}") if f"purpose.{models[0]}" in PURPOSES else t("purpose.default")
    queue = status.get("queue", []) if status.get("running") else []
    if status.get("current") in models and status.get("running"):
        line = describe_training(status)
        st.info(t("ui.wait_training", line=f"{line[:1].upper()}{line[1:]}", what=what))
        st.progress(status["progress"]["fraction"])
    elif any(m in queue for m in models):
        m = next(m for m in models if m in queue)
        st.info(t("ui.wait_queued", model=m, current=status.get("current"), what=what))
    elif any(m in status.get("failed", {}) for m in models):
        m = next(m for m in models if m in status["failed"])
        st.warning(t("ui.wait_failed", model=m, why=status["failed"][m], out=trainer.studio_run_dir(s.runs, m)))
    else:
        st.info(t("ui.wait_none", models=" / ".join(models), runs=s.runs, model=models[0]))
