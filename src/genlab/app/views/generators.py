"""Generators side by side: autoencoders, GANs and diffusion drawing new digits from noise."""

import time

import pandas as pd
import streamlit as st
import torch

from genlab.app import ui
from genlab.app.runs import finished_runs

GENERATORS = ("ae", "vae", "beta-vae", "dcgan", "cgan", "stylegan", "ddpm")
QUALITY = ("fid", "precision", "recall", "coverage")

ui.header("Generators", "The same request — “draw new digits” — answered by every generative model trained so far. "
          "Diffusion needs many network passes per image (fewer with DDIM, at some cost in quality); a GAN needs one.")

runs = {}
for model in GENERATORS:
    found = finished_runs(ui.settings().runs, model)
    if found:
        runs[model] = found[0]
if not runs:
    ui.waiting_message(["vae", "dcgan", "ddpm"])
    st.stop()

c1, c2, c3 = st.columns(3)
n = c1.slider("Images per model", 4, 64, 16, key="gen-n")
seed = c2.number_input("Seed", 0, 2**31 - 1, 0, key="gen-seed")
steps = c3.slider("DDIM steps (diffusion)", 2, 200, 25, key="gen-steps", disabled="ddpm" not in runs,
                  help="the network passes per image; the book's DDPM takes 1,000")

if st.button("Generate", type="primary", key="gen-go"):
    results = {}
    for model, run in runs.items():
        with ui.friendly(f"sampling {model}"), torch.no_grad():
            recipe = ui.load(run)
            opts = {"steps": steps, "sampler": "ddim"} if model == "ddpm" else {}
            t0 = time.perf_counter()
            x = recipe.sample(n, generator=torch.Generator().manual_seed(int(seed)), **opts)
            results[model] = (ui.picture(x, nrow=min(n, 8), scale=2), time.perf_counter() - t0)
    st.session_state["gen-results"] = results

results = st.session_state.get("gen-results", {})
if results:
    cols = st.columns(min(4, len(results)))
    for i, (model, (grid, sec)) in enumerate(results.items()):
        extra = f", {steps} DDIM steps" if model == "ddpm" else ""
        cols[i % len(cols)].image(grid, caption=f"{model} — {sec * 1000:.0f} ms{extra}")

rows = []
for model, run in runs.items():
    ev = ui.runs_eval(run)
    rows.append({"model": model, "run": run.name, **{k: ev[k] for k in QUALITY if isinstance(ev.get(k), (int, float))}})
st.subheader("Quality at the end of training (held-out evaluator)")
st.caption("FID: lower is better; precision: realism; recall: variety; coverage: how many of the 10 digits appear.")
st.dataframe(pd.DataFrame(rows).set_index("model"), width="stretch")
