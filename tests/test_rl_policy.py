"""Policy-gradient family: A2C learns CartPole on a small budget; REINFORCE's returns are right."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.rl.reinforce import discounted_returns
from genlab.train.engine import load_run, train


def test_discounted_returns_bootstrap_after_truncation():
    g = discounted_returns(np.array([1.0, 1.0, 1.0]), gamma=0.5, bootstrap=8.0)
    np.testing.assert_allclose(g, [1 + 0.5 + 0.25 + 0.125 * 8, 1 + 0.5 + 0.25 * 8, 1 + 0.5 * 8])


@pytest.mark.slow
def test_a2c_learns_cartpole(tmp_path):
    # 2,000 engine steps x 8 environments = 16k environment steps
    store = train(
        "a2c", "quick", {"steps": 2000, "seed": 1, "progress": False, "final_eval_episodes": 20}, out=tmp_path / "a2c"
    )
    ev = store.read_eval()
    assert ev["episodes"] == 20 and ev["mean_return"] >= 150, ev  # random play: ~22
    recipe, _, _ = load_run(store.path)
    assert recipe.evaluate(episodes=5) == recipe.evaluate(episodes=5)  # greedy and seeded
    assert len(recipe.history["return"]) > 100  # the episode history comes back from the checkpoint
    assert any("entropy" in row for row in store.read_metrics())
