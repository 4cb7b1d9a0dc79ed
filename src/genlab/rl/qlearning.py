"""Tabular Q-learning (the book's update rule) on discrete grid worlds: FrozenLake, Taxi.

    Q(s, a) <- Q(s, a) + alpha [r + gamma max_a' Q(s', a') - Q(s, a)]

with ``max Q(s', .)`` dropped only when the episode *terminated* (a hole or the goal), not when
the time limit truncated it. Epsilon-greedy exploration decays linearly; alpha (``lr``) may
decay linearly to ``lr_end`` so the table settles. The greedy policy is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genlab.rl.base import RL_DEFAULTS, RLConfig, RLRecipe
from genlab.rl.schedules import linear


@dataclass
class QLearningConfig(RLConfig):
    env: str = "FrozenLake-v1"
    map_name: str = "4x4"  # FrozenLake only: 4x4 | 8x8
    slippery: bool = True  # FrozenLake only
    lr: float = 0.1  # alpha at the start
    lr_end: float = 0.1  # alpha at the end (linear decay over the run)
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_fraction: float = 0.5  # share of the run over which epsilon decays
    final_eval_episodes: int = 1000


class QTable(nn.Module):
    """The Q-table as a buffer, so the engine checkpoints it like any network."""

    def __init__(self, n_states: int, n_actions: int):
        super().__init__()
        self.register_buffer("q", torch.zeros(n_states, n_actions, dtype=torch.float64))


class QLearningRecipe(RLRecipe):
    name = "qlearning"
    Config = QLearningConfig
    obs_kind = "discrete"
    presets = {
        "quick": {
            **RL_DEFAULTS,
            "steps": 150_000,
            "eval_every": 25_000,
            "eval_episodes": 200,
            "ckpt_every": 50_000,
            "lr_end": 0.01,
        },
        "full": {
            **RL_DEFAULTS,
            "steps": 1_000_000,
            "map_name": "8x8",
            "eval_every": 100_000,
            "eval_episodes": 200,
            "ckpt_every": 100_000,
            "lr_end": 0.005,
        },
        "book": {
            **RL_DEFAULTS,
            "steps": 150_000,
            "eval_every": 25_000,
            "eval_episodes": 200,
            "ckpt_every": 50_000,
            "lr": 0.1,
            "lr_end": 0.1,
        },
    }

    def env_kwargs(self):
        return (
            {"map_name": self.cfg.map_name, "is_slippery": self.cfg.slippery}
            if self.cfg.env.startswith("FrozenLake")
            else {}
        )

    def build_agent(self):
        self.nets["q"] = QTable(int(self.obs_space.n), self.n_actions)
        self.epsilon = self.cfg.epsilon_start

    @property
    def q(self) -> np.ndarray:
        return self.nets["q"].q.numpy()  # shares memory with the buffer

    def act(self, obs, greedy=True):
        q = self.q[np.asarray(obs, dtype=np.int64)]
        if greedy:
            return q.argmax(1)
        ties = q == q.max(1, keepdims=True)  # break ties at random while exploring
        best = np.where(ties, np.random.random(q.shape), -1.0).argmax(1)
        explore = np.random.random(len(q)) < self.epsilon
        return np.where(explore, np.random.randint(self.n_actions, size=len(q)), best)

    def train_step(self, batch, step):
        cfg = self.cfg
        self.epsilon = linear(cfg.epsilon_start, cfg.epsilon_end, step, int(cfg.epsilon_fraction * cfg.steps))
        alpha = linear(cfg.lr, cfg.lr_end, step, cfg.steps)
        s = self.observations(step).astype(np.int64)
        a = self.act(s, greedy=False)
        s, s2, r, term, _ = self.env_step(step, a)
        q = self.q
        td = r + cfg.gamma * ~term * q[s2].max(1) - q[s, a]
        q[s, a] += alpha * td
        return {"loss": float(np.mean(td**2)), "epsilon": self.epsilon, "lr": alpha, **self.episode_logs()}

    def _return_metrics(self, returns):
        return {"success_rate": float(np.mean(returns > 0))} if self.cfg.env.startswith("FrozenLake") else {}

    def extra_figures(self, store):
        from genlab.rl.envs import make_env
        from genlab.rl.plots import plot_q_table

        desc = getattr(make_env(self.cfg.env, **self.env_kwargs()).unwrapped, "desc", None)
        if desc is not None and desc.size != len(self.q):  # Taxi's map is not its state space
            desc = None
        return [plot_q_table(store.plots_dir / "q_table.png", self.q, desc, f"greedy policy, {self.cfg.env}")]
