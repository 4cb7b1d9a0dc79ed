"""Few-shot: classify new characters from one (or a few) examples each — held-out Omniglot alphabets
the model never saw, or classes you upload yourself."""

import streamlit as st
import torch

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.app.safety import read_image_upload
from genlab.app.settings import load_settings
from genlab.errors import GenlabError

MODELS = ["protonet", "maml", "finetune"]
MAX_FILES = 20

ui.header(t("fs.title"), t("fs.intro"))

run = models.pick_run(MODELS, key="fs-run")
if run is None:
    st.stop()
model = models.load(run)
tab_omni, tab_own = st.tabs([t("fs.tab_omni"), t("fs.tab_own")])

with tab_omni:
    c1, c2, c3 = st.columns(3)
    ways = c1.slider(t("fs.ways"), 2, 20, 5, key="fs-ways")
    shots = c2.slider(t("fs.shots"), 1, 5, 1, key="fs-shots")
    seed = c3.number_input(t("common.episode_seed"), 0, 10**6, 0, key="fs-seed")
    if st.button(t("fs.go"), type="primary", key="fs-go"):
        with ui.friendly(t("fs.what")), st.spinner(t("fs.spinner")):
            ep = model.pools[1].sample_episode(ways, shots, 1, torch.Generator().manual_seed(int(seed)))
            probs = model.predict(ep.support_x, ep.support_y, ep.query_x, ways)
            order = ep.support_y.argsort(stable=True)
            st.session_state["fs-episode"] = (ep.support_x[order], ep.query_x, ep.query_y, probs, ways, shots)
    res = st.session_state.get("fs-episode")
    if res:
        sx, qx, qy, probs, ways_, shots_ = res
        pred = probs.argmax(1)
        st.metric(t("fs.correct"), t("fs.correct_value", right=int((pred == qy).sum()), n=len(qy)))
        st.image(ui.picture(sx, nrow=shots_, scale=3), caption=t("fs.cap_support", last=ways_ - 1, shots=shots_))
        cols = st.columns(min(10, len(qy)))
        for i in range(len(qy)):
            mark = t("fs.right") if pred[i] == qy[i] else t("fs.wrong", y=int(qy[i]))
            cols[i % len(cols)].image(
                ui.picture(qx[i : i + 1], scale=3),
                caption=t("fs.cap_answer", p=int(pred[i]), mark=mark, prob=float(probs[i].max())),
            )

with tab_own:
    st.caption(t("fs.own_help"))
    n_classes = st.slider(t("fs.n_classes"), 2, 5, 2, key="fs-own-n")
    size, channels = model.cfg.image_size, model.cfg.channels
    names, uploads = [], []
    cols = st.columns(n_classes)
    for c in range(n_classes):
        names.append(cols[c].text_input(t("fs.class_name"), t("fs.class_default", i=c + 1), key=f"fs-own-name-{c}"))
        uploads.append(
            cols[c].file_uploader(
                t("fs.examples"), type=ui.IMAGE_TYPES, accept_multiple_files=True, key=f"fs-own-up-{c}"
            )
        )
    queries = st.file_uploader(t("fs.queries"), type=ui.IMAGE_TYPES, accept_multiple_files=True, key="fs-own-q")
    if st.button(t("common.classify"), type="primary", key="fs-own-go"):
        with ui.friendly(t("common.classifying")):

            def decode(files, what):
                if not files:
                    raise GenlabError(t("err.upload_min", what=what))
                if len(files) > MAX_FILES:
                    raise GenlabError(t("err.upload_max", n=MAX_FILES, what=what))
                return torch.stack(
                    [
                        torch.from_numpy(read_image_upload(f.getvalue(), f.name, load_settings(), channels, size))
                        for f in files
                    ]
                )

            sx = [decode(files, t("fs.class_what", name=name)) for name, files in zip(names, uploads)]
            sy = torch.cat([torch.full((len(x),), c) for c, x in enumerate(sx)])
            qx = decode(queries, t("fs.queries_what"))
            probs = model.predict(torch.cat(sx), sy, qx, n_classes)
            qcols = st.columns(min(8, len(qx)))
            for i in range(len(qx)):
                qcols[i % len(qcols)].image(
                    ui.picture(qx[i : i + 1], scale=3),
                    caption=t("fs.cap_own", name=names[int(probs[i].argmax())], prob=float(probs[i].max())),
                )
