"""Page furniture shared by the studio's pages: settings, models loaded once per process,
"not trained yet" messages with the background trainer's progress, friendly errors, pictures."""

from __future__ import annotations

import contextlib
import math
import sys
import traceback
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from genlab.app import runs as runs_mod
from genlab.app import trainer
from genlab.app.i18n import MESSAGES, digit_name, error_text, t
from genlab.app.safety import enlarge, read_image_upload
from genlab.app.settings import Settings, load_settings
from genlab.errors import GenlabError
from genlab.utils.images import make_grid

IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]
#: the models with a catalogue line saying what they are for ("purpose.MODEL")
PURPOSES = {k for k in MESSAGES if k.startswith("purpose.")}


def settings() -> Settings:
    return load_settings()


# ----------------------------------------------------------------------------- the background trainer
@st.cache_resource(show_spinner=False)
def _start_trainer(runs: str) -> str:
    """Once per process: start the background trainer if models are missing."""
    return trainer.ensure_trainer(runs)


def start_trainer() -> None:
    s = settings()
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
    s = settings()

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
    s = settings()
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


# ----------------------------------------------------------------------------- models
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
    found = runs_mod.finished_runs(settings().runs, models)
    if not found:
        waiting_message(models)
        return None
    if len(found) == 1:
        return found[0]
    return st.selectbox(label or t("common.run"), found, format_func=runs_mod.run_label, key=key)


# ----------------------------------------------------------------------------- errors and pictures
@contextlib.contextmanager
def friendly(what: str | None = None):
    """Show a GenlabError's one-line message; any other failure as a short note (details in the server log)."""
    try:
        yield
    except GenlabError as e:
        st.error(error_text(str(e)))
    except Exception as e:  # noqa: BLE001 - a page must never show a traceback
        traceback.print_exc(file=sys.stderr)
        st.error(t("ui.sorry", what=what or t("ui.what_default"), error=f"{type(e).__name__}: {str(e)[:200]}"))


def picture(images, nrow: int | None = None, scale: int = 4) -> np.ndarray:
    """Images (N, C, H, W) in [0, 1] -> one enlarged uint8 grid, ``nrow`` per row (default: one row)."""
    return enlarge(make_grid(images, nrow=nrow or len(images)), scale)


def show(images, caption: str | None = None, nrow: int | None = None, scale: int = 4) -> np.ndarray:
    grid = picture(images, nrow, scale)
    st.image(grid, caption=caption)
    return grid


@st.cache_resource(show_spinner=False)
def heldout():
    """The 1,000 held-out MNIST digits (never trained on): x (N, 1, 28, 28), y (N,)."""
    from genlab.data.datasets import embedded_mnist

    d = embedded_mnist()
    return d.x_test, d.y_test


def digit_picker(key: str, label: str | None = None, digit: int = 0) -> torch.Tensor:
    """A held-out digit chosen by class (default ``digit``) and example number; returns (1, 1, 28, 28)."""
    x, y = heldout()
    label = label or t("ui.digit_label")
    c1, c2 = st.columns(2)
    digit = c1.selectbox(
        t("ui.digit_class", label=label),
        range(10),
        index=digit,
        format_func=lambda k: f"{k} ({digit_name(k)})",
        key=f"{key}-class",
    )
    idx = torch.nonzero(y == digit).flatten()
    i = c2.number_input(t("ui.digit_example", label=label), 0, len(idx) - 1, 0, key=f"{key}-example")
    return x[idx[int(i)]][None]


def uploaded_image(uploaded, size: int = 28, channels: int = 1) -> torch.Tensor | None:
    """An st.file_uploader value -> (1, C, size, size) tensor, or None after a friendly message."""
    if uploaded is None:
        return None
    try:
        return torch.from_numpy(read_image_upload(uploaded.getvalue(), uploaded.name, settings(), channels, size))[None]
    except GenlabError as e:
        st.error(error_text(str(e)))
        return None


def center_digit(x: np.ndarray, box: int = 20, size: int = 28) -> np.ndarray | None:
    """A drawing (H, W) in [0, 1], ink bright, placed as MNIST places its digits: the ink's bounding
    box scaled to fit ``box`` pixels, its centre of mass at the centre of a ``size`` picture.
    None when nothing is drawn."""
    from PIL import Image

    rows, cols = np.nonzero(x > 0.1)
    if len(rows) == 0:
        return None
    crop = x[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    s = box / max(crop.shape)
    h, w = max(1, round(crop.shape[0] * s)), max(1, round(crop.shape[1] * s))
    small = np.asarray(Image.fromarray(np.uint8(crop * 255)).resize((w, h), Image.LANCZOS), np.float32) / 255
    total = small.sum() or 1.0
    cy, cx = (small.sum(1) @ np.arange(h)) / total, (small.sum(0) @ np.arange(w)) / total
    top, left = (
        int(np.clip(round(size / 2 - cy - 0.5), 0, size - h)),
        int(np.clip(round(size / 2 - cx - 0.5), 0, size - w)),
    )
    out = np.zeros((size, size), np.float32)
    out[top : top + h, left : left + w] = small
    return out


def drawn_digit(key: str) -> torch.Tensor | None:
    """A digit drawn with the mouse on a canvas (white ink on black, as MNIST) -> (1, 1, 28, 28);
    None while the canvas is empty."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except ImportError:
        st.info(t("ui.canvas_missing"))
        return None
    st.caption(t("ui.canvas_help"))
    drawing = st_canvas(
        stroke_width=22,
        stroke_color="#ffffff",
        background_color="#000000",
        height=280,
        width=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    data = drawing.image_bytes
    if not data:
        return None
    try:
        x = center_digit(read_image_upload(data, "drawing.png", settings(), 1, size=None)[0])
    except GenlabError as e:
        st.error(error_text(str(e)))
        return None
    return None if x is None else torch.from_numpy(x)[None, None]


def header(title: str, intro: str) -> None:
    st.title(title)
    st.caption(intro)


def runs_eval(run: Path) -> dict:
    """A run's eval.json (empty when missing)."""
    from genlab.train.runstore import RunStore

    return RunStore(run).read_eval() or {}
