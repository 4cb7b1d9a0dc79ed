"""Few-shot benchmark on Omniglot.

0. How hard the runs are: Lake et al.'s nearest-neighbour baseline by modified Hausdorff
   distance (no learning; 38.8% error on the official runs) on the same 20 runs, and on 100
   runs drawn the same way (2,000 test items instead of 400: about +-1 point instead of +-2.4).
1. The default few-shot model (``protonet --preset full``), trained only on the shipped
   background sets minus the two held-out alphabets (the preset itself trains on all eight): training time, error on 20 one-shot runs
   in Lake et al.'s format built from the held-out alphabets (the official evaluation runs
   are not shipped), and held-out 5-way / 20-way 1-shot accuracy with 95% intervals.
2. MAML second order vs first order, and 3. ProtoNet vs the fine-tuning baseline: each pair
   trained with the same seed and steps and evaluated on the SAME held-out episodes.

    python -m bench fewshot                              # the acceptance run (the default model: ~10 min on 2 cores with bf16, ~25 without)
    python -m bench fewshot --default-steps=600 --compare-steps=150 --episodes=100   # shortened
    python -m bench fewshot --skip=mhd,maml,baseline --set=ensemble=4   # the default model with other settings

With ``--runs-dir DIR`` parts 0 and 1 are also scored on the official runs (DIR/run01..run20).
Results go to bench/results/fewshot.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import add_set_argument, pin_threads, save_result, table
from genlab.config import parse_set_args
from genlab.fewshot.base import EVAL_SEED, mean_ci95
from genlab.fewshot.benchmark import evaluate_omniglot_runs, mhd_runs_error, write_omniglot_runs
from genlab.fewshot.episodes import HOLDOUT_ALPHABETS, iter_episodes
from genlab.train.engine import load_run, train


def train_run(model: str, preset: str, overrides: dict, out: Path) -> tuple:
    t0, c0 = time.perf_counter(), time.process_time()
    store = train(model, preset, {"progress": False, **overrides}, out=out)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    recipe = load_run(store.path)[0]
    loop_s = [r["elapsed_s"] for r in store.read_metrics() if "elapsed_s" in r][-1]
    # train_loop_s: the optimisation steps alone; wall/cpu also hold data loading and the final evaluation
    return (
        recipe,
        store,
        {"train_loop_s": round(loop_s, 1), "train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1)},
    )


def same_episodes(recipes: dict, ways: int, shots: int, episodes: int) -> list[dict]:
    """Accuracy of each recipe on one fixed list of held-out episodes."""
    test = next(iter(recipes.values())).pools[1]
    eps = list(iter_episodes(test, ways, shots, 15, episodes, EVAL_SEED))
    rows = []
    for name, r in recipes.items():
        t0 = time.perf_counter()
        acc, ci = mean_ci95(r.episode_accuracy(eps))
        rows.append(
            {
                "model": name,
                "task": f"{ways}-way {shots}-shot",
                "accuracy": round(acc, 2),
                "ci95": round(ci, 2),
                "eval_s": round(time.perf_counter() - t0, 1),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench fewshot")
    p.add_argument("--default-steps", type=int, help="steps of the default model (default: the full preset's)")
    p.add_argument("--compare-steps", type=int, default=300, help="steps of each model in the comparisons")
    p.add_argument("--episodes", type=int, default=600, help="held-out episodes per evaluation")
    p.add_argument("--runs-dir", help="official one-shot runs (run01..run20), if you have them")
    p.add_argument("--skip", default="", help="comma list of parts to skip: mhd, default, maml, baseline")
    add_set_argument(p, "config override for the default model")
    a = p.parse_args(argv)
    threads = pin_threads()
    skip = set(a.skip.split(","))
    root = Path(tempfile.mkdtemp(prefix="bench-fewshot-"))
    fixture = write_omniglot_runs(root / "runs")
    fixture100 = write_omniglot_runs(
        root / "runs100", n_runs=100, seed=1
    )  # the same kind of runs, 5x the items: less noise
    result = {"settings": {**threads, **vars(a)}}

    if "mhd" not in skip:  # how hard the fixture is: this baseline gives 38.8% on the official runs
        row = {
            "model": "nearest neighbour, modified Hausdorff",
            "fixture_runs_error": round(mhd_runs_error(fixture)["mean_error"], 2),
            "fixture100_runs_error": round(mhd_runs_error(fixture100)["mean_error"], 2),
            "official_published": 38.8,
        }
        if a.runs_dir:
            row["official_runs_error"] = round(mhd_runs_error(a.runs_dir)["mean_error"], 2)
        result["mhd_baseline"] = row
        print(table([row]), flush=True)

    if "default" not in skip:
        # the full preset trains on every shipped alphabet; here two are held out to score it on
        over = {
            "eval_episodes": a.episodes,
            "holdout": HOLDOUT_ALPHABETS,
            "eval_every": 250,
            **({"steps": a.default_steps} if a.default_steps else {}),
            **parse_set_args(a.overrides),
        }
        recipe, store, times = train_run("protonet", "full", over, root / "protonet-full")
        ev = store.read_eval()
        runs = evaluate_omniglot_runs(recipe, fixture)
        row = {
            "model": "protonet (full preset, 2 alphabets held out)",
            "steps": recipe.cfg.steps,
            **times,
            "fixture_runs_error": round(runs["mean_error"], 2),
            "fixture100_runs_error": round(evaluate_omniglot_runs(recipe, fixture100)["mean_error"], 2),
            "acc_5way_1shot": round(ev["accuracy_5way_1shot"], 2),
            "ci95_5way": round(ev["ci95_5way_1shot"], 2),
            "acc_20way_1shot": round(ev["accuracy_20way_1shot"], 2),
            "ci95_20way": round(ev["ci95_20way_1shot"], 2),
        }
        if a.runs_dir:
            row["official_runs_error"] = round(evaluate_omniglot_runs(recipe, a.runs_dir)["mean_error"], 2)
        result["default_model"] = {**row, "per_run": runs["per_run"]}
        print(table([row]), flush=True)

    steps = {"steps": a.compare_steps, "eval_episodes": 10}
    if "maml" not in skip:
        recipes, rows = {}, []
        for order in ("second", "first"):
            r, _, times = train_run("maml", "quick", {**steps, "first_order": order == "first"}, root / f"maml-{order}")
            recipes[f"maml {order} order"] = r
            rows.append({"model": f"maml {order} order", **times})
        rows = [{**t, **e} for t, e in zip(rows, same_episodes(recipes, 5, 1, a.episodes))]
        result["maml_orders"] = rows
        print(table(rows), flush=True)

    if "baseline" not in skip:
        recipes, rows = {}, []
        for model in ("protonet", "finetune"):
            r, _, times = train_run(model, "quick", steps, root / model)
            recipes[model] = r
            rows.append(
                {
                    "model": model,
                    **times,
                    "fixture_runs_error": round(evaluate_omniglot_runs(r, fixture)["mean_error"], 2),
                }
            )
        for ways in (5, 20):
            result[f"protonet_vs_finetune_{ways}way"] = [
                {**t, **e} for t, e in zip(rows, same_episodes(recipes, ways, 1, a.episodes))
            ]
            print(table(result[f"protonet_vs_finetune_{ways}way"]), flush=True)

    path = save_result("fewshot", result)
    print(json.dumps({k: v for k, v in result.items() if k != "settings"}, default=float)[:2000])
    print(f"results in {path}")
