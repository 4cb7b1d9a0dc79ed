"""Tabular Q-learning learns slippery FrozenLake; its Q-table checkpoints; same seed, same table."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.train.engine import load_run, train

FAST = {"progress": False, "eval_every": 0, "log_every": 1000}


@pytest.fixture(scope="module")
def frozenlake_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rl") / "q"
    train("qlearning", "quick", {**FAST, "steps": 40_000, "final_eval_episodes": 200}, out=out)
    return out


@pytest.mark.slow
def test_greedy_policy_solves_slippery_frozenlake(frozenlake_run):
    recipe, store, _ = load_run(frozenlake_run)  # the Q-table comes back from the checkpoint
    ev = recipe.evaluate(episodes=1000)
    assert ev["episodes"] == 1000
    assert ev["success_rate"] >= 0.70, ev  # the optimal policy reaches ~0.74-0.82; random ~0.015
    assert ev["solved"] is True
    assert (store.plots_dir / "q_table.png").stat().st_size > 5_000
    assert (store.plots_dir / "rl.png").exists()
    episodes = (store.path / "episodes.csv").read_text().splitlines()
    assert episodes[0] == "episode,env_step,return,length" and len(episodes) > 500


def test_same_seed_same_table(tmp_path):
    tables = []
    for name in ("a", "b"):
        recipe, _, _ = load_run(
            train(
                "qlearning", "quick", {**FAST, "steps": 3000, "final_eval_episodes": 10, "seed": 3}, out=tmp_path / name
            ).path
        )
        tables.append(recipe.q.copy())
    assert np.abs(tables[0]).sum() > 0
    np.testing.assert_array_equal(tables[0], tables[1])


def test_taxi_learns_to_deliver(tmp_path):
    recipe, _, _ = load_run(
        train(
            "qlearning",
            "quick",
            {**FAST, "env": "Taxi-v4", "steps": 60_000, "lr": 0.5, "lr_end": 0.1, "final_eval_episodes": 20},
            out=tmp_path / "taxi",
        ).path
    )
    ev = recipe.evaluate(episodes=50)
    assert ev["mean_return"] > 0, ev  # random play scores about -770; a delivery scores 20 minus the steps taken
