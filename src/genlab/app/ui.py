"""Page furniture shared by the studio's pages: the title, pictures, friendly errors, and the digit
a page works on (a held-out one, an upload, or one drawn with the mouse).

The other shared pieces have modules of their own: the background trainer's status
(genlab.app.status), trained models (genlab.app.models), a drawing made MNIST-like
(genlab.app.preprocess)."""

from __future__ import annotations

import contextlib
import sys
import traceback

import numpy as np
import streamlit as st
import torch

from genlab.app.i18n import digit_name, error_text, t
from genlab.app.preprocess import center_digit
from genlab.app.safety import enlarge, read_image_upload
from genlab.app.settings import load_settings
from genlab.errors import GenlabError
from genlab.utils.images import make_grid

IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]


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


# ----------------------------------------------------------------------------- the digit a page works on
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
        return torch.from_numpy(read_image_upload(uploaded.getvalue(), uploaded.name, load_settings(), channels, size))[
            None
        ]
    except GenlabError as e:
        st.error(error_text(str(e)))
        return None


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
        x = center_digit(read_image_upload(data, "drawing.png", load_settings(), 1, size=None)[0])
    except GenlabError as e:
        st.error(error_text(str(e)))
        return None
    return None if x is None else torch.from_numpy(x)[None, None]


def header(title: str, intro: str) -> None:
    st.title(title)
    st.caption(intro)
