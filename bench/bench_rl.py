"""Reinforcement-learning benchmark on CartPole-v1.

For each algorithm and seed: train the default (``quick``) preset, then report
  - steps_to_475: environment steps at the first periodic greedy validation (``eval_episodes``
    episodes on validation seeds) averaging >= 475 (None if never); best_eval / last_eval: the
    best and the last validation mean,
  - final_mean / final_min: greedy return over 100 evaluation episodes (seeds distinct from the
    validation ones) of the policy the run ends with and saves: the best validated one
    (``keep_best``), from policy_env_steps,
  - wall_s, cpu_s and environment steps per second (wall and CPU; training plus evaluations).

    python -m bench rl                                 # dqn, reinforce, a2c; seeds 0-4
    python -m bench rl --algos=dqn --seeds=0,1 --steps=30000 --set=eval_every=1000
    python -m bench rl --speed                         # DQN env steps/s: genlab vs SB3 vs the book's design

``--speed`` trains the DQN contenders of bench/rl_contenders.py at identical
hyper-parameters for ``--speed-steps`` environment steps each, in ``--rounds`` rounds with the
order rotated every round, so that other load on the machine falls on all of them alike, after
an untimed 200-step warm-up of each (imports and first calls are not the race); it
reports the median env steps per CPU second and per wall second, and genlab's ratios.

Runs single-threaded; results go to bench/results/rl.json. ``--steps`` counts engine steps
(for a2c one engine step is n_envs = 8 environment steps). Replay buffers are rebuilt per run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import add_set_argument, pin_threads, save_result, table
from genlab.config import parse_set_args
from genlab.train.engine import train
from genlab.train.runstore import RunStore

SOLVED = 475.0


def run_one(algo: str, seed: int, steps: int | None, root: Path, extra: dict | None = None) -> dict:
    overrides = {**(extra or {}), "seed": seed, "progress": False, "env": "CartPole-v1"}
    if steps:
        overrides["steps"] = steps
    t0, c0 = time.perf_counter(), time.process_time()
    store = train(algo, "quick", overrides, out=root / f"{algo}-{seed}")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = RunStore(store.path).read_metrics()
    evals = [r for r in rows if "eval_return" in r]
    first = next((r["env_steps"] for r in evals if r["eval_return"] >= SOLVED), None)
    final = store.read_eval()
    env_steps = evals[-1]["env_steps"] if evals else None
    n_envs = evals[-1]["env_steps"] // evals[-1]["step"] if evals else 1
    return {
        "algo": algo,
        "seed": seed,
        "env_steps": env_steps,
        "steps_to_475": first,
        "best_eval": max((r["eval_return"] for r in evals), default=None),
        "last_eval": evals[-1]["eval_return"] if evals else None,
        "policy_env_steps": final.get("policy_step", 0) * n_envs,
        "final_mean": final["mean_return"],
        "final_min": final["min_return"],
        "final_solved": final["solved"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "env_steps_per_s_wall": round(env_steps / wall) if env_steps else None,
        "env_steps_per_cpu_s": round(env_steps / cpu) if env_steps else None,
    }


def summary(results: list[dict]) -> dict:
    out = {}
    for algo in sorted({r["algo"] for r in results}):
        rs = [r for r in results if r["algo"] == algo]
        reached = [r["steps_to_475"] for r in rs if r["steps_to_475"] is not None]
        out[algo] = {
            "seeds": len(rs),
            "reached_475": len(reached),
            "final_solved": sum(r["final_solved"] for r in rs),
            "median_steps_to_475": statistics.median(reached) if len(reached) * 2 > len(rs) else None,
            "final_means": [r["final_mean"] for r in rs],
        }
    return out


def speed(steps: int, rounds: int, names: list[str]) -> dict:
    from bench.rl_contenders import CONTENDERS, HP

    for name in names:  # untimed warm-up: imports and first calls are not what the race measures
        CONTENDERS[name](200, seed=0)
    runs = []
    for rnd in range(rounds):
        for name in names[rnd % len(names) :] + names[: rnd % len(names)]:
            t0, c0 = time.perf_counter(), time.process_time()
            env_steps, ret = CONTENDERS[name](steps, seed=rnd)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            runs.append(
                {
                    "contender": name,
                    "round": rnd,
                    "env_steps": env_steps,
                    "cpu_s": round(cpu, 2),
                    "wall_s": round(wall, 2),
                    "steps_per_cpu_s": round(env_steps / cpu),
                    "steps_per_wall_s": round(env_steps / wall),
                    "return_last_20": ret,
                }
            )
            print(json.dumps(runs[-1]), flush=True)
    med = {
        n: {
            k: statistics.median(r[k] for r in runs if r["contender"] == n)
            for k in ("steps_per_cpu_s", "steps_per_wall_s", "return_last_20")
        }
        for n in names
    }
    ratios = {
        f"genlab/{n}": {k: round(med["genlab"][k] / med[n][k], 2) for k in ("steps_per_cpu_s", "steps_per_wall_s")}
        for n in names
        if n != "genlab" and "genlab" in names
    }
    print(table([{"contender": n, **m} for n, m in med.items()]))
    print(json.dumps(ratios, indent=2))
    return {"hyper_parameters": HP, "runs": runs, "median": med, "ratios": ratios}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench rl", description=__doc__.splitlines()[0])
    p.add_argument("--algos", default="dqn,reinforce,a2c")
    p.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    p.add_argument("--steps", type=int, help="engine steps (default: the preset's)")
    p.add_argument("--out", help="folder for the runs (default: a temporary one)")
    p.add_argument("--result", default="rl", help="name of the JSON file in bench/results")
    add_set_argument(p, "config override for every run")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (wall times then count for little)")
    p.add_argument("--speed", action="store_true", help="race genlab's DQN against SB3's and the book's design instead")
    p.add_argument("--speed-steps", dest="speed_steps", type=int, default=10_000, help="env steps per speed run")
    p.add_argument("--rounds", type=int, default=3, help="speed rounds")
    p.add_argument("--contenders", default="genlab,sb3,book,book-tidy")
    a = p.parse_args(argv)
    settings = pin_threads(1)
    if a.speed:
        result = speed(a.speed_steps, a.rounds, a.contenders.split(","))
        print(f"wrote {save_result('rl_speed', {'settings': settings, 'args': vars(a), **result})}")
        return
    root = Path(a.out or tempfile.mkdtemp(prefix="bench-rl-"))
    extra = parse_set_args(a.overrides)
    jobs = [(algo, int(seed), a.steps, root, extra) for algo in a.algos.split(",") for seed in a.seeds.split(",")]
    if (
        a.jobs > 1
    ):  # runs in parallel processes: CPU seconds and steps per CPU second stay comparable, wall times do not
        with ProcessPoolExecutor(
            a.jobs, mp_context=multiprocessing.get_context("spawn"), initializer=pin_threads, initargs=(1,)
        ) as pool:
            results = list(pool.map(run_one, *zip(*jobs)))
    else:
        results = [run_one(*job) for job in jobs]
    for r in results:
        print(json.dumps(r), flush=True)
    print(
        table(
            results,
            [
                "algo",
                "seed",
                "steps_to_475",
                "best_eval",
                "last_eval",
                "policy_env_steps",
                "final_mean",
                "final_min",
                "wall_s",
                "cpu_s",
                "env_steps_per_cpu_s",
            ],
        )
    )
    summ = summary(results)
    print(json.dumps(summ, indent=2))
    print(
        f"wrote {save_result(a.result, {'settings': settings, 'args': vars(a), 'results': results, 'summary': summ})}"
    )


if __name__ == "__main__":
    main()
