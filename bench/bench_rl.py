"""Reinforcement-learning benchmark on CartPole-v1 (issue 7).

For each algorithm and seed: train the default (``quick``) preset, then report
  - steps_to_475: environment steps at the first periodic greedy evaluation (10 episodes)
    averaging >= 475 (None if never),
  - final_mean / final_min: the *last* policy's greedy return over 100 evaluation episodes,
  - wall_s, cpu_s and environment steps per second (wall and CPU).

    python -m bench rl                                 # dqn, reinforce, a2c; seeds 0-4
    python -m bench rl --algos=dqn --seeds=0,1 --steps=30000

Runs single-threaded; results go to bench/results/rl.json. ``--steps`` counts engine steps
(for a2c one engine step is n_envs = 8 environment steps). Replay buffers are rebuilt per run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import pin_threads, save_result, table
from genlab.train.engine import train
from genlab.train.runstore import RunStore

SOLVED = 475.0


def run_one(algo: str, seed: int, steps: int | None, root: Path) -> dict:
    overrides = {"seed": seed, "progress": False, "env": "CartPole-v1"}
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
    return {"algo": algo, "seed": seed, "env_steps": env_steps, "steps_to_475": first,
            "final_mean": final["mean_return"], "final_min": final["min_return"], "final_solved": final["solved"],
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "env_steps_per_s_wall": round(env_steps / wall) if env_steps else None,
            "env_steps_per_cpu_s": round(env_steps / cpu) if env_steps else None}


def summary(results: list[dict]) -> dict:
    out = {}
    for algo in sorted({r["algo"] for r in results}):
        rs = [r for r in results if r["algo"] == algo]
        reached = [r["steps_to_475"] for r in rs if r["steps_to_475"] is not None]
        out[algo] = {"seeds": len(rs), "reached_475": len(reached), "final_solved": sum(r["final_solved"] for r in rs),
                     "median_steps_to_475": statistics.median(reached) if len(reached) * 2 > len(rs) else None,
                     "final_means": [r["final_mean"] for r in rs]}
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench rl", description=__doc__.splitlines()[0])
    p.add_argument("--algos", default="dqn,reinforce,a2c")
    p.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    p.add_argument("--steps", type=int, help="engine steps (default: the preset's)")
    p.add_argument("--out", help="folder for the runs (default: a temporary one)")
    a = p.parse_args(argv)
    settings = pin_threads(1)
    root = Path(a.out or tempfile.mkdtemp(prefix="bench-rl-"))
    results = []
    for algo in a.algos.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            results.append(run_one(algo, seed, a.steps, root))
            print(json.dumps(results[-1]), flush=True)
    print(table(results, ["algo", "seed", "steps_to_475", "final_mean", "final_min", "wall_s", "cpu_s", "env_steps_per_cpu_s"]))
    summ = summary(results)
    print(json.dumps(summ, indent=2))
    print(f"wrote {save_result('rl', {'settings': settings, 'args': vars(a), 'results': results, 'summary': summ})}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
