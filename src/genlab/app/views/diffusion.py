"""Diffusion viewer: the forward process drowns a digit in noise; the trained network walks back."""

import streamlit as st
import torch

from genlab.app import ui
from genlab.diffusion.visuals import forward_process

ui.header("Diffusion viewer", "Forward: x_t = sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·ε adds a little Gaussian noise at each of T steps. "
          "Reverse: the U-Net predicts the noise and a sampler removes it, step by step, starting from pure noise.")

run = ui.pick_run("ddpm", key="dif-run")
if run is None:
    st.stop()
recipe = ui.load(run)
T = recipe.schedule.timesteps

st.subheader("Forward process (noising a real digit)")
x0 = ui.digit_picker("dif")
t = st.slider("Step t", 0, T - 1, T // 4, key="dif-t")
with ui.friendly("noising"), torch.no_grad():
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    xt = recipe.schedule.q_sample(x0 * 2 - 1, torch.tensor([t]), noise)
    st.image(ui.picture(torch.cat([x0, ((xt + 1) / 2).clamp(0, 1)]), scale=6), caption=f"x_0 · x_{t}")
    st.image(ui.picture(forward_process(recipe.schedule, x0, frames=11), nrow=12, scale=3),
             caption=f"x_0, then t = 0 … {T - 1} in 10 even steps")

st.subheader("Reverse process (generating from noise)")
c1, c2, c3 = st.columns(3)
labels = ["any digit"] + [str(k) for k in range(recipe.cfg.num_classes)] if recipe.cfg.conditional else ["any digit"]
label = c1.selectbox("Digit", labels, key="dif-label")
steps = c2.slider("DDIM steps", 5, 200, 50, key="dif-steps")
seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key="dif-seed")
if st.button("Denoise from pure noise", type="primary", key="dif-go"):
    with ui.friendly("sampling"), st.spinner("Sampling…"):
        traj = []
        recipe.sample(1, torch.Generator().manual_seed(int(seed)), label=None if label == "any digit" else int(label),
                      steps=steps, sampler="ddim", trajectory=traj)
        st.session_state["dif-traj"] = [((x.cpu() + 1) / 2).clamp(0, 1) for x in traj]
traj = st.session_state.get("dif-traj")
if traj:
    i = st.slider("Sampler step", 0, len(traj) - 1, len(traj) - 1, key="dif-i")
    left, right = st.columns([1, 3])
    left.image(ui.picture(traj[i], scale=6), caption=f"after step {i} of {len(traj) - 1}")
    pick = torch.linspace(0, len(traj) - 1, min(10, len(traj))).round().long().tolist()
    right.image(ui.picture(torch.cat([traj[j] for j in pick]), nrow=len(pick), scale=3), caption="from noise (left) to digit (right)")
