"""Zero-shot classification: CLIP compares an image with a sentence per class name — any class names."""

import pandas as pd
import streamlit as st

from genlab.app import ui
from genlab.data.datasets import MNIST_CLASSES
from genlab.errors import GenlabError

MAX_CLASSES = 50

ui.header("Zero-shot classifier", "CLIP was never trained to output classes: it scores how well the image matches "
          "sentences such as “a handwritten seven” built from the class names you write below, "
          "and turns the scores into probabilities.")

run = ui.pick_run(["clip", "text2image"], key="zs-run", label="CLIP model (a clip run, or the text encoder of a text2image run)")
if run is None:
    st.stop()

source = st.radio("Image", ["A held-out digit", "Draw a digit", "Upload an image"], horizontal=True, key="zs-source")
if source == "A held-out digit":
    x = ui.digit_picker("zs")
elif source == "Draw a digit":
    x = ui.drawn_digit("zs-canvas")
else:
    x = ui.uploaded_image(st.file_uploader("Image (PNG or JPEG; dark ink on light paper is fine)", type=ui.IMAGE_TYPES, key="zs-upload"))
names = st.text_area("Class names (comma-separated; edit them freely)", ", ".join(MNIST_CLASSES), key="zs-classes")
template = st.text_input("Prompt template (optional, {} is replaced by the class name)", "", key="zs-template",
                         help="leave empty for an ensemble of templates such as 'a handwritten {}' and 'the digit {}'")


def parse_classes(text: str) -> list[str]:
    classes = [c.strip() for c in text.split(",") if c.strip()]
    if len(classes) < 2:
        raise GenlabError("write at least two class names, separated by commas (e.g. 'seven, one')")
    if len(classes) > MAX_CLASSES or any(len(c) > 100 for c in classes):
        raise GenlabError(f"use at most {MAX_CLASSES} class names of at most 100 characters each")
    if len(set(classes)) != len(classes):
        raise GenlabError("a class name appears twice; make them distinct")
    return classes


if x is not None:
    st.image(ui.picture(x, scale=4), caption="input (28 x 28, as the model sees it)")
if st.button("Classify", type="primary", key="zs-go"):
    st.session_state.pop("zs-result", None)
    with ui.friendly("classifying"):
        if x is None:
            raise GenlabError("choose a held-out digit, draw a digit or upload an image first")
        classes = parse_classes(names)
        recipe = ui.load(run)
        clip = getattr(recipe, "clip", recipe)  # a text2image run carries its own CLIP
        probs = clip.classify(x, classes, [template] if template.strip() else None)[0]
        st.session_state["zs-result"] = dict(zip(classes, probs.tolist()))

res = st.session_state.get("zs-result")
if res:
    best = max(res, key=res.get)
    st.metric("Prediction", best, f"{res[best]:.0%} probability", delta_color="off")
    st.bar_chart(pd.DataFrame({"probability": list(res.values())}, index=list(res.keys())), horizontal=True)
