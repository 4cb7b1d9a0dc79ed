"""Deep Q-Network (chapter 5.5) for any gymnasium env with a Box observation and Discrete actions.

Per engine step: one epsilon-greedy step of every environment copy into a preallocated replay
buffer, then the updates due. An update regresses Q(s, a) on

    r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q(s', a'))   (Double DQN)
    r + gamma * (1 - terminated) * max_a' Q_target(s', a')             (classic)

with a Huber (or MSE) loss and gradient clipping. Truncation by a time limit is not
termination: those transitions bootstrap. The target network follows by Polyak averaging or
hard copies. The replay buffer is not checkpointed: a resumed run refills it first. The run ends
with the best policy of the periodic validations (``keep_best``, see base.py).

On a net this small the cost of a step is the number of framework calls, not arithmetic. On
the CPU (``lean``) the networks' parameters live in flat buffers (genlab.rl.lean): acting, the
target and the update run as numpy kernels on views of them (``td_gradients``: the chain rule
through the ReLU MLP written out, no autograd graph), clipping, the fused Adam kernel and the
Polyak average are one call each on the whole network, the replay buffer hands out numpy
arrays, and an exploring step skips the network (``python -m bench rl --speed``). ``td_loss``
is the same loss through autograd, for the other cases (a GPU, another optimiser or
activation, bf16 autocast, DDP: its gradient averaging hooks into autograd).

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
from genlab.rl.lean import FlatAdam, FlatMLP
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
        self.params = {k: list(self.nets[k].parameters()) for k in ("q", "target")}
        self.lean = (
            self.device.type == "cpu"
            and FlatAdam.supports(self.opts["q"])
            and self.nets["q"].relu
            and not self.dist.enabled
        )
        if self.lean:  # the parameters move into flat buffers (the modules see no difference)
            self.flat = {k: FlatMLP(self.nets[k]) for k in ("q", "target")}
            self.adam = FlatAdam(self.opts["q"], self.flat["q"])
        self.buffer = ReplayBuffer(cfg.buffer_size, n_obs)
        self.n_updates, self.last = 0, {"loss": 0.0, "q_mean": 0.0}

    def epsilon(self, step: int) -> float:
        c = self.cfg
        if c.epsilon_schedule == "exp":
            return exponential(c.epsilon_start, c.epsilon_end, self.n_updates, c.epsilon_decay)
        return linear(c.epsilon_start, c.epsilon_end, step * c.n_envs, c.epsilon_steps)

    @torch.no_grad()
    def act(self, obs, greedy=True, epsilon: float = 0.0):
        if not greedy:
            explore = np.random.random(len(obs)) < epsilon
            random_actions = np.random.randint(self.n_actions, size=len(obs))
            if explore.all():  # no network call needed
                return random_actions
        if self.lean:
            actions = self.flat["q"].forward(obs)[-1].argmax(1)
        else:
            actions = (
                self.nets["q"](torch.as_tensor(obs, dtype=torch.float32, device=self.device)).argmax(1).cpu().numpy()
            )
        return actions if greedy else np.where(explore, random_actions, actions)

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

    def td_gradients(self, obs, actions, rewards, next_obs, terminated) -> tuple[float, float]:
        """``td_loss``'s loss and mean Q (floats) on numpy arrays, its gradients written into
        ``self.adam.grad`` by the chain rule (lean path, genlab.rl.lean): dloss/dq = clamp(q - y, -1, 1) / B
        for the Huber loss, 2 (q - y) / B for the MSE, at the actions taken and 0 elsewhere."""
        cfg, n, rows = self.cfg, len(actions), np.arange(len(actions))
        outs = self.flat["q"].forward(np.concatenate([obs, next_obs]) if cfg.double else obs)
        q = outs[-1][rows, actions]
        next_q = self.flat["target"].forward(next_obs)[-1]
        next_v = next_q[rows, outs[-1][n:].argmax(1)] if cfg.double else next_q.max(1)
        d = q - (rewards + cfg.gamma * (1.0 - terminated) * next_v)
        if cfg.loss == "huber":  # 0.5 d^2 where |d| < 1, else |d| - 0.5, i.e. c (|d| - c / 2) with c = min(|d|, 1)
            abs_d = np.abs(d)
            c = np.minimum(abs_d, 1.0)
            loss, dq = np.dot(c, abs_d - 0.5 * c), np.maximum(np.minimum(d, 1.0), -1.0) / n
        else:
            loss, dq = np.dot(d, d), d * (2.0 / n)
        grad_q = np.zeros((n, outs[-1].shape[1]), dtype=np.float32)
        grad_q[rows, actions] = dq
        self.flat["q"].backward([o[:n] for o in outs], grad_q, self.adam.grads)
        return float(loss) / n, float(np.add.reduce(q)) / n

    def update(self) -> None:
        cfg = self.cfg
        # the written-out gradients are float32 arithmetic: under amp=bf16 autocast, autograd's path instead
        if self.lean and not torch.is_autocast_enabled("cpu"):
            loss, q_mean = self.td_gradients(*self.buffer.sample_arrays(cfg.batch_size))
            self.adam.step(clip=cfg.grad_clip or None)
        else:
            loss, q_mean = self.td_loss(*self.buffer.sample(cfg.batch_size, self.device))
            self.optimize("q", loss, clip=cfg.grad_clip or None, params=self.params["q"])
            loss, q_mean = loss.item(), q_mean.item()
        self.n_updates += 1
        if cfg.target_update == "polyak":
            with torch.no_grad():
                if self.lean:
                    self.flat["target"].flat.lerp_(self.flat["q"].flat, cfg.tau)
                else:
                    torch._foreach_lerp_(self.params["target"], self.params["q"], cfg.tau)
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
        if self.lean:  # load_state_dict gave the optimiser new state tensors: back into the flat buffers
            self.adam.bind()
