"""Few-shot models learn on held-out Omniglot alphabets (small budgets), through the real CLI."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from genlab.fewshot.benchmark import read_run, write_omniglot_runs
from genlab.registry import get_recipe
from genlab.train.engine import build_config, train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    return write_omniglot_runs(tmp_path_factory.mktemp("omniglot-runs"))


@pytest.fixture(scope="module")
def protonet_run(tmp_path_factory):
    from conftest import run_cli

    out = tmp_path_factory.mktemp("fs") / "protonet"
    r = run_cli(
        "train", "protonet", "--steps", 120, "--out", out, "--set", "eval_episodes=20", "--set", "progress=false"
    )
    assert r.returncode == 0, r.stderr
    return out


def test_protonet_learns_held_out_alphabets(protonet_run, cli):
    r = cli("eval", protonet_run, "--ways", 5, "--shots", 1, "--episodes", 100, "--json")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["accuracy"] >= 70.0 and 0 < m["ci95"] < 5 and m["episodes"] == 100
    ev = json.loads((protonet_run / "eval.json").read_text())
    assert ev["accuracy_5way_1shot"] > ev["accuracy_20way_1shot"] > 35.0


def test_protonet_on_the_one_shot_runs_format(protonet_run, runs_dir, cli):
    r = cli("eval", protonet_run, "--omniglot-runs", runs_dir, "--json")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert sorted(m["per_run"]) == [f"run{i:02d}" for i in range(1, 21)]
    assert m["mean_error"] < 60.0  # chance is 95% error
    # eval.json holds the error on the same runs, built inside the recipe from the held-out alphabets
    assert json.loads((protonet_run / "eval.json").read_text())["runs_error"] == m["mean_error"]


def test_fewshot_command_on_user_images(protonet_run, runs_dir, tmp_path, cli):
    training, pairs = read_run(runs_dir, "run01")
    support = tmp_path / "support"
    for i, p in enumerate(training):
        (support / f"char{i:02d}").mkdir(parents=True)
        shutil.copy(p, support / f"char{i:02d}" / "a.png")
    r = cli("fewshot", protonet_run, "--support", support, "--query", *[t for t, _ in pairs], "--json")
    assert r.returncode == 0, r.stderr
    preds = json.loads(r.stdout)["predictions"]
    correct = sum(p["label"] == f"char{c:02d}" for p, (_, c) in zip(preds, pairs))
    assert correct >= 5  # of 20 similar characters of one alphabet; chance is 1
    assert abs(sum(preds[0]["probs"].values()) - 1) < 1e-4
    # bad input (an empty class; the other cases are in test_fewshot_units): one line, exit code 2
    shutil.rmtree(support / "char01")
    (support / "char01").mkdir()
    bad = cli("fewshot", protonet_run, "--support", support, "--query", pairs[0][0])
    assert bad.returncode == 2 and bad.stderr.startswith("genlab: error:") and "empty" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def _train_in_process(model, steps, **over):
    cls = get_recipe(model)
    cfg = build_config(cls, "quick", {"steps": steps, "progress": False, **over})
    torch.manual_seed(cfg.seed)
    recipe = cls(cfg)
    recipe.train_mode(True)
    for s in range(steps):
        recipe.train_step(None, s)
    return recipe


def test_maml_learns_held_out_alphabets():
    recipe = _train_in_process("maml", 80, meta_batch=2, inner_steps=1)  # second order (the default)
    assert recipe.evaluate(ways=5, shots=1, episodes=60)["accuracy"] >= 60.0  # chance is 20%


def test_finetune_baseline_learns_held_out_alphabets():
    recipe = _train_in_process("finetune", 150, batch_size=64)
    assert recipe.evaluate(ways=5, shots=1, episodes=60)["accuracy"] >= 55.0  # chance is 20%


def test_protonet_learns_under_bf16_autocast(tmp_path):
    """amp=bf16 (the full preset's amp=auto on a CPU with bf16): mixed precision that still learns,
    with the same numbers from the same seed, and not the float32 numbers (autocast really applies)."""
    from genlab.train.engine import load_run

    over = {"steps": 60, "progress": False, "eval_episodes": 2, "tensorboard": False}
    runs = {
        name: train("protonet", "quick", {**over, "amp": amp}, out=tmp_path / name)
        for name, amp in (("bf16", "bf16"), ("bf16-again", "bf16"), ("fp32", "off"))
    }
    weights = {name: load_run(store.path)[0].nets["encoder"].state_dict() for name, store in runs.items()}
    assert all(torch.equal(weights["bf16"][k], weights["bf16-again"][k]) for k in weights["bf16"])
    assert not all(torch.equal(weights["bf16"][k], weights["fp32"][k]) for k in weights["bf16"])
    recipe = load_run(runs["bf16"].path)[0]
    assert all(p.dtype == torch.float32 for p in recipe.nets["encoder"].parameters())
    assert recipe.evaluate(ways=5, shots=1, episodes=60)["accuracy"] >= 65.0  # chance is 20%


def test_resume_is_exact(tmp_path):
    a = train(
        "protonet", "quick", {"steps": 4, "progress": False, "ckpt_every": 2, "eval_episodes": 2}, out=tmp_path / "a"
    )
    b = train(
        "protonet", "quick", {"steps": 2, "progress": False, "ckpt_every": 2, "eval_episodes": 2}, out=tmp_path / "b"
    )
    b = train("protonet", "quick", {"steps": 4, "progress": False, "eval_episodes": 2}, out=tmp_path / "b", resume=True)
    from genlab.train.engine import load_run

    wa = load_run(a.path)[0].nets["encoder"].state_dict()
    wb = load_run(b.path)[0].nets["encoder"].state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
