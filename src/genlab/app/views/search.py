"""Image search: embed a folder of images with CLIP, then find images by text or by example."""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import streamlit as st
from PIL import Image

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.app.runs import checkpoint_key
from genlab.app.safety import enlarge, inside_roots, read_file_inside
from genlab.app.settings import load_settings
from genlab.data.datasets import MNIST_CLASSES
from genlab.data.images import decode_image
from genlab.pipelines.search import SearchIndex, build_index, query
from genlab.utils.images import to_uint8

ui.header(t("search.title"), t("search.intro"))

run = models.pick_run("clip", key="search-run")
if run is None:
    st.stop()
s = load_settings()
index_dir = s.state_dir / "search"


@st.cache_resource(show_spinner=False)
def gallery_folder(root: str) -> Path:
    """The 1,000 held-out digits as PNGs in RUNS/.studio/gallery (written once, into a temporary
    folder renamed at the end, so a half-written gallery is never indexed)."""
    folder = Path(root) / "gallery"
    if not folder.is_dir():
        Path(root).mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".gallery-", dir=root))
        x, y = ui.heldout()
        for i, (img, label) in enumerate(zip(to_uint8(x), y.tolist())):
            Image.fromarray(img).save(tmp / f"{i:04d}-{MNIST_CLASSES[label]}.png")
        try:
            os.replace(tmp, folder)
        except OSError:  # another studio process finished first
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


@st.cache_resource(show_spinner=False)
def gallery_index(run_dir: str, checkpoint: str) -> str:
    path = index_dir / "gallery.npz"
    build_index(gallery_folder(str(s.state_dir)), run_dir, path, log=lambda msg: None)
    return str(path)


@st.cache_resource(show_spinner=False, max_entries=8)
def load_index(path: str, mtime: int) -> SearchIndex:
    return SearchIndex.load(path)


source = st.radio(
    t("search.source"),
    ["heldout", "folder"],
    horizontal=True,
    key="search-source",
    format_func=lambda v: t(f"search.source_{v}"),
)
index_path = None
if source == "folder":
    folder = st.text_input(
        t("search.folder"),
        str(s.runs),
        key="search-folder",
        help=t("search.folder_help", roots=", ".join(str(r) for r in s.roots)),
    )
    if st.button(t("search.build"), key="search-build"):
        with ui.friendly(t("search.what_indexing")), st.spinner(t("search.embedding")):
            real = inside_roots(folder, s)
            path = index_dir / f"folder-{hashlib.sha1(str(real).encode()).hexdigest()[:16]}.npz"
            index, stats = build_index(real, run, path, log=lambda msg: None)
            st.session_state["search-folder-index"] = str(path)
            st.success(t("search.indexed", **{k: stats[k] for k in ("images", "embedded", "reused", "skipped")}))
    index_path = st.session_state.get("search-folder-index")
    if index_path is None:
        st.info(t("search.press_build"))
        st.stop()
else:
    with ui.friendly(t("search.what_gallery")), st.spinner(t("search.indexing_gallery")):
        index_path = gallery_index(str(run), checkpoint_key(run))
    if index_path is None:
        st.stop()

mode = st.radio(
    t("search.mode"), ["text", "image"], horizontal=True, key="search-mode", format_func=lambda v: t(f"search.mode_{v}")
)
text, upload = None, None
if mode == "text":
    text = st.text_input(t("search.text"), t("search.text_default"), key="search-text")
else:
    upload = st.file_uploader(t("search.upload"), type=ui.IMAGE_TYPES, key="search-upload")
k = st.slider(t("search.k"), 1, 32, 8, key="search-k")

if st.button(t("search.go"), type="primary", key="search-go"):
    st.session_state.pop("search-results", None)
    with ui.friendly(t("search.what")):
        index = load_index(index_path, Path(index_path).stat().st_mtime_ns)
        recipe = models.load(run)
        if mode == "text":
            results = query(index, recipe, text=text, k=k)
        else:
            x = ui.uploaded_image(upload, recipe.cfg.image_size, recipe.cfg.channels)
            results = None if x is None else index.search(recipe.encode_images(x)[0], k)
            if upload is None:
                st.warning(t("search.need_upload"))
        if results is not None:
            st.session_state["search-results"] = results


def thumbnail(path: str):
    arr = decode_image(read_file_inside(path, s), name=Path(path).name, size=None, invert_if_light=False)
    img = to_uint8(arr[None])[0]
    return enlarge(img, max(1, 112 // max(img.shape[:2])))


results = st.session_state.get("search-results")
if results is not None:
    st.subheader(t("search.top", n=len(results)))
    cols = st.columns(8)
    for i, r in enumerate(results):
        with cols[i % 8], ui.friendly(t("search.what_result")):
            st.image(thumbnail(r["path"]), caption=f"{r['score']:.3f} · {Path(r['path']).name}")
