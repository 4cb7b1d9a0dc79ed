"""Zero-shot classification: CLIP compares an image with a sentence per class name — any class names."""

import pandas as pd
import streamlit as st

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.errors import GenlabError

MAX_CLASSES = 50

ui.header(t("zs.title"), t("zs.intro"))

run = models.pick_run(["clip", "text2image"], key="zs-run", label=t("zs.run"))
if run is None:
    st.stop()

source = st.radio(
    t("zs.source"),
    ["heldout", "draw", "upload"],
    horizontal=True,
    key="zs-source",
    format_func=lambda v: t(f"zs.source_{v}"),
)
if source == "heldout":
    x = ui.digit_picker("zs")
elif source == "draw":
    x = ui.drawn_digit("zs-canvas")
else:
    x = ui.uploaded_image(st.file_uploader(t("zs.upload"), type=ui.IMAGE_TYPES, key="zs-upload"))
names = st.text_area(t("zs.classes"), t("zs.classes_default"), key="zs-classes")
template = st.text_input(t("zs.template"), "", key="zs-template", help=t("zs.template_help"))


def parse_classes(text: str) -> list[str]:
    classes = [c.strip() for c in text.split(",") if c.strip()]
    if len(classes) < 2:
        raise GenlabError(t("err.min_classes"))
    if len(classes) > MAX_CLASSES or any(len(c) > 100 for c in classes):
        raise GenlabError(t("err.max_classes", n=MAX_CLASSES))
    if len(set(classes)) != len(classes):
        raise GenlabError(t("err.dup_classes"))
    return classes


if x is not None:
    st.image(ui.picture(x, scale=4), caption=t("zs.input"))
if st.button(t("common.classify"), type="primary", key="zs-go"):
    st.session_state.pop("zs-result", None)
    with ui.friendly(t("common.classifying")):
        if x is None:
            raise GenlabError(t("err.no_image"))
        classes = parse_classes(names)
        recipe = models.load(run)
        clip = getattr(recipe, "clip", recipe)  # a text2image run carries its own CLIP
        probs = clip.classify(x, classes, [template] if template.strip() else None)[0]
        st.session_state["zs-result"] = dict(zip(classes, probs.tolist()))

res = st.session_state.get("zs-result")
if res:
    best = max(res, key=res.get)
    st.metric(t("zs.prediction"), best, t("zs.probability_of", p=res[best]), delta_color="off")
    st.bar_chart(pd.DataFrame({t("zs.probability"): list(res.values())}, index=list(res.keys())), horizontal=True)
