"""Reinforcement learning: watch a trained agent play an episode, and see how it learned."""

import pandas as pd
import streamlit as st

from genlab.app import ui
from genlab.app.safety import gif_bytes
from genlab.rl.plots import rolling_mean

AGENTS = ["dqn", "qlearning", "reinforce", "a2c"]

ui.header("Reinforcement learning", "An agent learns by trial and error which action to take in each state to collect "
          "the most reward. Here it plays with its greedy policy (always the action it rates best).")

run = ui.pick_run(AGENTS, key="rl-run", label="Agent run")
if run is None:
    st.stop()
agent = ui.load(run)
ev = ui.runs_eval(run)
st.caption(f"{agent.name} on {agent.cfg.env}" + (f" — mean return over its final evaluation: {ev['mean_return']:.1f}"
                                                 if isinstance(ev.get("mean_return"), (int, float)) else ""))

c1, c2 = st.columns(2)
seed = c1.number_input("Episode seed", 0, 10_000, 0, key="rl-seed")
max_frames = c2.slider("Longest animation (frames)", 50, 500, 300, 50, key="rl-frames")
if st.button("Play an episode", type="primary", key="rl-play"):
    with ui.friendly("playing the episode"), st.spinner("Playing…"):
        frames, returns = agent.play_frames(episodes=1, seed=int(seed), max_frames=max_frames)
        frames = [f[::2, ::2] if f.shape[0] > 200 else f for f in frames]  # half size keeps the GIF light
        st.session_state["rl-episode"] = (gif_bytes(frames, duration_ms=40), len(frames), returns[0])
episode = st.session_state.get("rl-episode")
if episode:
    gif, n_frames, ret = episode
    st.image(gif, caption=f"return {ret:g} in {n_frames} frames")

st.subheader("Learning curve")
h = agent.history
if h["return"]:
    df = pd.DataFrame({"episode return": h["return"], "mean of the last 100": rolling_mean(h["return"], 100)},
                      index=pd.RangeIndex(1, len(h["return"]) + 1, name="training episode"))
    st.line_chart(df)
else:
    st.info("This run recorded no finished training episodes.")
