"""Trained models for the pages: a finished run picked (the user's own first, then genlab's
pretrained one), loaded once per process and shared by every session, and its evaluation."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from genlab.app import runs as runs_mod
from genlab.app.i18n import t
from genlab.app.settings import load_settings
from genlab.app.status import waiting_message


@st.cache_resource(show_spinner=False, max_entries=32)
def _load(run: str, key: str):
    from genlab.train.engine import load_run

    recipe, _, _ = load_run(run, device="cpu")
    return recipe


def load(run: Path):
    """A trained recipe, loaded once per process per checkpoint and shared by every session."""
    with st.spinner(t("ui.loading")):
        return _load(str(run), runs_mod.checkpoint_key(run))


def pick_run(models, key: str, label: str | None = None) -> Path | None:
    """A finished run of one of ``models``: the user's own runs first, then genlab's pretrained
    model (the user picks when there are several); None after a message."""
    found = runs_mod.finished_runs(load_settings().runs, models)
    if not found:
        waiting_message(models)
        return None
    if len(found) == 1:
        return found[0]
    return st.selectbox(label or t("common.run"), found, format_func=runs_mod.run_label, key=key)


def runs_eval(run: Path) -> dict:
    """A run's eval.json (empty when missing)."""
    from genlab.train.runstore import RunStore

    return RunStore(run).read_eval() or {}
