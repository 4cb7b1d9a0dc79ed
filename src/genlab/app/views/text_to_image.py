"""Text to image: prompt -> CLIP text encoder -> VAE decoder (base) -> GAN refiner, reranked by CLIP;
or the text-conditioned diffusion backend."""

import streamlit as st

from genlab.app import ui
from genlab.app.safety import png_bytes

ui.header("Text to image", "Describe a handwritten digit in English: its value (a word or a numeral), and optionally "
          "its stroke (bold / thin), slant (slanted left / right) or size (small / large). "
          "The prompt goes through a CLIP text encoder, a VAE decoder draws a base image and a GAN refiner sharpens it.")

run = ui.pick_run("text2image", key="t2i-run")
if run is None:
    st.stop()

prompt = st.text_input("Prompt", "a bold seven slanted right", key="t2i-prompt",
                       help="e.g. 'a thin 4', 'the digit eight, small', 'a handwritten two slanted left'")
c1, c2, c3, c4 = st.columns(4)
backend = c1.selectbox("Backend", ["vae-gan", "diffusion"], key="t2i-backend",
                       format_func=lambda b: {"vae-gan": "VAE + GAN refiner (fast)", "diffusion": "diffusion (slower)"}[b])
n = c2.slider("Images", 1, 64, 16, key="t2i-n")
seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key="t2i-seed")
candidates = c4.slider("Candidates per image", 1, 8, 1, key="t2i-candidates",
                       help="draw K images per requested image and keep the ones CLIP finds closest to the prompt")
stages = st.checkbox("Show the stages (VAE base image, then refined)", key="t2i-stages")

if st.button("Generate", type="primary", key="t2i-generate"):
    st.session_state.pop("t2i-result", None)
    with ui.friendly("generating"), st.spinner("Generating…"):
        out = ui.load(run).pipeline()(prompt, n=n, seed=int(seed), candidates=candidates, backend=backend)
        st.session_state["t2i-result"] = {
            "prompt": out.prompts[0], "backend": backend, "seconds": out.seconds, "scores": out.scores.tolist(),
            "final": ui.picture(out.images, nrow=min(n, 8)),
            "base": None if out.base is None else ui.picture(out.base, nrow=min(n, 8)),
        }

res = st.session_state.get("t2i-result")
if res:
    s = res["scores"]
    st.success(f"{len(s)} images for “{res['prompt'][:80]}” in {res['seconds']:.2f} s "
               f"(CLIP similarity to the prompt: best {max(s):.3f}, mean {sum(s) / len(s):.3f})")
    if stages and res["base"] is not None:
        left, right = st.columns(2)
        left.image(res["base"], caption="stage 2: VAE base images")
        right.image(res["final"], caption="stage 3: refined by the GAN")
    else:
        st.image(res["final"], caption=f"{res['backend']} · best CLIP match first when candidates > 1")
    st.download_button("Download PNG", png_bytes(res["final"]), file_name="genlab-text2image.png", mime="image/png",
                       key="t2i-download")
