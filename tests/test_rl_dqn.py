"""DQN learns CartPole on a small budget; `genlab eval --episodes --json` and `genlab play` work;
bad input gives one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from genlab.cli import main

SMALL = ["--steps", "4000", "--seed", "0", "--set", "progress=false", "--set", "epsilon_steps=2000", "--set", "learning_starts=500",
         "--set", "eval_every=2000", "--set", "eval_episodes=5", "--set", "final_eval_episodes=20", "--set", "lr_end=1e-4"]


@pytest.fixture(scope="module")
def dqn_run(tmp_path_factory):
    from conftest import run_cli

    out = tmp_path_factory.mktemp("rl") / "dqn"
    p = run_cli("train", "dqn", "--env", "CartPole-v1", "--out", out, *SMALL)
    assert p.returncode == 0, p.stderr[-2000:]
    return out


@pytest.mark.slow
def test_dqn_learns_cartpole(dqn_run, cli):
    p = cli("eval", dqn_run, "--episodes", "30", "--json")
    assert p.returncode == 0, p.stderr
    ev = json.loads(p.stdout)
    assert {"mean_return", "std_return", "min_return", "episodes", "solved"} <= set(ev)
    assert ev["episodes"] == 30 and ev["solved"] in (True, False)
    assert ev["mean_return"] >= 80, ev  # a random policy averages ~22
    assert (dqn_run / "checkpoints" / "best.json").exists()
    rows = [json.loads(line) for line in (dqn_run / "metrics.jsonl").read_text().splitlines()]
    assert {"loss", "epsilon", "q_mean", "return_100"} <= set(rows[0])
    assert (dqn_run / "plots" / "rl.png").stat().st_size > 10_000


@pytest.mark.slow
def test_play_writes_gif(dqn_run, tmp_path, cli):
    gif = tmp_path / "cartpole.gif"
    p = cli("play", dqn_run, "--gif", gif, "--max-frames", "30", "--frame-ms", "50")
    assert p.returncode == 0, p.stderr
    assert "wrote 30 frames (600x400)" in p.stdout
    im = Image.open(gif)
    assert im.size == (600, 400)
    durations = []
    for i in range(im.n_frames):  # Pillow merges identical consecutive frames, adding their durations
        im.seek(i)
        durations.append(im.info["duration"])
    assert sum(durations) == 30 * 50 and 2 <= im.n_frames <= 30


@pytest.mark.parametrize("args, words", [
    (["train", "dqn", "--env", "NoSuchEnv-v0"], "unknown gymnasium environment"),
    (["train", "dqn", "--env", "Pendulum-v1"], "discrete action space"),
    (["train", "dqn", "--env", "FrozenLake-v1"], "Box observation"),
    (["train", "qlearning", "--env", "CartPole-v1"], "discrete (tabular) observation"),
    (["train", "dqn", "--set", "target_update=soft"], "target_update must be one of"),
])
def test_bad_input_is_one_line(args, words, tmp_path, capsys):
    assert main([*args, "--out", str(tmp_path / "run"), "--steps", "10", "--set", "progress=false"]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err


@pytest.mark.slow
def test_malformed_checkpoint_and_bad_gif(dqn_run, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(dqn_run, broken)
    for f in (broken / "checkpoints").glob("*.safetensors"):
        f.write_bytes(b"not a checkpoint")
    assert main(["eval", str(broken), "--episodes", "2"]) == 2
    assert main(["play", str(dqn_run), "--gif", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("genlab: error:") for line in err)


@pytest.mark.slow
def test_keep_best_puts_back_the_best_validated_policy(dqn_run):
    import torch

    from genlab.train.engine import load_run

    recipe, store, _ = load_run(dqn_run)
    final = json.loads((dqn_run / "eval.json").read_text())
    assert final["policy_step"] == recipe.best["step"] and recipe.best["score"] >= 80  # the kept policy is the validated best
    best_q = {k: v.clone() for k, v in recipe.best["nets"]["q"].items()}
    with torch.no_grad():  # spoil the policy: always push left, falls within ~10 steps
        for p in recipe.nets["q"].parameters():
            p.zero_()
        recipe.nets["q"][-1].bias.copy_(torch.tensor([1.0, 0.0]))
    recipe.finish_training(step=10**6)
    assert recipe.policy_step == recipe.best["step"] != 10**6
    for k, v in recipe.nets["q"].state_dict().items():
        assert torch.equal(v, best_q[k]), k


def test_lean_adam_step_matches_torch_adam():
    """The DQN's lean update is torch.optim.Adam(fused) + clip_grad_norm_, step for step."""
    import copy

    import torch
    import torch.nn.functional as F

    from genlab.rl.nets import MLP
    from genlab.train.optim import lean_adam_step, supports_lean_step

    torch.manual_seed(0)
    a = MLP(4, (32, 32), 2)
    b = copy.deepcopy(a)
    oa, ob = (torch.optim.Adam(m.parameters(), lr=1e-3, fused=True) for m in (a, b))
    assert supports_lean_step(ob) and not supports_lean_step(torch.optim.Adam(b.parameters(), foreach=True))
    pa, pb = list(a.parameters()), list(b.parameters())
    for i in range(30):
        x, y = torch.randn(16, 4) * 5, torch.randn(16, 2) * 10
        for opt in (oa, ob):
            opt.param_groups[0]["lr"] = 1e-3 * (1 - i / 60)
        oa.zero_grad()
        F.mse_loss(a(x), y).backward()
        torch.nn.utils.clip_grad_norm_(pa, 1.0)
        oa.step()
        lean_adam_step(ob, pb, torch.autograd.grad(F.mse_loss(b(x), y), pb), clip=1.0)
    assert max(float((p - q).detach().abs().max()) for p, q in zip(pa, pb)) < 1e-5
    assert float(ob.state[pb[0]]["step"]) == 30
    assert pa[0].grad is not None and pb[0].grad is None  # nothing left to zero


@pytest.mark.parametrize("double,loss", [(True, "huber"), (False, "mse")])
def test_written_out_gradients_equal_autograd(double, loss):
    """The DQN's update without autograd (td_gradients, MLP.relu_backward) gives autograd's loss and gradients."""
    import torch

    from genlab.registry import get_recipe
    from genlab.train.engine import build_config

    cls = get_recipe("dqn")
    recipe = cls(build_config(cls, "quick", {"double": double, "loss": loss, "batch_size": 48}), "cpu")
    assert recipe.lean
    g = torch.Generator().manual_seed(0)
    obs, next_obs = torch.randn(48, 4, generator=g) * 2, torch.randn(48, 4, generator=g) * 2
    batch = (obs, torch.randint(0, 2, (48,), generator=g), torch.rand(48, generator=g) * 5, next_obs, (torch.rand(48, generator=g) < 0.2).float())
    loss_a, q_a = recipe.td_loss(*batch)
    grads_a = torch.autograd.grad(loss_a, recipe.params["q"])
    loss_m, q_m, grads_m = recipe.td_gradients(*batch)
    assert torch.equal(loss_a, loss_m) and torch.equal(q_a, q_m)
    assert max(float((a - m).abs().max()) for a, m in zip(grads_a, grads_m)) < 1e-6
    with torch.no_grad():  # the lean path's Q values: the module's numbers, without its per-layer calls
        assert all(torch.equal(recipe.q_values(k, obs), recipe.nets[k](obs)) for k in ("q", "target"))
