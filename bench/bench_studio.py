"""The studio under load: `genlab studio` runs as a real server process (on 127.0.0.1, a free port)
and N concurrent browser-less users, each a websocket client speaking Streamlit's own protocol
(genlab/app/studio_client.py), generate images on the Text to image page several times: set the prompt
and seed, press Generate, wait for the run to finish and fetch the picture. Reports, per row:
requests answered with images, errors (a message or exception in the page), requests lost (no
answer, dropped connection), latency p50/p95/max (seconds from the click to the decoded picture),
the server's CPU seconds per request, and the server's memory (RSS at start, after the model was
loaded, after each row, and its peak), which must stay bounded: the model is loaded once per
process and shared by every session.

    python -m bench studio [--sessions=10,20] [--requests=3] [--n=16] [--runs=DIR]
    python -m bench studio --screenshots [--runs=DIR]    # docs/screenshots/*.png, one per page
    python -m bench studio --bootstrap[=MODELS|all]       # a fresh machine's first start

``--bootstrap`` starts `genlab studio` (background training on) on an empty runs folder with an empty
cache and reports how long until Text to image gives its first images, and each background
training's CPU and wall seconds. Run it on a quiet machine without GENLAB_THREADS set, as a user would.

``--screenshots`` starts `genlab studio --no-train` on the runs folder, drives every page in headless
Chromium (/usr/bin/chromium, via the playwright package) and saves what it shows.

Uses the newest finished text2image run under --runs (default ./runs or $GENLAB_RUNS); without one
it trains a tiny one first (its images are poor; the timings still show the serving overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.common import pin_threads, save_result, table
from genlab.app.launch import launch_chromium, running_studio

PROMPTS = [
    "a bold seven slanted right",
    "a thin 4",
    "the digit eight",
    "a small zero",
    "a handwritten two slanted left",
]


def streamlit_pid(proc) -> int:
    """The Streamlit server process that `genlab studio` (``proc``) started."""
    for _ in range(100):
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("genlab studio started no Streamlit process")


def server_stats(pid: int) -> dict:
    """The server's resident memory now and at its peak (VmRSS / VmHWM) and CPU seconds so far."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = int(value.split()[0]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return out


async def user(
    url: str, i: int, requests: int, n: int, timeout: float, latencies: list, errors: list, lost: list
) -> None:
    """One browser-less user: open the studio, then generate ``requests`` times with different prompts and seeds."""
    from genlab.app.studio_client import StudioSession, generate

    try:
        session = await StudioSession.open(url, timeout)
    except Exception as e:  # noqa: BLE001 - count it, keep the other users going
        lost.extend(f"user {i} request {r}: no connection ({type(e).__name__}: {e})" for r in range(requests))
        return
    try:
        for r in range(requests):
            try:
                seconds, problem = await generate(
                    session, PROMPTS[(i + r) % len(PROMPTS)], seed=i * 100 + r, n=n, timeout=timeout
                )
            except Exception as e:  # noqa: BLE001 - a timeout or a dropped connection: the request got no answer
                lost.append(f"user {i} request {r}: {type(e).__name__}: {e}")
                continue
            (errors.append(f"user {i} request {r}: {problem}") if problem else latencies.append(seconds))
    finally:
        await session.close()


def run_load(url: str, pid: int, users: int, requests: int, n: int, timeout: float = 600) -> dict:
    latencies, errors, lost = [], [], []
    cpu0, t0 = server_stats(pid)["cpu_s"], time.perf_counter()

    async def everyone():
        await asyncio.gather(*(user(url, i, requests, n, timeout, latencies, errors, lost) for i in range(users)))

    asyncio.run(everyone())
    wall = time.perf_counter() - t0
    after = server_stats(pid)
    lat = sorted(latencies)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa: E731
    return {
        "sessions": users,
        "requests": users * requests,
        "answered": len(lat),
        "errors": len(errors),
        "lost": len(lost),
        "p50_s": pct(0.5),
        "p95_s": pct(0.95),
        "max_s": lat[-1] if lat else float("nan"),
        "server_cpu_s_per_request": (after["cpu_s"] - cpu0) / max(1, users * requests),
        "images_per_s": len(lat) * n / wall,
        "wall_s": wall,
        "rss_mb": after["rss_mb"],
        "peak_rss_mb": after["peak_rss_mb"],
        "problems": (errors + lost)[:5],
    }


