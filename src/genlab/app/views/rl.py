"""Reinforcement learning: watch a trained agent play an episode, and see how it learned."""

import pandas as pd
import streamlit as st

from genlab.app import models, ui
from genlab.app.i18n import t
from genlab.app.safety import gif_bytes
from genlab.rl.plots import rolling_mean

AGENTS = ["dqn", "qlearning", "reinforce", "a2c"]

ui.header(t("rl.title"), t("rl.intro"))

run = models.pick_run(AGENTS, key="rl-run", label=t("rl.run"))
if run is None:
    st.stop()
agent = models.load(run)
ev = models.runs_eval(run)
st.caption(
    t("rl.caption", name=agent.name, env=agent.cfg.env)
    + (t("rl.mean_return", r=ev["mean_return"]) if isinstance(ev.get("mean_return"), (int, float)) else "")
)

c1, c2 = st.columns(2)
seed = c1.number_input(t("common.episode_seed"), 0, 10_000, 0, key="rl-seed")
max_frames = c2.slider(t("rl.frames"), 50, 500, 300, 50, key="rl-frames")
if st.button(t("rl.play"), type="primary", key="rl-play"):
    with ui.friendly(t("rl.what")), st.spinner(t("rl.spinner")):
        frames, returns = agent.play_frames(episodes=1, seed=int(seed), max_frames=max_frames)
        frames = [f[::2, ::2] if f.shape[0] > 200 else f for f in frames]  # half size keeps the GIF light
        st.session_state["rl-episode"] = (gif_bytes(frames, duration_ms=40), len(frames), returns[0])
episode = st.session_state.get("rl-episode")
if episode:
    gif, n_frames, ret = episode
    st.image(gif, caption=t("rl.cap", ret=ret, n=n_frames))

st.subheader(t("rl.curve"))
h = agent.history
if h["return"]:
    df = pd.DataFrame(
        {t("rl.col_return"): h["return"], t("rl.col_mean"): rolling_mean(h["return"], 100)},
        index=pd.RangeIndex(1, len(h["return"]) + 1, name=t("rl.col_episode")),
    )
    st.line_chart(df)
else:
    st.info(t("rl.no_episodes"))
