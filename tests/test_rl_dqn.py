"""DQN learns CartPole on a small budget; `genlab eval --episodes --json` and `genlab play` work;
bad input gives one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from genlab.cli import main

SMALL = [
    "--steps",
    "4000",
    "--seed",
    "0",
    "--set",
    "progress=false",
    "--set",
    "epsilon_steps=2000",
    "--set",
    "learning_starts=500",
    "--set",
    "eval_every=2000",
    "--set",
    "eval_episodes=5",
    "--set",
    "final_eval_episodes=20",
    "--set",
    "lr_end=1e-4",
]


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


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "dqn", "--env", "NoSuchEnv-v0"], "unknown gymnasium environment"),
        (["train", "dqn", "--env", "Pendulum-v1"], "discrete action space"),
        (["train", "dqn", "--env", "FrozenLake-v1"], "Box observation"),
        (["train", "qlearning", "--env", "CartPole-v1"], "discrete (tabular) observation"),
        (["train", "dqn", "--set", "target_update=soft"], "target_update must be one of"),
        (["train", "dqn", "--set", "learner=lean"], "learner must be one of"),
    ],
)
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
    assert (
        final["policy_step"] == recipe.best["step"] and recipe.best["score"] >= 80
    )  # the kept policy is the validated best
    best_q = {k: v.clone() for k, v in recipe.best["nets"]["q"].items()}
    with torch.no_grad():  # spoil the policy: always push left, falls within ~10 steps
        for p in recipe.nets["q"].parameters():
            p.zero_()
        recipe.nets["q"][-1].bias.copy_(torch.tensor([1.0, 0.0]))
    recipe.finish_training(step=10**6)
    assert recipe.policy_step == recipe.best["step"] != 10**6
    for k, v in recipe.nets["q"].state_dict().items():
        assert torch.equal(v, best_q[k]), k


def test_flat_adam_matches_torch_adam():
    """The numpy learner's step (FlatAdam: one fused call on flat buffers) is clip_grad_norm_ + torch.optim.Adam(fused),
    step for step."""
    import copy

    import torch
    import torch.nn.functional as F

    from genlab.rl.dqn_numpy import FlatAdam, FlatMLP
    from genlab.rl.nets import MLP

    torch.manual_seed(0)
    a = MLP(4, (32, 32), 2)
    b = copy.deepcopy(a)
    oa, ob = (torch.optim.Adam(m.parameters(), lr=1e-3, fused=True) for m in (a, b))
    assert FlatAdam.supports(ob) and not FlatAdam.supports(torch.optim.Adam(b.parameters(), foreach=True))
    pb = list(b.parameters())
    flat = FlatMLP(b)
    adam = FlatAdam(ob, flat)
    pa = list(a.parameters())
    assert all(p is q for p, q in zip(pb, b.parameters()))  # the same Parameter objects (the optimiser holds them) ...
    assert all(p.data_ptr() == flat.flat[s].data_ptr() for p, s in zip(pb, flat.slices))  # ... now views of the buffer
    for i in range(30):
        x, y = torch.randn(16, 4) * 5, torch.randn(16, 2) * 10
        for opt in (oa, ob):
            opt.param_groups[0]["lr"] = 1e-3 * (1 - i / 60)
        oa.zero_grad()
        F.mse_loss(a(x), y).backward()
        torch.nn.utils.clip_grad_norm_(pa, 1.0)
        oa.step()
        adam.grad.copy_(torch.cat([g.reshape(-1) for g in torch.autograd.grad(F.mse_loss(b(x), y), pb)]))
        adam.step(clip=1.0)
    assert max(float((p - q).detach().abs().max()) for p, q in zip(pa, pb)) < 1e-5
    assert [float(ob.state[p]["step"]) for p in pb] == [30.0] * len(pb)
    # the optimiser's state_dict round-trips through a fresh optimiser (as a checkpoint resume does)
    sd = copy.deepcopy(ob.state_dict())
    ob.load_state_dict(sd)
    adam.bind()
    assert all(
        torch.equal(ob.state[p]["exp_avg"], oa.state[q]["exp_avg"].view_as(p))
        or float((ob.state[p]["exp_avg"] - oa.state[q]["exp_avg"]).abs().max()) < 1e-6
        for p, q in zip(pb, pa)
    )
    assert ob.state[pb[0]]["exp_avg"].data_ptr() == adam.exp_avg.data_ptr()


@pytest.mark.parametrize("double,loss", [(True, "huber"), (False, "mse")])
def test_written_out_gradients_equal_autograd(double, loss):
    """The numpy learner's TD loss, mean Q and gradients (td_gradients) are autograd's (td_loss)."""
    import torch

    from genlab.registry import get_recipe
    from genlab.train.engine import build_config

    cls = get_recipe("dqn")
    recipe = cls(build_config(cls, "quick", {"double": double, "loss": loss, "batch_size": 48}), "cpu")
    assert recipe.fast is not None  # learner=auto on the CPU
    g = torch.Generator().manual_seed(0)
    obs, next_obs = torch.randn(48, 4, generator=g) * 2, torch.randn(48, 4, generator=g) * 2
    batch = (
        obs,
        torch.randint(0, 2, (48,), generator=g),
        torch.rand(48, generator=g) * 5,
        next_obs,
        (torch.rand(48, generator=g) < 0.2).float(),
    )
    loss_a, q_a = recipe.td_loss(*batch)
    grads_a = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss_a, list(recipe.nets["q"].parameters()))])
    loss_m, q_m = recipe.fast.td_gradients(*(t.numpy() for t in batch))
    loss_a, q_a = loss_a.item(), q_a.item()
    assert abs(loss_m - loss_a) < 1e-5 * max(1.0, abs(loss_a)) and abs(q_m - q_a) < 1e-5
    assert float((grads_a - recipe.fast.adam.grad).abs().max()) < 1e-5 * max(1.0, float(grads_a.abs().max()))
    with torch.no_grad():  # acting: the module's Q values through the numpy forward pass
        assert np.allclose(recipe.fast.q_values(obs.numpy()), recipe.q_values(obs.numpy()), atol=1e-5)


@pytest.mark.parametrize("double,loss,target", [(True, "huber", "polyak"), (False, "mse", "hard")])
def test_numpy_learner_trains_as_autograd(double, loss, target):
    """learner=numpy and learner=autograd, same seed, 400 env steps (337 updates): the same losses and
    the same parameters of both networks, to float rounding."""

    from genlab.registry import get_recipe
    from genlab.train.engine import build_config
    from genlab.utils.runtime import seed_everything

    cls = get_recipe("dqn")
    runs = {}
    for learner in ("autograd", "numpy"):
        over = {"learning_starts": 64, "steps": 400, "double": double, "loss": loss, "target_update": target}
        cfg = build_config(cls, "quick", {**over, "target_every": 100, "learner": learner})
        seed_everything(0)
        recipe = cls(cfg, "cpu")
        assert (recipe.fast is None) == (learner == "autograd")
        recipe.train_mode(True)
        losses = [recipe.train_step(None, step)["loss"] for step in range(400)]
        runs[learner] = recipe, np.array(losses)
    (a, loss_a), (b, loss_b) = runs["autograd"], runs["numpy"]
    assert a.n_updates == b.n_updates == 400 - 64 + 1
    assert np.allclose(loss_b, loss_a, rtol=1e-4, atol=1e-6), float(np.abs(loss_b - loss_a).max())
    for k in ("q", "target"):
        for (name, pa), pb in zip(a.nets[k].named_parameters(), b.nets[k].parameters()):
            err = float((pa - pb).detach().abs().max()) / max(1e-3, float(pa.detach().abs().max()))
            assert err < 1e-5, (k, name, err)
    opt_a, opt_b = (r.opts["q"].state_dict()["state"] for r in (a, b))
    assert all(float(opt_a[i]["step"]) == float(opt_b[i]["step"]) == a.n_updates for i in opt_a)


def test_numpy_learner_says_where_it_does_not_apply():
    import torch
    from torch import nn

    from genlab.rl.dqn_numpy import NumpyLearner
    from genlab.rl.nets import MLP

    relu, tanh = MLP(4, (8,), 2), MLP(4, (8,), 2, activation=nn.Tanh)
    fused = torch.optim.Adam(relu.parameters(), fused=True)
    cpu = torch.device("cpu")
    assert NumpyLearner.unsupported(relu, fused, cpu, distributed=False) == ""
    assert "ReLU" in NumpyLearner.unsupported(tanh, torch.optim.Adam(tanh.parameters(), fused=True), cpu, False)
    assert "fused Adam" in NumpyLearner.unsupported(relu, torch.optim.SGD(relu.parameters(), lr=0.1), cpu, False)
    assert "DDP" in NumpyLearner.unsupported(relu, fused, cpu, distributed=True)
    assert "CPU" in NumpyLearner.unsupported(relu, fused, torch.device("cuda"), False)


def test_numpy_learner_state_survives_a_checkpoint(tmp_path):
    """Parameters and Adam moments live in flat buffers: a checkpoint stores them, a fresh recipe loads them back
    into its own flat buffers, and the next update is the same in both."""
    import torch

    from genlab.registry import get_recipe
    from genlab.train.checkpoint import load_checkpoint, save_checkpoint
    from genlab.train.engine import build_config
    from genlab.utils.runtime import seed_everything

    cls = get_recipe("dqn")
    cfg = build_config(cls, "quick", {"learning_starts": 64, "steps": 1000})
    seed_everything(0)
    a = cls(cfg, "cpu")
    for step in range(150):
        a.train_step(None, step)
    save_checkpoint(tmp_path / "ckpt", a.state(), {})
    seed_everything(1)
    b = cls(cfg, "cpu")
    b.load_state(load_checkpoint(tmp_path / "ckpt")[0])
    p0 = next(b.nets["q"].parameters())
    assert b.fast is not None and b.opts["q"].state[p0]["exp_avg"].data_ptr() == b.fast.adam.exp_avg.data_ptr()
    assert float(b.fast.adam.steps[0]) == float(a.fast.adam.steps[0]) > 0
    for r in (a, b):
        r.buffer = a.buffer
        np.random.seed(5)
        r.update()
    assert torch.equal(a.fast.q.flat, b.fast.q.flat) and torch.equal(a.fast.target.flat, b.fast.target.flat)
    assert torch.equal(a.fast.adam.exp_avg_sq, b.fast.adam.exp_avg_sq)