def tiny_text2image(root: Path) -> Path:
    from genlab.train.engine import train

    out = root / "tiny-text2image"
    train(
        "text2image",
        "quick",
        {
            "steps": 40,
            "batch_size": 32,
            "progress": "false",
            "tensorboard": "false",
            "eval_per_prompt": 1,
            "sample_steps": 2,
        },
        out=out,
    )
    return out


#: page -> (button to press or None, text to wait for)
SCREENSHOTS = {
    "text_to_image": ("Generate", "images for"),
    "search": ("Search", "Top 8"),
    "zero_shot": ("Classify", "Prediction"),
    "latent": (None, "decoded at t"),
    "generators": ("Generate", " ms"),
    "diffusion": ("Denoise from pure noise", "after step"),
    "rl": ("Play an episode", "return "),
    "fewshot": ("New episode", "Correct answers"),
    "runs": (None, "config.yaml"),
}
#: true once every picture has loaded and Streamlit shows no loading placeholder
READY = (
    "() => [...document.images].every(i => i.complete && i.naturalWidth > 0) && "
    "!document.querySelector('[data-testid=stSkeleton]')"
)


def screenshots(runs: Path, out: Path, pages=tuple(SCREENSHOTS)) -> list[Path]:
    """One full-page screenshot per page, after pressing its main button."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with running_studio(runs, "--no-train", timeout_s=90) as studio:
        url = studio.url
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            browser = launch_chromium(p, profile, 1400, 1800)
            page = browser.new_page()
            for name in pages:
                button, wait_text = SCREENSHOTS[name]
                page.goto(
                    f"{url}/{'' if name == 'text_to_image' else name}", timeout=120_000
                )  # the first page is the home page
                page.get_by_role("heading").first.wait_for(timeout=120_000)
                done = page.get_by_text(wait_text)  # the page's result, or its note on a missing model
                for note in ("genlab train", "fills in when", "waiting for background"):
                    done = done.or_(page.get_by_text(note))
                for _attempt in range(3):  # a click during the page's first run can be lost: press again
                    page.wait_for_timeout(3000)
                    if button is not None and page.get_by_role("button", name=button).count():
                        page.get_by_role("button", name=button).first.click()
                    try:
                        done.first.wait_for(timeout=120_000)
                        break
                    except Exception:  # noqa: BLE001 - playwright's TimeoutError
                        print(f"{name}: no result yet, pressing {button!r} again")
                page.wait_for_function(READY, timeout=120_000)  # pictures loaded, no placeholders left
                page.wait_for_timeout(1000)
                saved.append(out / f"{name}.png")
                page.screenshot(path=str(saved[-1]), full_page=True)
                print(f"saved {saved[-1]}")
            browser.close()
    return saved


def bootstrap(until: set[str], poll_s: float = 10.0) -> dict:
    """A fresh machine's first start: `genlab studio` on an empty runs folder and an empty cache, a
    websocket user trying Text to image every ``poll_s`` seconds. Returns the seconds until its first
    images and what each background training cost (CPU and wall seconds, from the trainer)."""
    import json

    from genlab.app.studio_client import StudioSession, generate

    with tempfile.TemporaryDirectory() as tmp:
        runs, env = Path(tmp) / "runs", {**os.environ, "GENLAB_CACHE": str(Path(tmp) / "cache")}
        runs.mkdir()
        t0 = time.perf_counter()
        state = runs / ".studio" / "trainer.json"

        async def first_images(url: str) -> float:
            session = await StudioSession.open(url)
            try:
                while "t2i-generate" not in (await session.run({})).widgets:
                    await asyncio.sleep(poll_s)
                _, problem = await generate(session, PROMPTS[0])
                if problem:
                    raise RuntimeError(f"the first generation failed: {problem}")
                return time.perf_counter() - t0
            finally:
                await session.close()

        with running_studio(runs, env=env, timeout_s=90) as studio:
            useful_s = asyncio.run(first_images(studio.url))
            print(f"first images on Text to image after {useful_s:.0f} s", flush=True)
            while not until <= set(json.loads(state.read_text()).get("done", [])) and studio.process.poll() is None:
                time.sleep(poll_s)
            status = json.loads(state.read_text())
    return {
        "first_images_s": useful_s,
        "done": status.get("done", []),
        "failed": status.get("failed", {}),
        "cost": status.get("cost", {}),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench studio")
    p.add_argument("--sessions", default="10", help="concurrent users, e.g. 10 or 10,20 (a 1-user row is always added)")
    p.add_argument("--requests", type=int, default=3, help="generations per user")
    p.add_argument("--n", type=int, default=16, help="images per generation")
    p.add_argument("--timeout", type=float, default=600, help="seconds a request may wait before it counts as lost")
    p.add_argument("--runs", help="runs folder with a finished text2image run")
    p.add_argument(
        "--screenshots", action="store_true", help="save one screenshot per page in docs/screenshots/ instead"
    )
    p.add_argument(
        "--bootstrap",
        nargs="?",
        const="text2image",
        metavar="MODELS",
        help="instead: a fresh machine's first start; wait until these background trainings are done "
        "(comma-separated, default text2image; 'all' for every studio model)",
    )
    a = p.parse_args(argv)
    if a.bootstrap:
        from genlab.app.trainer import STUDIO_MODELS

        until = set(STUDIO_MODELS if a.bootstrap == "all" else a.bootstrap.split(","))
        res = bootstrap(until)
        print(table([{"model": m, **c} for m, c in res["cost"].items()], ["model", "cpu_s", "wall_s"]))
        print(f"first images after {res['first_images_s']:.0f} s; failed: {res['failed'] or 'none'}")
        print(f"results: {save_result('studio_bootstrap', res)}")
        return
    from genlab.app.runs import finished_runs
    from genlab.train.runstore import default_runs_dir

    runs = Path(a.runs) if a.runs else default_runs_dir()
    if a.screenshots:
        screenshots(runs, Path(__file__).resolve().parents[1] / "docs" / "screenshots")
        return
    settings = pin_threads()
    tmp = None
    if not finished_runs(runs, "text2image"):
        tmp = tempfile.TemporaryDirectory()
        runs = Path(tmp.name)
        print(f"no finished text2image run; training a tiny one in {runs}")
        tiny_text2image(runs)
    with running_studio(runs, "--no-train", timeout_s=90) as studio:
        url, pid = studio.url, streamlit_pid(studio.process)
        start = server_stats(pid)
        warm = run_load(url, pid, 1, 1, a.n, a.timeout)  # loads the model once (not counted below)
        rows = [
            run_load(url, pid, s, a.requests, a.n, a.timeout) for s in sorted({1, *map(int, a.sessions.split(","))})
        ]
    for r in rows:
        if r["problems"]:
            print(f"{r['sessions']} sessions, first problems:", *r["problems"], sep="\n  ")
    print(
        f"threads (bench and server): {settings}; server at start: {start['rss_mb']:.0f} MB; "
        f"first request (model load) {warm['max_s']:.2f} s, server RSS then {warm['rss_mb']:.0f} MB"
    )
    print(
        table(
            rows,
            [
                "sessions",
                "requests",
                "answered",
                "errors",
                "lost",
                "p50_s",
                "p95_s",
                "max_s",
                "server_cpu_s_per_request",
                "images_per_s",
                "rss_mb",
                "peak_rss_mb",
            ],
        )
    )
    path = save_result(
        "studio",
        {
            "settings": settings,
            "run": str(finished_runs(runs, "text2image")[0]),
            "n": a.n,
            "tiny_model": tmp is not None,
            "server_at_start": start,
            "first_request_s": warm["max_s"],
            "server_after_first_request": {k: warm[k] for k in ("rss_mb", "peak_rss_mb")},
            "rows": rows,
        },
    )
    print(f"results: {path}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
