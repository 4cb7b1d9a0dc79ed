"""Experience replay in preallocated arrays (not a deque of tuples)."""

from __future__ import annotations

import numpy as np


class ReplayBuffer:
    """A circular buffer of transitions: when full, the oldest is overwritten (``deque(maxlen)``).

    ``terminated`` is stored, not ``done``: a time-limit truncation still bootstraps from the
    next observation. Sampling is uniform with replacement, from numpy's global RNG (seeded and
    checkpointed by the engine).
    """

    def __init__(self, capacity: int, obs_dim: int):
        self.capacity, self.pos, self.size = capacity, 0, 0
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, actions, rewards, next_obs, terminated) -> None:
        """Append a batch of transitions (one per environment copy)."""
        idx = (self.pos + np.arange(len(actions))) % self.capacity
        self.obs[idx], self.next_obs[idx] = obs, next_obs
        self.actions[idx], self.rewards[idx], self.terminated[idx] = actions, rewards, terminated
        self.pos = int(idx[-1] + 1) % self.capacity
        self.size = min(self.size + len(actions), self.capacity)

    def sample(self, batch_size: int) -> tuple[np.ndarray, ...]:
        """(obs, actions, rewards, next_obs, terminated) arrays for ``batch_size`` random transitions."""
        idx = np.random.randint(0, self.size, size=batch_size)
        return tuple(a[idx] for a in (self.obs, self.actions, self.rewards, self.next_obs, self.terminated))
