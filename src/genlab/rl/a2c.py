"""Advantage actor-critic (A2C): the step beyond REINFORCE.

``n_envs`` environment copies run in lock-step; every ``n_steps`` engine steps the rollout of
n_envs x n_steps transitions gives advantages by GAE(lambda) (lambda = 1: n-step returns):

    delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t)
    A_t     = delta_t + gamma lambda (1 - done_t) A_{t+1}

where s'_t is the true next state, also after a time-limit truncation (which bootstraps).
One update: policy loss -mean(log pi A) - entropy bonus, plus vf_coef x value MSE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genlab.rl.base import RL_DEFAULTS, RLConfig
from genlab.rl.reinforce import PolicyRecipe


@dataclass
class A2CConfig(RLConfig):
    n_envs: int = 8
    n_steps: int = 5  # engine steps per rollout
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 7e-4
    gae_lambda: float = 1.0
    vf_coef: float = 0.5
    entropy_coef: float = 0.0
    grad_clip: float = 0.5
    normalize: bool = False  # normalise advantages per rollout


class A2CRecipe(PolicyRecipe):
    name = "a2c"
    Config = A2CConfig
    presets = {  # steps are engine steps: n_envs (8) environment steps each
        "quick": {**RL_DEFAULTS, "steps": 25_000, "eval_every": 1_000, "log_every": 100, "ckpt_every": 5_000},
        "full": {**RL_DEFAULTS, "steps": 62_500, "eval_every": 2_500, "log_every": 250, "ckpt_every": 10_000},
        "book": {**RL_DEFAULTS, "steps": 25_000, "eval_every": 1_000, "log_every": 100, "ckpt_every": 5_000},
    }

    def build_agent(self):
        self.build_policy(self.cfg.hidden, activation=nn.Tanh)
        params = list(self.nets["policy"].parameters()) + list(self.nets["value"].parameters())
        self.opts["ac"] = torch.optim.RMSprop(params, lr=self.cfg.lr, alpha=0.99, eps=1e-5)
        self.rollout: list[tuple] = []
        self.last = {"loss": 0.0, "value_loss": 0.0, "entropy": 0.0}

    def train_step(self, batch, step):
        obs = self.observations(step)
        actions = self.act(obs, greedy=False)
        self.rollout.append((*self.env_step(step, actions), actions))
        if len(self.rollout) == self.cfg.n_steps:
            self.update()
            self.rollout = []
        return {**self.last, **self.episode_logs()}

    def advantages(self, values, next_values, rewards, term, done):
        """GAE over the rollout (time-major tensors of shape (T, n_envs))."""
        cfg, adv, a = self.cfg, torch.zeros_like(rewards), 0.0
        for t in range(len(rewards) - 1, -1, -1):
            delta = rewards[t] + cfg.gamma * (1 - term[t]) * next_values[t] - values[t]
            a = delta + cfg.gamma * cfg.gae_lambda * (1 - done[t]) * a
            adv[t] = a
        return adv

    def update(self) -> None:
        cfg = self.cfg
        obs, next_obs, rewards, term, trunc, actions = (np.stack(x) for x in zip(*self.rollout))
        t = lambda x: torch.as_tensor(x, dtype=torch.float32, device=self.device)  # noqa: E731
        obs, next_obs, rewards, term, done = t(obs), t(next_obs), t(rewards), t(term), t(term | trunc)
        values = self.value(obs)
        with torch.no_grad():
            adv = self.advantages(values.detach(), self.value(next_obs), rewards, term, done)
        returns = adv + values.detach()
        if cfg.normalize:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        policy_loss, entropy = self.policy_loss(
            flat(obs), torch.as_tensor(actions, device=self.device).reshape(-1), flat(adv)
        )
        value_loss = F.mse_loss(values, returns)
        self.optimize("ac", policy_loss + cfg.vf_coef * value_loss, clip=cfg.grad_clip or None)
        self.last = {"loss": policy_loss.item(), "value_loss": value_loss.item(), "entropy": entropy.item()}
