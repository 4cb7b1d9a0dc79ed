"""Latent explorer: walk between two digits in a VAE's latent space, turn single latent dimensions
(beta-VAE), and watch a denoising autoencoder clean up noise."""

import streamlit as st
import torch

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.app.runs import checkpoint_key
from genlab.autoencoders.base import add_noise
from genlab.autoencoders.explore import interpolate_codes

ui.header(t("lat.title"), t("lat.intro"))
tab_interp, tab_trav, tab_dae = st.tabs([t("lat.tab_interp"), t("lat.tab_trav"), t("lat.tab_dae")])


@st.cache_resource(show_spinner=False, max_entries=8)
def busiest_dims(run: str, checkpoint: str, n: int = 5) -> list[int]:
    """The latent dimensions whose held-out codes vary most (the ones the model actually uses)."""
    codes = models.load(run).encode(ui.heldout()[0][:500])
    return codes.std(0).argsort(descending=True)[:n].tolist()


with tab_interp:
    run = models.pick_run(["vae", "beta-vae"], key="lat-vae-run")
    if run is not None:
        with ui.friendly(t("lat.what_interp")), torch.no_grad():
            vae = models.load(run)
            a, b = st.columns(2)
            with a:
                xa = ui.digit_picker("lat-a", t("lat.start"))
            with b:
                xb = ui.digit_picker("lat-b", t("lat.end"), digit=7)
            method = st.radio(
                t("lat.path"),
                ["linear", "slerp"],
                horizontal=True,
                key="lat-method",
                format_func=lambda v: t(f"lat.path_{v}"),
                help=t("lat.path_help"),
            )
            pos = st.slider(t("lat.t"), 0.0, 1.0, 0.5, 0.05, key="lat-t")
            z = vae.encode(torch.cat([xa, xb]))
            path = vae.decode(interpolate_codes(z[:1], z[1:], 21, method))
            st.image(
                ui.picture(torch.cat([xa, path[round(pos * 20)][None], xb]), scale=6), caption=t("lat.cap_t", t=pos)
            )
            st.image(ui.picture(path[::2], nrow=11, scale=3), caption=t("lat.cap_path"))

with tab_trav:
    run = models.pick_run(["beta-vae", "vae"], key="lat-beta-run")
    if run is not None:
        with ui.friendly(t("lat.what_trav")), torch.no_grad():
            vae = models.load(run)
            x = ui.digit_picker("lat-trav")
            z = vae.encode(x)
            dims = busiest_dims(str(run), checkpoint_key(run))
            st.caption(t("lat.trav_caption", name=vae.name, beta=getattr(vae.cfg, "beta", 1.0), n=len(dims)))
            cols = st.columns(len(dims))
            for c, j in zip(cols, dims):
                z[0, j] = c.slider(f"z{j}", -3.0, 3.0, float(z[0, j].clamp(-3, 3)), 0.1, key=f"lat-z{j}")
            st.image(ui.picture(torch.cat([x, vae.decode(z)]), scale=6), caption=t("lat.cap_trav"))

with tab_dae:
    run = models.pick_run("dae", key="lat-dae-run")
    if run is not None:
        with ui.friendly(t("lat.what_dae")), torch.no_grad():
            dae = models.load(run)
            noise = st.slider(t("lat.noise"), 0.0, 1.0, 0.3, 0.05, key="lat-noise")
            seed = st.number_input(t("lat.noise_seed"), 0, 10_000, 0, key="lat-noise-seed")
            x = ui.heldout()[0][:8]
            noisy = add_noise(x, noise, torch.Generator().manual_seed(int(seed)))
            st.image(
                ui.picture(torch.cat([noisy, dae.reconstruct(noisy), x]), nrow=8, scale=4), caption=t("lat.cap_dae")
            )
