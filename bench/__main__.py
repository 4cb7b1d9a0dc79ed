"""Run the benchmark suite: `python -m bench` (all) or `python -m bench core vae gan ...`.

Each bench/bench_NAME.py is a script with a `main(argv: list[str] | None = None)` function that
parses argv (the command line's options when None), prints a table and writes bench/results/NAME.json;
options given here go to every benchmark named. Run benchmarks with nothing else busy on the machine.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def available() -> list[str]:
    return sorted(p.stem[len("bench_") :] for p in Path(__file__).parent.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"bench: unknown benchmark {unknown[0]!r}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    from bench.common import machine_line

    print(machine_line(), flush=True)
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        t0 = time.time()
        mod = importlib.import_module(f"bench.bench_{name}")
        mod.main([a for a in argv if a.startswith("-")])
        print(f"(bench {name}: {time.time() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
