"""REINFORCE (policy gradient, chapter 5.5) with discounted returns and a learned value baseline.

Each finished episode gives returns G_t = r_t + gamma G_{t+1} (bootstrapped from the value
network when a time limit cut the episode). Every ``batch_episodes`` episodes the policy takes
one step on  -mean(log pi(a_t|s_t) * A_t)  with A_t = G_t - V(s_t) (or G_t without baseline),
normalised over the batch, and the value network regresses G_t. The book's version
(``book`` preset): returns normalised per episode, no baseline. Unlike the book's code, the
log-probabilities are recomputed from the stored states, so nothing has to be passed around.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genlab.rl.base import RL_DEFAULTS, RLConfig, RLRecipe
from genlab.rl.nets import MLP


@dataclass
class ReinforceConfig(RLConfig):
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 1e-3  # policy
    value_lr: float = 1e-3
    baseline: bool = True  # learned V(s) baseline
    normalize: bool = True  # normalise advantages (returns, without baseline) over the batch
    batch_episodes: int = 2  # episodes per update
    entropy_coef: float = 0.0
    grad_clip: float = 1.0  # 0: off


def discounted_returns(rewards: np.ndarray, gamma: float, bootstrap: float = 0.0) -> np.ndarray:
    """G_t = r_t + gamma G_{t+1}, with G_T = ``bootstrap`` (the value of the state after a truncation)."""
    out, g = np.zeros(len(rewards), dtype=np.float32), bootstrap
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


class PolicyRecipe(RLRecipe):
    """Shared by policy-gradient methods: nets['policy'] maps observations to action logits."""

    def build_policy(self, hidden, activation=nn.ReLU) -> None:
        n_obs = int(self.obs_space.shape[0])
        self.nets["policy"] = MLP(n_obs, hidden, self.n_actions, out_gain=0.01, activation=activation).to(self.device)
        self.nets["value"] = MLP(n_obs, hidden, 1, out_gain=1.0, activation=activation).to(self.device)

    def value(self, obs) -> torch.Tensor:
        return self.nets["value"](obs).squeeze(-1)

    @torch.no_grad()
    def act(self, obs, greedy=True):
        logits = self.nets["policy"](torch.as_tensor(obs, dtype=torch.float32, device=self.device))
        a = logits.argmax(1) if greedy else torch.distributions.Categorical(logits=logits).sample()
        return a.cpu().numpy()

    def policy_loss(self, obs, actions, advantages):
        """-mean(log pi(a|s) A) - entropy bonus; returns (loss, entropy)."""
        logp_all = F.log_softmax(self.nets["policy"](obs), dim=-1)
        logp = logp_all.gather(1, actions[:, None]).squeeze(1)
        entropy = -(logp_all.exp() * logp_all).sum(1).mean()
        return -(logp * advantages).mean() - self.cfg.entropy_coef * entropy, entropy


class ReinforceRecipe(PolicyRecipe):
    name = "reinforce"
    Config = ReinforceConfig
    presets = {
        "quick": {**RL_DEFAULTS, "steps": 200_000},
        "full": {**RL_DEFAULTS, "steps": 500_000},
        "book": {
            **RL_DEFAULTS,
            "steps": 200_000,
            "hidden": (128, 128),
            "baseline": False,
            "batch_episodes": 1,
            "grad_clip": 0.0,
        },
    }

    def build_agent(self):
        self.build_policy(self.cfg.hidden)
        self.opts["policy"] = torch.optim.Adam(self.nets["policy"].parameters(), lr=self.cfg.lr)
        if self.cfg.baseline:
            self.opts["value"] = torch.optim.Adam(self.nets["value"].parameters(), lr=self.cfg.value_lr)
        self.running = [[] for _ in range(self.cfg.n_envs)]  # (obs, action, reward) of each copy's current episode
        self.done_episodes: list[tuple] = []  # (obs, actions, returns) of finished episodes not yet learned from
        self.last = {"loss": 0.0, "value_loss": 0.0, "entropy": 0.0}

    def train_step(self, batch, step):
        obs = self.observations(step)
        actions = self.act(obs, greedy=False)
        obs, next_obs, rewards, term, trunc = self.env_step(step, actions)
        for i, traj in enumerate(self.running):
            traj.append((obs[i], actions[i], rewards[i]))
            if term[i] or trunc[i]:
                self.finish_episode(traj, next_obs[i], bool(term[i]))
                self.running[i] = []
        if len(self.done_episodes) >= self.cfg.batch_episodes:
            self.update()
        return {**self.last, **self.episode_logs()}

    def finish_episode(self, traj, last_obs, terminated: bool) -> None:
        o, a, r = map(np.asarray, zip(*traj))
        bootstrap = 0.0
        if not terminated and self.cfg.baseline:
            with torch.no_grad():
                bootstrap = float(self.value(torch.as_tensor(last_obs, dtype=torch.float32, device=self.device)[None]))
        g = discounted_returns(r, self.cfg.gamma, bootstrap)
        if self.cfg.normalize and not self.cfg.baseline:  # the book: normalise each episode's returns
            g = (g - g.mean()) / (g.std() + 1e-8)
        self.done_episodes.append((o, a, g))

    def update(self) -> None:
        cfg = self.cfg
        o, a, g = (torch.as_tensor(np.concatenate(x), device=self.device) for x in zip(*self.done_episodes))
        o = o.float()
        self.done_episodes = []
        adv = g
        if cfg.baseline:
            v = self.value(o)
            value_loss = F.mse_loss(v, g)
            self.optimize("value", value_loss, clip=cfg.grad_clip or None)
            adv = g - v.detach()
            self.last["value_loss"] = value_loss.item()
            if cfg.normalize:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        loss, entropy = self.policy_loss(o, a, adv)
        self.optimize("policy", loss, clip=cfg.grad_clip or None)
        self.last.update(loss=loss.item(), entropy=entropy.item())
