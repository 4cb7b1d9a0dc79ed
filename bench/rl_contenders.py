"""DQN implementations raced by ``python -m bench rl --speed``, all at the same hyper-parameters.

- ``genlab``: genlab's ``dqn`` recipe (preallocated replay arrays, fused Adam called directly, Polyak by
  one foreach op, denormals flushed to zero as genlab's engine sets it), driven step by step as the
  engine drives it, without periodic evaluations;
- ``sb3``: Stable-Baselines3's ``DQN`` (a benchmark-only dependency: ``pip install -e .[bench]``);
- ``book``: the textbook's design as its code has it (chapter 5.5's ``DQNAgent``): a ``deque`` of
  transition tuples, ``random.sample`` per update, each minibatch tensor built from a Python list of
  per-transition values (``torch.FloatTensor([e[0] for e in batch])``), one network call per action
  and the target network's forward pass both with autograd on (the book calls them without
  ``torch.no_grad``), a Python loop over parameters for the target update. Only the design is the
  book's; the hyper-parameters are ``HP``;
- ``book-tidy``: the same agent with the two cheap fixes a reader would make first: the lists stacked
  by numpy before becoming tensors, and acting and the target under ``torch.no_grad``.

Each returns ``(env_steps, mean return of the last 20 training episodes)``; the caller times it.
Double DQN is off everywhere (SB3 has only the classic target).
"""

from __future__ import annotations

import random
from collections import deque

import numpy as np
import torch
import torch.nn.functional as F

ENV = "CartPole-v1"
#: the shared hyper-parameters (genlab config names)
HP = {
    "gamma": 0.98,
    "hidden": (128, 128),
    "lr": 1e-3,
    "lr_end": 1e-4,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1_000,
    "train_every": 1,
    "gradient_steps": 1,
    "double": False,
    "loss": "huber",
    "grad_clip": 10.0,
    "target_update": "polyak",
    "tau": 0.01,
    "epsilon_start": 1.0,
    "epsilon_end": 0.02,
    "epsilon_steps": 8_000,
}


def run_genlab(steps: int, seed: int) -> tuple[int, float]:
    from genlab.registry import get_recipe
    from genlab.train.engine import build_config
    from genlab.utils.runtime import seed_everything, set_threads

    set_threads(1)  # as genlab's engine runs it: 1 thread here, denormals flushed
    cls = get_recipe("dqn")
    cfg = build_config(cls, "quick", {**HP, "steps": steps, "seed": seed, "progress": False})
    seed_everything(seed)
    recipe = cls(cfg, "cpu")
    recipe.train_mode(True)
    for step in range(steps):
        recipe.train_step(None, step)
    return steps, float(np.mean(recipe.history["return"][-20:]))


def run_sb3(steps: int, seed: int) -> tuple[int, float]:
    import gymnasium as gym
    from stable_baselines3 import DQN

    torch.set_flush_denormal(False)  # each contender as shipped (genlab's engine flushes denormals)
    lr, lr_end = HP["lr"], HP["lr_end"]
    model = DQN(
        "MlpPolicy",
        gym.make(ENV),
        learning_rate=lambda remaining: lr_end + (lr - lr_end) * remaining,
        buffer_size=HP["buffer_size"],
        learning_starts=HP["learning_starts"],
        batch_size=HP["batch_size"],
        tau=HP["tau"],
        gamma=HP["gamma"],
        train_freq=HP["train_every"],
        gradient_steps=HP["gradient_steps"],
        target_update_interval=1,
        exploration_fraction=HP["epsilon_steps"] / steps,
        exploration_initial_eps=HP["epsilon_start"],
        exploration_final_eps=HP["epsilon_end"],
        max_grad_norm=HP["grad_clip"],
        policy_kwargs={"net_arch": list(HP["hidden"])},
        seed=seed,
        device="cpu",
    )
    model.learn(total_timesteps=steps)
    return steps, float(np.mean([ep["r"] for ep in list(model.ep_info_buffer)[-20:]]))


