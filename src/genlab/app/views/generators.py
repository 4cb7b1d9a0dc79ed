"""Generators side by side: autoencoders, GANs and diffusion drawing new digits from noise."""

import time

import pandas as pd
import streamlit as st
import torch

from genlab.app import models, status, ui
from genlab.app.i18n import t
from genlab.app.runs import finished_runs
from genlab.app.settings import load_settings

GENERATORS = ("ae", "vae", "beta-vae", "dcgan", "cgan", "stylegan", "ddpm")
QUALITY = ("fid", "precision", "recall", "coverage")

ui.header(t("gen.title"), t("gen.intro"))

runs = {}
for model in GENERATORS:
    found = finished_runs(load_settings().runs, model)
    if found:
        runs[model] = found[0]
if not runs:
    status.waiting_message(["vae", "dcgan", "ddpm"])
    st.stop()

c1, c2, c3 = st.columns(3)
n = c1.slider(t("gen.n"), 4, 64, 16, key="gen-n")
seed = c2.number_input(t("common.seed"), 0, 2**31 - 1, 0, key="gen-seed")
steps = c3.slider(t("gen.steps"), 2, 200, 15, key="gen-steps", disabled="ddpm" not in runs, help=t("gen.steps_help"))

if st.button(t("common.generate"), type="primary", key="gen-go"):
    results = {}
    for model, run in runs.items():
        with ui.friendly(t("gen.what", model=model)), torch.no_grad():
            recipe = models.load(run)
            opts = {"steps": steps} if model == "ddpm" else {}  # the run's own sampler (DPM-Solver++ by default)
            t0 = time.perf_counter()
            x = recipe.sample(n, generator=torch.Generator().manual_seed(int(seed)), **opts)
            results[model] = (ui.picture(x, nrow=min(n, 8), scale=2), time.perf_counter() - t0)
    st.session_state["gen-results"] = results

results = st.session_state.get("gen-results", {})
if results:
    cols = st.columns(min(4, len(results)))
    for i, (model, (grid, sec)) in enumerate(results.items()):
        extra = t("gen.cap_ddim", sampler=models.load(runs[model]).cfg.sampler, steps=steps) if model == "ddpm" else ""
        cols[i % len(cols)].image(grid, caption=t("gen.cap", model=model, ms=sec * 1000, extra=extra))

rows = []
for model, run in runs.items():
    ev = models.runs_eval(run)
    rows.append(
        {
            t("gen.col_model"): model,
            t("gen.col_run"): run.name,
            **{k: ev[k] for k in QUALITY if isinstance(ev.get(k), (int, float))},
        }
    )
st.subheader(t("gen.quality"))
st.caption(t("gen.quality_help"))
st.dataframe(pd.DataFrame(rows).set_index(t("gen.col_model")), width="stretch")
