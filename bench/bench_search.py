"""Benchmark of the image search engine: index 10,000 images, then query the index.

    python bench/bench_search.py [--model RUN] [--n 10000] [--workdir DIR]

Writes N distinct 28x28 PNG digits (embedded MNIST, each with a unique corner pixel so no two
files share a hash), times ``build_index`` cold and again with nothing changed, and times
text and image queries on the loaded index (median and 95th percentile of 100 queries).
Without ``--model`` a quick-preset CLIP is trained for a few steps: speed does not depend on
training. Targets: indexing <= 60 s, a query <= 50 ms (2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from genlab.data import embedded_mnist
from genlab.pipelines.search import SearchIndex, build_index, load_model, query
from genlab.train.engine import train
from genlab.utils.images import to_uint8
from genlab.utils.runtime import set_threads


def write_images(folder: Path, n: int) -> list[Path]:
    d = embedded_mnist()
    digits = to_uint8(np.concatenate([d.x_train.numpy(), d.x_test.numpy()]))
    paths = []
    for i in range(n):
        a = digits[i % len(digits)].copy()
        a[0, 0], a[0, 1] = i % 256, i // 256  # unique bytes per file
        p = folder / f"{i // 1000:02d}" / f"img{i:05d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(a).save(p)  # plain writes: the setup need not be atomic
        paths.append(p)
    return paths


def timed_queries(fn, n: int = 100) -> dict:
    ms = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        ms.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(float(np.median(ms)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="a CLIP run folder (default: train a quick-preset CLIP for a few steps)")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--workdir", help="where images, run and index go (default: a temporary folder)")
    a = p.parse_args(argv)
    threads = set_threads()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="bench-search-"))
    run = a.model
    if run is None:
        run = work / "clip-run"
        if not (run / "checkpoints").exists():
            train("clip", "quick", {"steps": 5, "progress": False, "tensorboard": False}, out=run)
    folder = work / "images"
    t = time.perf_counter()
    paths = write_images(folder, a.n) if not folder.exists() else sorted(folder.rglob("*.png"))
    write_s = time.perf_counter() - t
    index_path = work / "index.npz"
    index_path.unlink(missing_ok=True)
    t = time.perf_counter()
    _, stats = build_index(folder, run, index_path)
    cold_s = time.perf_counter() - t
    t = time.perf_counter()
    _, stats2 = build_index(folder, run, index_path)
    warm_s = time.perf_counter() - t
    recipe, _ = load_model(run)
    t = time.perf_counter()
    index = SearchIndex.load(index_path)
    load_ms = (time.perf_counter() - t) * 1000
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    text_q = timed_queries(lambda i: query(index, recipe, text=f"a bold {words[i % 10]} slanted right", k=5))
    image_q = timed_queries(lambda i: query(index, recipe, image=paths[i], k=5))
    result = {
        "images": stats["images"],
        "threads": threads,
        "write_images_s": round(write_s, 1),
        "index_cold_s": round(cold_s, 2),
        "index_unchanged_s": round(warm_s, 2),
        "reused_on_rerun": stats2["reused"],
        "images_per_s": round(stats["images"] / cold_s, 1),
        "index_file_mb": round(index_path.stat().st_size / 1e6, 2),
        "index_load_ms": round(load_ms, 1),
        "text_query": text_q,
        "image_query": image_q,
        "targets": {"index_s": 60, "query_ms": 50},
        "pass": cold_s <= 60 and text_q["median_ms"] <= 50 and image_q["median_ms"] <= 50,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