class BookAgent:
    """The textbook's DQNAgent (deque memory, random.sample, per-tuple lists) with ``HP``; ``tidy``: numpy
    stacking and no autograd where no gradient is needed."""

    def __init__(self, n_obs: int, n_actions: int, tidy: bool = False):
        from genlab.rl.nets import MLP

        self.n_actions, self.tidy = n_actions, tidy
        self.memory = deque(maxlen=HP["buffer_size"])
        self.q_network = MLP(n_obs, HP["hidden"], n_actions)
        self.target_network = MLP(n_obs, HP["hidden"], n_actions)
        self.target_network.load_state_dict(self.q_network.state_dict())
        self.optimizer = torch.optim.Adam(self.q_network.parameters(), lr=HP["lr"])
        self.epsilon = HP["epsilon_start"]

    def remember(self, state, action, reward, next_state, terminated):
        self.memory.append((state, action, reward, next_state, terminated))

    def act(self, state):
        if np.random.random() <= self.epsilon:
            return random.randrange(self.n_actions)
        with torch.set_grad_enabled(not self.tidy):
            q_values = self.q_network(torch.FloatTensor(state).unsqueeze(0))
        return int(np.argmax(q_values.cpu().data.numpy()))

    def replay(self, batch_size: int):
        batch = random.sample(self.memory, batch_size)
        stack = np.array if self.tidy else list  # the book: a list of arrays / numbers straight into a tensor
        states = torch.FloatTensor(stack([e[0] for e in batch]))
        actions = torch.LongTensor(stack([e[1] for e in batch]))
        rewards = torch.FloatTensor(stack([e[2] for e in batch]))
        next_states = torch.FloatTensor(stack([e[3] for e in batch]))
        terminated = torch.BoolTensor(stack([e[4] for e in batch]))
        current = self.q_network(states).gather(1, actions.unsqueeze(1)).squeeze(1)
        with torch.set_grad_enabled(not self.tidy):
            target = rewards + HP["gamma"] * self.target_network(next_states).max(1)[0].detach() * ~terminated
        loss = F.smooth_l1_loss(current, target)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.q_network.parameters(), HP["grad_clip"])
        self.optimizer.step()
        with torch.no_grad():
            for tp, p in zip(self.target_network.parameters(), self.q_network.parameters()):
                tp.data.copy_(HP["tau"] * p.data + (1 - HP["tau"]) * tp.data)


def run_book(steps: int, seed: int, tidy: bool = False) -> tuple[int, float]:
    import warnings

    import gymnasium as gym

    warnings.filterwarnings(
        "ignore", message="Creating a tensor from a list of numpy.ndarrays"
    )  # the book's way, knowingly

    torch.set_flush_denormal(False)
    random.seed(seed), np.random.seed(seed), torch.manual_seed(seed)
    env = gym.make(ENV)
    agent = BookAgent(env.observation_space.shape[0], env.action_space.n, tidy)
    state, _ = env.reset(seed=seed)
    scores, total = [], 0.0
    for t in range(steps):
        agent.epsilon = HP["epsilon_start"] + (HP["epsilon_end"] - HP["epsilon_start"]) * min(
            1.0, t / HP["epsilon_steps"]
        )
        for group in agent.optimizer.param_groups:
            group["lr"] = HP["lr"] + (HP["lr_end"] - HP["lr"]) * t / steps
        action = agent.act(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        agent.remember(state, action, reward, next_state, terminated)
        state, total = next_state, total + reward
        if terminated or truncated:
            scores.append(total)
            state, total = env.reset()[0], 0.0
        if len(agent.memory) >= HP["learning_starts"] and (t + 1) % HP["train_every"] == 0:
            agent.replay(HP["batch_size"])
    return steps, float(np.mean(scores[-20:]))


def run_book_tidy(steps: int, seed: int) -> tuple[int, float]:
    return run_book(steps, seed, tidy=True)


CONTENDERS = {"genlab": run_genlab, "sb3": run_sb3, "book": run_book, "book-tidy": run_book_tidy}
