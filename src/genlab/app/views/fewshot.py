"""Few-shot: classify new characters from one (or a few) examples each — held-out Omniglot alphabets
the model never saw, or classes you upload yourself."""

import streamlit as st
import torch

from genlab.app import ui
from genlab.app.safety import read_image_upload
from genlab.errors import GenlabError

MODELS = ["protonet", "maml", "finetune"]
MAX_FILES = 20

ui.header("Few-shot", "An N-way K-shot episode: N new classes with K labelled examples each (the support set); the model "
          "must label new images (the queries). Prototypical networks compare a query with the mean embedding of each class.")

run = ui.pick_run(MODELS, key="fs-run")
if run is None:
    st.stop()
model = ui.load(run)
tab_omni, tab_own = st.tabs(["Held-out Omniglot alphabets", "Your own images"])

with tab_omni:
    c1, c2, c3 = st.columns(3)
    ways = c1.slider("Classes (N-way)", 2, 20, 5, key="fs-ways")
    shots = c2.slider("Examples per class (K-shot)", 1, 5, 1, key="fs-shots")
    seed = c3.number_input("Episode seed", 0, 10**6, 0, key="fs-seed")
    if st.button("New episode", type="primary", key="fs-go"):
        with ui.friendly("the episode"), st.spinner("Drawing an episode…"):
            ep = model.pools[1].sample_episode(ways, shots, 1, torch.Generator().manual_seed(int(seed)))
            probs = model.predict(ep.support_x, ep.support_y, ep.query_x, ways)
            order = ep.support_y.argsort(stable=True)
            st.session_state["fs-episode"] = (ep.support_x[order], ep.query_x, ep.query_y, probs, ways, shots)
    res = st.session_state.get("fs-episode")
    if res:
        sx, qx, qy, probs, ways_, shots_ = res
        pred = probs.argmax(1)
        st.metric("Correct answers", f"{int((pred == qy).sum())} of {len(qy)}")
        st.image(ui.picture(sx, nrow=shots_, scale=3), caption=f"support set: one row per class (0 … {ways_ - 1}), {shots_} example(s) each")
        cols = st.columns(min(10, len(qy)))
        for i in range(len(qy)):
            mark = "✓" if pred[i] == qy[i] else f"✗ (is {int(qy[i])})"
            cols[i % len(cols)].image(ui.picture(qx[i : i + 1], scale=3),
                                      caption=f"answer: class {int(pred[i])} {mark} · {float(probs[i].max()):.0%}")

with tab_own:
    st.caption("Upload a few images per class (PNG or JPEG; dark ink on light paper is fine), then the images to classify.")
    n_classes = st.slider("Number of classes", 2, 5, 2, key="fs-own-n")
    size, channels = model.cfg.image_size, model.cfg.channels
    names, uploads = [], []
    cols = st.columns(n_classes)
    for c in range(n_classes):
        names.append(cols[c].text_input("Class name", f"class {c + 1}", key=f"fs-own-name-{c}"))
        uploads.append(cols[c].file_uploader("Examples", type=ui.IMAGE_TYPES, accept_multiple_files=True, key=f"fs-own-up-{c}"))
    queries = st.file_uploader("Images to classify", type=ui.IMAGE_TYPES, accept_multiple_files=True, key="fs-own-q")
    if st.button("Classify", type="primary", key="fs-own-go"):
        with ui.friendly("classifying"):
            def decode(files, what):
                if not files:
                    raise GenlabError(f"upload at least one image for {what}")
                if len(files) > MAX_FILES:
                    raise GenlabError(f"upload at most {MAX_FILES} images for {what}")
                return torch.stack([torch.from_numpy(read_image_upload(f.getvalue(), f.name, ui.settings(), channels, size)) for f in files])

            sx = [decode(files, f"'{name}'") for name, files in zip(names, uploads)]
            sy = torch.cat([torch.full((len(x),), c) for c, x in enumerate(sx)])
            qx = decode(queries, "the images to classify")
            probs = model.predict(torch.cat(sx), sy, qx, n_classes)
            qcols = st.columns(min(8, len(qx)))
            for i in range(len(qx)):
                qcols[i % len(qcols)].image(ui.picture(qx[i : i + 1], scale=3),
                                            caption=f"{names[int(probs[i].argmax())]} · {float(probs[i].max()):.0%}")
