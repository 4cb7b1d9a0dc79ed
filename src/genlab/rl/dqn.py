"""Deep Q-Network (chapter 5.5) for any gymnasium env with a Box observation and Discrete actions.

Per engine step: one epsilon-greedy step of every environment copy into a preallocated replay
buffer, then the updates due. An update regresses Q(s, a) on

    r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q(s', a'))   (Double DQN)
    r + gamma * (1 - terminated) * max_a' Q_target(s', a')             (classic)

with a Huber (or MSE) loss and gradient clipping. Truncation by a time limit is not
termination: those transitions bootstrap. The target network follows by Polyak averaging or
hard copies. The replay buffer is not checkpointed: a resumed run refills it first. The run ends
with the best policy of the periodic validations (``keep_best``, see base.py).

The learner here is the textbook one: ``td_loss`` through autograd, ``Recipe.optimize``, a
Polyak step. On a net this small the cost of an update is the number of framework calls, not
arithmetic, so on the CPU (``learner=auto``, the default) the same update runs written out in
numpy on flat buffers (genlab.rl.dqn_numpy.NumpyLearner: same interface, same numbers up to
float rounding, ``python -m bench rl --speed``); ``learner=autograd`` keeps this one everywhere.

The ``book`` preset is the textbook agent: MLP 128-128, buffer 10k, batch 32, MSE, one replay
(one minibatch update) per *episode*, epsilon *= 0.995 per replay, target copied every 100
episodes, reward -10 when the pole falls. It learns slowly: ~1000 updates in 1000 episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from genlab.errors import GenlabError
from genlab.rl.base import RL_DEFAULTS, RLConfig, RLRecipe
from genlab.rl.dqn_numpy import NumpyLearner
from genlab.rl.nets import MLP
from genlab.rl.replay import ReplayBuffer
from genlab.rl.schedules import exponential, linear


@dataclass
class DQNConfig(RLConfig):
    gamma: float = 0.98  # horizon ~50 steps: smaller, easier Q values on CartPole (as RL-Zoo)
    hidden: tuple[int, ...] = (128, 128)
    lr: float = 1e-3
    lr_end: float = 1e-4  # learning rate decays linearly to this over the run (a calmer final policy)
    batch_size: int = 64
    buffer_size: int = 100_000
    learning_starts: int = 1_000  # transitions in the buffer before the first update
    train_every: int = 1  # env steps between updates (replay_per=step)
    gradient_steps: int = 1  # updates each time
    replay_per: str = "step"  # step | episode (the book: one update per finished episode)
    double: bool = True
    loss: str = "huber"  # huber | mse
    grad_clip: float = 10.0  # 0: off
    target_update: str = "polyak"  # polyak | hard
    tau: float = 0.01  # polyak rate per update
    target_every: int = 1_000  # hard copy every N env steps ...
    target_every_episodes: int = 0  # ... or every N episodes (the book: 100)
    epsilon_schedule: str = "linear"  # linear (over epsilon_steps env steps) | exp (decay per update)
    epsilon_start: float = 1.0
    epsilon_end: float = 0.02
    epsilon_steps: int = 8_000
    epsilon_decay: float = 0.995
    fail_reward: float | None = None  # replaces the reward of terminating transitions (the book: -10)
    learner: str = "auto"  # autograd | numpy (the same update written out, CPU) | auto: numpy where it applies


BOOK = {
    "gamma": 0.99,
    "hidden": (128, 128),
    "lr": 1e-3,
    "lr_end": 1e-3,
    "batch_size": 32,
    "buffer_size": 10_000,
    "learning_starts": 33,
    "replay_per": "episode",
    "double": False,
    "loss": "mse",
    "grad_clip": 0.0,
    "target_update": "hard",
    "target_every_episodes": 100,
    "epsilon_schedule": "exp",
    "epsilon_end": 0.01,
    "epsilon_decay": 0.995,
    "fail_reward": -10.0,
}


class DQNRecipe(RLRecipe):
    name = "dqn"
    Config = DQNConfig
    presets = {
        # 100k steps with a validation (20 greedy episodes) every 1k, so that keep_best catches a
        # solved policy that later drifts (bench rl); the learning rate decays over the whole run
        "quick": {**RL_DEFAULTS, "steps": 100_000, "eval_every": 1_000, "eval_episodes": 20},
        "full": {**RL_DEFAULTS, "steps": 200_000, "eval_every": 1_000, "eval_episodes": 20},
        "book": {**RL_DEFAULTS, **BOOK, "steps": 200_000, "eval_every": 10_000},
    }

    def build_agent(self):
        cfg = self.cfg
        for key, allowed in (
            ("replay_per", ("step", "episode")),
            ("loss", ("huber", "mse")),
            ("target_update", ("polyak", "hard")),
            ("epsilon_schedule", ("linear", "exp")),
            ("learner", ("auto", "autograd", "numpy")),
        ):
            if getattr(cfg, key) not in allowed:
                raise GenlabError(f"{key} must be one of {', '.join(allowed)}, got '{getattr(cfg, key)}'")
        n_obs = int(self.obs_space.shape[0])
        self.nets["q"] = MLP(n_obs, cfg.hidden, self.n_actions).to(self.device)
        self.nets["target"] = MLP(n_obs, cfg.hidden, self.n_actions).to(self.device).requires_grad_(False)
        self.nets["target"].load_state_dict(self.nets["q"].state_dict())
        try:  # fused Adam: one kernel for all parameters (on a net this small, per-op overhead is the cost)
            self.opts["q"] = torch.optim.Adam(self.nets["q"].parameters(), lr=cfg.lr, fused=True)
        except RuntimeError:  # a device (or torch < 2.4 on CPU) without the fused kernel
            self.opts["q"] = torch.optim.Adam(self.nets["q"].parameters(), lr=cfg.lr, foreach=True)
        self.buffer = ReplayBuffer(cfg.buffer_size, n_obs)
        self.n_updates, self.last = 0, {"loss": 0.0, "q_mean": 0.0}
        self.fast = self.numpy_learner()

    def numpy_learner(self) -> NumpyLearner | None:
        """The speed path where ``learner`` asks for it and it applies (it moves the networks'
        parameters into flat buffers; modules, optimiser and checkpoints see no difference)."""
        if self.cfg.learner == "autograd":
            return None
        why_not = NumpyLearner.unsupported(self.nets["q"], self.opts["q"], self.device, self.dist.enabled)
        if why_not and self.cfg.learner == "numpy":
            raise GenlabError(f"learner=numpy does not apply here: {why_not}; use learner=auto or autograd")
        return None if why_not else NumpyLearner(self.nets["q"], self.nets["target"], self.opts["q"], self.cfg)

    def epsilon(self, step: int) -> float:
        c = self.cfg
        if c.epsilon_schedule == "exp":
            return exponential(c.epsilon_start, c.epsilon_end, self.n_updates, c.epsilon_decay)
        return linear(c.epsilon_start, c.epsilon_end, step * c.n_envs, c.epsilon_steps)

    def act(self, obs, greedy=True, epsilon: float = 0.0):
        if not greedy:
            explore = np.random.random(len(obs)) < epsilon
            random_actions = np.random.randint(self.n_actions, size=len(obs))
            if explore.all():  # no network call needed
                return random_actions
        actions = (self.fast or self).q_values(obs).argmax(1)
        return actions if greedy else np.where(explore, random_actions, actions)

    @torch.no_grad()
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q(s, .) of the online network, (N, actions)."""
        return self.nets["q"](torch.as_tensor(obs, dtype=torch.float32, device=self.device)).cpu().numpy()

    @torch.no_grad()
    def td_target(self, rewards, next_obs, terminated, online_next=None):
        """y = r + gamma (1 - terminated) V(s'); Double DQN picks the action by the online net's ``online_next``."""
        next_q = self.nets["target"](next_obs)
        if self.cfg.double:
            next_v = next_q.gather(1, online_next.argmax(1, keepdim=True)).squeeze(1)
        else:
            next_v = next_q.max(1).values
        return rewards + self.cfg.gamma * (1.0 - terminated) * next_v

    def td_loss(self, obs, actions, rewards, next_obs, terminated):
        """Loss of one minibatch and the mean Q estimate."""
        q_net = self.nets["q"]
        if self.cfg.double:  # one forward pass of the online net over s and s'
            q_all = q_net(torch.cat([obs, next_obs]))
            q_all, online_next = q_all[: len(obs)], q_all[len(obs) :].detach()
        else:
            q_all, online_next = q_net(obs), None
        q = q_all.gather(1, actions[:, None]).squeeze(1)
        y = self.td_target(rewards, next_obs, terminated, online_next)
        loss = F.smooth_l1_loss(q, y) if self.cfg.loss == "huber" else F.mse_loss(q, y)
        return loss, q.mean()

    def learn(self, obs, actions, rewards, next_obs, terminated) -> tuple[float, float]:
        """One update on a minibatch of numpy arrays: the TD loss's gradient step (clipped), then
        the Polyak average of the target; returns the loss and the mean Q before the step."""
        cfg = self.cfg
        batch = (torch.as_tensor(a, device=self.device) for a in (obs, actions, rewards, next_obs, terminated))
        loss, q_mean = self.td_loss(*batch)
        self.optimize("q", loss, clip=cfg.grad_clip or None)
        if cfg.target_update == "polyak":
            with torch.no_grad():
                for p_target, p in zip(self.nets["target"].parameters(), self.nets["q"].parameters()):
                    p_target.lerp_(p, cfg.tau)
        return loss.item(), q_mean.item()

    def update(self) -> None:
        batch = self.buffer.sample(self.cfg.batch_size)
        # the numpy learner's arithmetic is float32: under amp=bf16 autocast, autograd's path runs
        fast = self.fast is not None and not torch.is_autocast_enabled("cpu")
        loss, q_mean = (self.fast if fast else self).learn(*batch)
        self.n_updates += 1
        self.last = {"loss": loss, "q_mean": q_mean}

    def train_step(self, batch, step):
        cfg = self.cfg
        eps = self.epsilon(step)
        lr = linear(cfg.lr, cfg.lr_end, step, cfg.steps)
        for group in self.opts["q"].param_groups:
            group["lr"] = lr
        actions = self.act(self.observations(step), greedy=False, epsilon=eps)
        episodes_before = len(self.history["return"])
        obs, next_obs, rewards, term, _ = self.env_step(step, actions)
        if cfg.fail_reward is not None:
            rewards = np.where(term, cfg.fail_reward, rewards)
        self.buffer.add(obs, actions, rewards, next_obs, term)
        finished = range(episodes_before, len(self.history["return"]))  # indices of episodes that just ended
        if len(self.buffer) >= max(cfg.learning_starts, cfg.batch_size):
            if cfg.replay_per == "episode":
                n = len(finished)
            else:
                n = cfg.gradient_steps if (step + 1) % cfg.train_every == 0 else 0
            for _ in range(n):
                self.update()
        if cfg.target_update == "hard":
            env_step = (step + 1) * cfg.n_envs
            by_steps = not cfg.target_every_episodes and env_step % cfg.target_every < cfg.n_envs
            by_episodes = cfg.target_every_episodes and any(i % cfg.target_every_episodes == 0 for i in finished)
            if by_steps or by_episodes:
                self.nets["target"].load_state_dict(self.nets["q"].state_dict())
        return {**self.last, "epsilon": eps, "lr": lr, **self.episode_logs()}

    def extra_state(self):
        return {**super().extra_state(), "n_updates": self.n_updates}

    def load_extra_state(self, state):
        super().load_extra_state(state)
        self.n_updates = int(state.get("n_updates", 0))
        if self.fast is not None:
            self.fast.after_load()
