"""The studio under load: N concurrent browser-less sessions (Streamlit AppTest instances, one per
thread, all in this process like sessions of one server) each generate images on the Text to image
page several times. Reports errors, latency percentiles (p50/p95/max, seconds per request,
including the page's rerun) and the process memory (RSS now and peak), which must stay bounded:
the model is loaded once and shared by every session.

    python -m bench studio [--sessions=10] [--requests=3] [--n=16] [--runs=DIR]
    python -m bench studio --screenshots [--runs=DIR]    # docs/screenshots/*.png, one per page

``--screenshots`` starts `genlab studio --no-train` on the runs folder, drives every page in headless
Chromium (/usr/bin/chromium, via the playwright package) and saves what it shows.

Caveat: AppTest instances are not fully thread-safe; from about 20 threads CPython's parser
sometimes fails while compiling a page ("AST constructor recursion depth mismatch"), and those
failures are counted as errors too. A websocket client against `genlab studio` would not have them.

Uses the newest finished text2image run under --runs (default ./runs or $GENLAB_RUNS); without one
it trains a tiny one first (its images are poor; the timings still show the serving overhead).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from bench.common import pin_threads, save_result, table

APP = str(Path(__file__).resolve().parents[1] / "src" / "genlab" / "app" / "studio.py")
PROMPTS = ["a bold seven slanted right", "a thin 4", "the digit eight", "a small zero", "a handwritten two slanted left"]


def memory_mb() -> dict:
    """Resident set size now and at its peak (VmRSS / VmHWM from /proc)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = int(value.split()[0]) / 1024
    return out


def tiny_text2image(root: Path) -> Path:
    from genlab.train.engine import train

    out = root / "tiny-text2image"
    train("text2image", "quick", {"steps": 40, "batch_size": 32, "progress": "false", "tensorboard": "false",
                                  "eval_per_prompt": 1, "sample_steps": 2}, out=out)
    return out


def session(i: int, requests: int, n: int, latencies: list, errors: list) -> None:
    """One user: open the page, then generate ``requests`` times with different prompts and seeds."""
    from streamlit.testing.v1 import AppTest

    try:
        at = AppTest.from_file(APP, default_timeout=300).run()
        at.switch_page("views/text_to_image.py").run()
        for r in range(requests):
            prompt = PROMPTS[(i + r) % len(PROMPTS)]
            at.text_input(key="t2i-prompt").set_value(prompt)
            at.slider(key="t2i-n").set_value(n)
            at.number_input(key="t2i-seed").set_value(i * 100 + r)
            t0 = time.perf_counter()
            at.button(key="t2i-generate").click().run()
            latencies.append(time.perf_counter() - t0)
            problems = [e.value for e in at.exception] + [e.value for e in at.error]
            if problems or not any(f"images for “{prompt}”" in str(s.value) for s in at.success):
                errors.append(f"session {i} request {r}: {problems or ['no images'] + [str(s.value) for s in at.success]}")
    except Exception as e:  # noqa: BLE001 - count it, keep the other sessions going
        errors.append(f"session {i}: {type(e).__name__}: {e}")


def run_load(sessions: int, requests: int, n: int) -> dict:
    latencies, errors = [], []
    threads = [threading.Thread(target=session, args=(i, requests, n, latencies, errors)) for i in range(sessions)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa: E731
    return {"sessions": sessions, "requests": sessions * requests, "answered": len(lat), "errors": len(errors),
            "p50_s": pct(0.5), "p95_s": pct(0.95), "max_s": lat[-1] if lat else float("nan"),
            "images_per_s": len(lat) * n / wall, "wall_s": wall, **memory_mb(), "error_list": errors[:5]}


#: page -> (button to press or None, text to wait for)
SCREENSHOTS = {
    "text_to_image": ("Generate", "images for"), "search": ("Search", "Top 8"), "zero_shot": ("Classify", "Prediction"),
    "latent": (None, "decoded at t"), "generators": ("Generate", " ms"), "diffusion": ("Denoise from pure noise", "after step"),
    "rl": ("Play an episode", "return "), "fewshot": ("New episode", "Correct answers"), "runs": (None, "config.yaml"),
}
#: true once every picture has loaded and Streamlit shows no loading placeholder
READY = ("() => [...document.images].every(i => i.complete && i.naturalWidth > 0) && "
         "!document.querySelector('[data-testid=stSkeleton]')")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def start_studio(runs: Path) -> tuple:
    """`genlab studio --no-train` on a free port; returns (process, url) once it answers."""
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "genlab", "studio", "--port", str(port), "--runs", str(runs), "--no-train"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the studio did not start")


def screenshots(runs: Path, out: Path, pages=tuple(SCREENSHOTS)) -> list[Path]:
    """One full-page screenshot per page, after pressing its main button."""
    import signal

    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    proc, url = start_studio(runs)
    saved = []
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            browser = p.chromium.launch_persistent_context(profile, executable_path="/usr/bin/chromium", headless=True,
                                                           args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1800})
            page = browser.new_page()
            for name in pages:
                button, wait_text = SCREENSHOTS[name]
                page.goto(f"{url}/{'' if name == 'text_to_image' else name}", timeout=120_000)  # the first page is the home page
                page.get_by_role("heading").first.wait_for(timeout=120_000)
                done = page.get_by_text(wait_text)  # the page's result, or its note on a missing model
                for note in ("genlab train", "fills in when", "waiting for background"):
                    done = done.or_(page.get_by_text(note))
                for attempt in range(3):  # a click during the page's first run can be lost: press again
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
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    return saved


def main(argv):
    p = argparse.ArgumentParser(prog="python -m bench studio")
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--requests", type=int, default=3, help="generations per session")
    p.add_argument("--n", type=int, default=16, help="images per generation")
    p.add_argument("--runs", help="runs folder with a finished text2image run")
    p.add_argument("--screenshots", action="store_true", help="save one screenshot per page in docs/screenshots/ instead")
    a = p.parse_args(argv)
    if a.screenshots:
        from genlab.train.runstore import default_runs_dir

        screenshots(Path(a.runs) if a.runs else default_runs_dir(), Path(__file__).resolve().parents[1] / "docs" / "screenshots")
        return
    settings = pin_threads()
    from genlab.app.runs import finished_runs
    from genlab.app.settings import environment
    from genlab.train.runstore import default_runs_dir

    runs = Path(a.runs) if a.runs else default_runs_dir()
    tmp = None
    if not finished_runs(runs, "text2image"):
        tmp = tempfile.TemporaryDirectory()
        runs = Path(tmp.name)
        print(f"no finished text2image run; training a tiny one in {runs}")
        tiny_text2image(runs)
    os.environ.update(environment(runs, train=False))
    before = memory_mb()
    warm = run_load(1, 1, a.n)  # loads the model once (not counted below)
    rows = [run_load(s, a.requests, a.n) for s in sorted({1, a.sessions})]
    for r in rows:
        if r["error_list"]:
            print("errors:", *r["error_list"], sep="\n  ")
    print(f"threads: {settings}; memory before the app {before}; first request (model load) {warm['max_s']:.2f} s")
    print(table(rows, ["sessions", "requests", "answered", "errors", "p50_s", "p95_s", "max_s", "images_per_s", "rss_mb", "peak_rss_mb"]))
    path = save_result("studio", {"settings": settings, "run": str(finished_runs(runs, "text2image")[0]), "n": a.n,
                                  "tiny_model": tmp is not None, "memory_before": before, "first_request_s": warm["max_s"], "rows": rows})
    print(f"results: {path}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
