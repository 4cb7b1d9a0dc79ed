"""Environments: creation with clear errors, a lock-step pool of copies, and greedy evaluation.

Evaluation episodes use seeds from ``EVAL_SEED_BASE`` upwards, far from the training seeds
(``cfg.seed`` and the environment's own continuation), so a policy is never scored on the
exact episodes it trained on. Periodic evaluations during training (which may pick the policy
that is kept) use their own seeds from ``VALID_SEED_BASE``: the final score is measured on
episodes that took no part in choosing the policy.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np

from genlab.errors import GenlabError

EVAL_SEED_BASE = 1_000_000_000
VALID_SEED_BASE = 2_000_000_000
EXAMPLES = "CartPole-v1, Acrobot-v1, MountainCar-v0, FrozenLake-v1, Taxi-v4"


def make_env(env_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    """``gym.make`` with one-line errors for unknown ids and missing extras."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return gym.make(env_id, render_mode=render_mode, **kwargs)
    except gym.error.DeprecatedEnv as e:
        raise GenlabError(f"environment '{env_id}' is out of date: {e}") from None
    except gym.error.Error as e:
        raise GenlabError(f"unknown gymnasium environment '{env_id}' ({e}); try one of: {EXAMPLES}") from None
    except (ImportError, TypeError) as e:
        raise GenlabError(f"cannot create environment '{env_id}': {str(e).splitlines()[0]}") from None


def check_spaces(env: gym.Env, env_id: str, model: str, obs: str) -> None:
    """Require a Discrete action space and a Box (``obs='box'``) or Discrete (``obs='discrete'``) observation."""
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise GenlabError(
            f"{model} needs a discrete action space, but {env_id} has {env.action_space}; choose e.g. CartPole-v1"
        )
    if obs == "box" and not (
        isinstance(env.observation_space, gym.spaces.Box) and len(env.observation_space.shape) == 1
    ):
        raise GenlabError(
            f"{model} needs a flat Box observation, but {env_id} has {env.observation_space}; use qlearning for discrete states"
        )
    if obs == "discrete" and not isinstance(env.observation_space, gym.spaces.Discrete):
        raise GenlabError(
            f"{model} needs a discrete (tabular) observation, but {env_id} has {env.observation_space}; use dqn for Box observations"
        )


class EnvPool:
    """``n`` copies of one environment stepped in lock-step.

    Like gymnasium's ``SyncVectorEnv`` with ``AutoresetMode.SAME_STEP``: a copy whose episode
    ends is reset at once; ``step`` returns the true last observation as ``next_obs`` (for
    bootstrapping) and the first observation of the new episode in ``obs``. Returns and
    lengths are the environment's own rewards (before any reward shaping).
    """

    def __init__(self, env_id: str, n: int, seed: int, **kwargs):
        self.envs = [make_env(env_id, **kwargs) for _ in range(n)]
        for i, e in enumerate(self.envs):
            e.action_space.seed(seed + i)
        self.obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(self.envs)])
        self.ret = np.zeros(n)
        self.len = np.zeros(n, dtype=np.int64)

    def step(self, actions):
        """Returns (next_obs, rewards, terminated, truncated, finished) with ``finished`` = [(return, length)]."""
        nxt, rew, term, trunc, finished = [], [], [], [], []
        for i, (e, a) in enumerate(zip(self.envs, actions)):
            o, r, te, tr, _ = e.step(int(a))
            self.ret[i] += r
            self.len[i] += 1
            nxt.append(o), rew.append(r), term.append(te), trunc.append(tr)
            if te or tr:
                finished.append((float(self.ret[i]), int(self.len[i])))
                self.ret[i], self.len[i] = 0.0, 0
                o = e.reset()[0]
            self.obs[i] = o
        return np.stack(nxt), np.asarray(rew, dtype=np.float32), np.asarray(term), np.asarray(trunc), finished

    def close(self):
        for e in self.envs:
            e.close()


def run_episodes(
    policy, env_id: str, episodes: int, parallel: int = 16, first_seed: int = EVAL_SEED_BASE, **kwargs
) -> np.ndarray:
    """Returns of ``episodes`` episodes of ``policy`` (batch of observations -> actions).

    Episode ``i`` starts from seed ``first_seed + i``; up to ``parallel`` episodes run side
    by side so the policy sees batches.
    """
    envs = [make_env(env_id, **kwargs) for _ in range(min(parallel, episodes))]
    seeds = iter(range(first_seed, first_seed + episodes))
    obs = [e.reset(seed=next(seeds))[0] for e in envs]
    live, ret, returns = list(range(len(envs))), np.zeros(len(envs)), []
    while live:
        actions = policy(np.stack([obs[i] for i in live]))
        for i, a in zip(list(live), actions):
            obs[i], r, te, tr, _ = envs[i].step(int(a))
            ret[i] += r
            if te or tr:
                returns.append(ret[i])
                ret[i] = 0.0
                seed = next(seeds, None)
                if seed is None:
                    live.remove(i)
                else:
                    obs[i] = envs[i].reset(seed=seed)[0]
    for e in envs:
        e.close()
    return np.asarray(returns)


def summarize(returns: np.ndarray, env_id: str) -> dict:
    """mean/std/min/max of episode returns and whether the env's ``reward_threshold`` is met."""
    threshold = gym.spec(env_id).reward_threshold
    mean = float(returns.mean())
    return {
        "env": env_id,
        "episodes": int(len(returns)),
        "mean_return": mean,
        "std_return": float(returns.std()),
        "min_return": float(returns.min()),
        "max_return": float(returns.max()),
        "reward_threshold": threshold,
        "solved": bool(threshold is not None and mean >= threshold),
    }
