"""Text to image: prompt -> CLIP text encoder -> VAE decoder (base) -> GAN refiner, reranked by CLIP;
or the text-conditioned diffusion backend."""

import streamlit as st

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.app.safety import png_bytes
from genlab.errors import GenlabError
from genlab.pipelines.text2image import MAX_PROMPT_CHARS

ui.header(t("t2i.title"), t("t2i.intro"))

run = models.pick_run("text2image", key="t2i-run")
if run is None:
    st.stop()

prompt = st.text_input(t("t2i.prompt"), t("t2i.prompt_default"), key="t2i-prompt", help=t("t2i.prompt_help"))
c1, c2, c3, c4 = st.columns(4)
BACKENDS = {"vae-gan": "t2i.backend_vae_gan", "diffusion": "t2i.backend_diffusion"}
backend = c1.selectbox(t("t2i.backend"), list(BACKENDS), key="t2i-backend", format_func=lambda b: t(BACKENDS[b]))
n = c2.slider(t("t2i.n"), 1, 64, 16, key="t2i-n")
seed = c3.number_input(t("common.seed"), 0, 2**31 - 1, 0, key="t2i-seed")
candidates = c4.slider(t("t2i.candidates"), 1, 8, 1, key="t2i-candidates", help=t("t2i.candidates_help"))
stages = st.checkbox(t("t2i.stages"), key="t2i-stages")


def checked(text: str) -> str:
    """The prompt, or a GenlabError in the page's language when it is empty or too long."""
    if not text.strip():
        raise GenlabError(t("err.prompt_empty", example=t("t2i.prompt_example")))
    if len(text) > MAX_PROMPT_CHARS:
        raise GenlabError(t("err.prompt_long", n=len(text), limit=MAX_PROMPT_CHARS, example=t("t2i.prompt_example")))
    return text


if st.button(t("common.generate"), type="primary", key="t2i-generate"):
    st.session_state.pop("t2i-result", None)
    with ui.friendly(t("t2i.what")), st.spinner(t("t2i.spinner")):
        out = models.load(run).pipeline()(checked(prompt), n=n, seed=int(seed), candidates=candidates, backend=backend)
        st.session_state["t2i-result"] = {
            "prompt": out.prompts[0],
            "backend": backend,
            "seconds": out.seconds,
            "scores": out.scores.tolist(),
            "final": ui.picture(out.images, nrow=min(n, 8)),
            "base": None if out.base is None else ui.picture(out.base, nrow=min(n, 8)),
        }

res = st.session_state.get("t2i-result")
if res:
    s = res["scores"]
    st.success(
        t("t2i.success", n=len(s), prompt=res["prompt"][:80], seconds=res["seconds"], best=max(s), mean=sum(s) / len(s))
    )
    if stages and res["base"] is not None:
        left, right = st.columns(2)
        left.image(res["base"], caption=t("t2i.cap_base"))
        right.image(res["final"], caption=t("t2i.cap_refined"))
    else:
        st.image(res["final"], caption=t("t2i.cap_final", backend=t(BACKENDS[res["backend"]])))
    st.download_button(
        t("t2i.download"),
        png_bytes(res["final"]),
        file_name="genlab-text2image.png",
        mime="image/png",
        key="t2i-download",
    )
