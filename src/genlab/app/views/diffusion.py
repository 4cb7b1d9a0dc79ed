"""Diffusion viewer: the forward process drowns a digit in noise; the trained network walks back."""

import streamlit as st
import torch

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.diffusion.samplers import DEFAULT_STEPS, SAMPLERS
from genlab.diffusion.visuals import forward_process

ui.header(t("dif.title"), t("dif.intro"))

run = models.pick_run("ddpm", key="dif-run")
if run is None:
    st.stop()
recipe = models.load(run)
T = recipe.schedule.timesteps

st.subheader(t("dif.forward"))
x0 = ui.digit_picker("dif")
step = st.slider(t("dif.t"), 0, T - 1, T // 4, key="dif-t")
with ui.friendly(t("dif.what_noise")), torch.no_grad():
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    xt = recipe.schedule.q_sample(x0 * 2 - 1, torch.tensor([step]), noise)
    st.image(ui.picture(torch.cat([x0, ((xt + 1) / 2).clamp(0, 1)]), scale=6), caption=f"x_0 · x_{step}")
    st.image(
        ui.picture(forward_process(recipe.schedule, x0, frames=11), nrow=12, scale=3),
        caption=t("dif.cap_forward", last=T - 1),
    )

st.subheader(t("dif.reverse"))
c1, c2, c3, c4 = st.columns(4)
labels = [None] + list(range(recipe.cfg.num_classes)) if recipe.cfg.conditional else [None]
label = c1.selectbox(
    t("dif.digit"), labels, key="dif-label", format_func=lambda v: t("dif.any") if v is None else str(v)
)
sampler = c2.selectbox(
    t("dif.sampler"),
    SAMPLERS,
    key="dif-sampler",
    help=t("dif.sampler_help"),
    index=SAMPLERS.index(recipe.cfg.sampler) if recipe.cfg.sampler in SAMPLERS else 0,
)
default_steps = recipe.cfg.sample_steps if sampler == recipe.cfg.sampler else DEFAULT_STEPS.get(sampler, T)
steps = c3.slider(t("dif.steps"), 2, T, default_steps, key=f"dif-steps-{sampler}")
seed = c4.number_input(t("common.seed"), 0, 2**31 - 1, 0, key="dif-seed")
if st.button(t("dif.go"), type="primary", key="dif-go"):
    with ui.friendly(t("dif.what_sample")), st.spinner(t("dif.spinner")):
        traj = []
        recipe.sample(
            1, torch.Generator().manual_seed(int(seed)), label=label, steps=steps, sampler=sampler, trajectory=traj
        )
        st.session_state["dif-traj"] = [((x.cpu() + 1) / 2).clamp(0, 1) for x in traj]
traj = st.session_state.get("dif-traj")
if traj:
    i = st.slider(t("dif.i"), 0, len(traj) - 1, len(traj) - 1, key="dif-i")
    left, right = st.columns([1, 3])
    left.image(ui.picture(traj[i], scale=6), caption=t("dif.cap_i", i=i, n=len(traj) - 1))
    pick = torch.linspace(0, len(traj) - 1, min(10, len(traj))).round().long().tolist()
    right.image(ui.picture(torch.cat([traj[j] for j in pick]), nrow=len(pick), scale=3), caption=t("dif.cap_traj"))
