"""What every RL recipe shares: the environment pool, episode history, greedy evaluation,
periodic evaluation (best checkpoint), plots and rendering.

One engine step is one step of the environment pool (``n_envs`` environment steps) plus
whatever updates are due.

The policy a run ends with (``keep_best``, on by default): every periodic evaluation scores the
greedy policy on ``eval_episodes`` validation episodes (seeds of their own, see envs.py) and
remembers the networks of the best score so far (a tie goes to the later policy, trained
longer). After the last step the current policy is validated too, and if an earlier one scored
higher, its networks are put back. That policy is the one the final checkpoint holds, so
``genlab eval`` and ``genlab play`` use it, and the final evaluation reports it on other
episodes, with the step it comes from (``policy_step``). With ``eval_every=0`` or
``keep_best=false`` the last policy is kept. Replay buffers and the environments' own state are not
checkpointed: a resumed run starts fresh episodes and refills its buffer before learning.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from genlab.config import TrainConfig
from genlab.errors import GenlabError
from genlab.rl.envs import VALID_SEED_BASE, EnvPool, check_spaces, make_env, run_episodes, summarize
from genlab.train.recipe import Option, Recipe
from genlab.utils.cliargs import positive_int

#: engine settings every RL preset starts from (intervals count engine steps)
RL_DEFAULTS = {"log_every": 500, "ckpt_every": 10_000, "eval_every": 5_000, "tensorboard": False}


@dataclass
class RLConfig(TrainConfig):
    env: str = "CartPole-v1"  # gymnasium id
    gamma: float = 0.99
    n_envs: int = 1  # environment copies stepped together (one engine step = n_envs env steps)
    eval_episodes: int = 10  # greedy episodes per periodic evaluation
    final_eval_episodes: int = 100  # greedy episodes of evaluate() at the end of training
    keep_best: bool = True  # end with the best policy by periodic validation, not simply the last


class RLRecipe(Recipe):
    family = "rl"
    uses_dataset = False
    obs_kind = "box"  # "box" (neural networks) or "discrete" (tables)
    options = (
        Option("env", str, "gymnasium environment id", ("train",)),
        Option("episodes", positive_int, "greedy evaluation episodes", ("eval",)),
    )

    def build(self):
        if self.cfg.n_envs < 1:
            raise GenlabError(f"n_envs must be at least 1, got {self.cfg.n_envs}")
        env = make_env(self.cfg.env, **self.env_kwargs())
        check_spaces(env, self.cfg.env, self.name, self.obs_kind)
        self.obs_space, self.n_actions = env.observation_space, int(env.action_space.n)
        env.close()
        self.pool: EnvPool | None = None
        self.history = {"env_step": [], "return": [], "length": []}
        self._summarised, self._return_100 = 0, 0.0
        self.best = {"score": -math.inf, "step": -1, "validated_step": -1, "nets": None}
        self.policy_step: int | None = None  # step of the policy the networks hold, when known
        self.build_agent()

    # -- what an algorithm implements -----------------------------------------------------
    def build_agent(self) -> None:
        raise NotImplementedError

    def act(self, obs: np.ndarray, greedy: bool = True) -> np.ndarray:
        """Actions for a batch of observations (greedy = the deterministic evaluation policy)."""
        raise NotImplementedError

    def env_kwargs(self) -> dict:
        """Extra ``gym.make`` arguments (e.g. FrozenLake's map)."""
        return {}

    def extra_figures(self, store) -> list:
        return []

    # -- acting in the training environments --------------------------------------------
    def env_step(self, step: int, actions: np.ndarray):
        """Step the training pool; records finished episodes. Returns (obs, next_obs, rewards, terminated, truncated)."""
        obs = self.observations(step).copy()
        next_obs, rewards, term, trunc, finished = self.pool.step(actions)
        env_step = (step + 1) * self.cfg.n_envs
        for ret, length in finished:
            self.history["env_step"].append(env_step)
            self.history["return"].append(ret)
            self.history["length"].append(length)
        return obs, next_obs, rewards, term, trunc

    def observations(self, step: int) -> np.ndarray:
        """Current observations of the training pool (created on first use; a resume starts new episodes)."""
        if self.pool is None:
            self.pool = EnvPool(self.cfg.env, self.cfg.n_envs, self.cfg.seed * 100_003 + step, **self.env_kwargs())
        return self.pool.obs

    def episode_logs(self) -> dict:
        """Scalars logged every step: mean return of the last 100 training episodes and the episode count."""
        n = len(self.history["return"])
        if n != self._summarised:  # recompute only when an episode ended
            self._return_100, self._summarised = float(np.mean(self.history["return"][-100:])), n
        return {"return_100": self._return_100, "episodes": float(n)}

    # -- evaluation ---------------------------------------------------------------------
    def evaluate(self, data=None, episodes: int | None = None) -> dict:
        """The greedy policy over ``episodes`` final evaluation episodes (``final_eval_episodes`` by
        default; seeds distinct from training and from the periodic validation)."""
        return self._greedy_eval(episodes or self.cfg.final_eval_episodes)

    @torch.no_grad()
    def _greedy_eval(self, episodes: int, validation: bool = False) -> dict:
        """Mean, spread and more of the greedy policy's returns over ``episodes`` episodes
        (``validation``: the seeds of the periodic evaluations, distinct from the final ones)."""
        self.train_mode(False)
        seeds = {"first_seed": VALID_SEED_BASE} if validation else {}
        returns = run_episodes(lambda o: self.act(o, greedy=True), self.cfg.env, episodes, **seeds, **self.env_kwargs())
        extra = {} if self.policy_step is None else {"policy_step": self.policy_step}
        return {"model": self.name, **summarize(returns, self.cfg.env), **self._return_metrics(returns), **extra}

    def _return_metrics(self, returns: np.ndarray) -> dict:
        """Metrics of an algorithm or environment beyond the return summary (Q-learning: success rate)."""
        return {}

    def periodic_eval(self, step: int) -> dict:
        ev = self.validate(step)
        self.train_mode(True)
        return {
            "eval_return": ev["mean_return"],
            "eval_min": ev["min_return"],
            "score": ev["mean_return"],
            "env_steps": step * self.cfg.n_envs,
        }

    def validate(self, step: int) -> dict:
        """Score the current greedy policy on the validation episodes; remember it if it is the best so far."""
        ev = self._greedy_eval(self.cfg.eval_episodes, validation=True)
        self.best["validated_step"] = step
        if self.cfg.keep_best and ev["mean_return"] >= self.best["score"]:
            nets = {k: {n: t.detach().clone() for n, t in m.state_dict().items()} for k, m in self.nets.items()}
            self.best.update(score=ev["mean_return"], step=step, nets=nets)
        return ev

    def finish_training(self, step: int) -> None:
        """``keep_best``: validate the last policy too, then put back the best one's networks."""
        self.policy_step = step
        if not (self.cfg.keep_best and self.cfg.eval_every and self.best["nets"] is not None):
            return
        if self.best["validated_step"] != step:
            self.validate(step)
        if self.best["step"] != step:
            for k, m in self.nets.items():
                m.load_state_dict(self.best["nets"][k])
            self.policy_step = self.best["step"]
            print(
                f"genlab: keeping the policy of step {self.best['step']} (validation mean return {self.best['score']:g}), "
                f"the best of the periodic evaluations",
                file=sys.stderr,
            )

    # -- state, pictures, rendering ---------------------------------------------------
    def extra_state(self) -> dict:
        best = self.best if self.best["nets"] is not None else {}  # nothing validated yet (and no -inf in JSON)
        return {
            "history_env_step": torch.tensor(self.history["env_step"], dtype=torch.int64),
            "history_return": torch.tensor(self.history["return"], dtype=torch.float64),
            "history_length": torch.tensor(self.history["length"], dtype=torch.int64),
            "best": best,
            "policy_step": self.policy_step,
        }

    def load_extra_state(self, state: dict) -> None:
        for key in self.history:
            if f"history_{key}" in state:
                self.history[key] = state[f"history_{key}"].tolist()
        self.best.update(state.get("best", {}))
        self.policy_step = state.get("policy_step")

    def figures(self, store) -> list:
        from genlab.rl.plots import plot_training, write_episodes_csv

        paths = [write_episodes_csv(store.path / "episodes.csv", self.history)]
        threshold = gym.spec(self.cfg.env).reward_threshold
        paths.append(
            plot_training(
                store.plots_dir / "rl.png",
                self.history,
                store.read_metrics(),
                threshold,
                f"{self.name} on {self.cfg.env}",
            )
        )
        return paths + self.extra_figures(store)

    @torch.no_grad()
    def play_frames(self, episodes: int = 1, seed: int = 0, max_frames: int = 500) -> tuple[list, list]:
        """RGB frames of greedy episodes (seeded ``seed``, ``seed + 1``, ...), at most ``max_frames``; and their returns."""
        self.train_mode(False)
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame renders off-screen, no display needed
        env = make_env(self.cfg.env, render_mode="rgb_array", **self.env_kwargs())
        frames, returns = [], []
        for ep in range(episodes):
            obs, _ = env.reset(seed=seed + ep)
            frames.append(env.render())
            total, done = 0.0, False
            while not done and len(frames) < max_frames:
                obs, r, term, trunc, _ = env.step(int(self.act(np.asarray(obs)[None], greedy=True)[0]))
                frames.append(env.render())
                total, done = total + r, term or trunc
            returns.append(total)
            if len(frames) >= max_frames:
                break
        env.close()
        return frames, returns
