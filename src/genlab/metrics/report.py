"""A report per run: one self-contained HTML file and a Markdown file with its images beside it.

Generic over families: it reads only the run folder (config.yaml, eval.json, metrics.jsonl,
samples/, plots/ and any other picture the run wrote) and writes ``RUN_DIR/report/``:

    report.html     config table, metrics table (FID floor beside FID), every picture embedded
                    as a base64 data URI: it opens anywhere, with no other file
    report.md       the same content; pictures referenced from images/
    images/         copies of the pictures for report.md
"""

from __future__ import annotations

import base64
import html
import json
import shutil
from pathlib import Path

from genlab.config import load_config_yaml
from genlab.train.runstore import require_run
from genlab.utils.io import ensure_writable_dir, write_text_atomic

PICTURE_TYPES = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_STEP_GRIDS = 6  # intermediate sample grids shown (evenly spaced), besides the final one

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}
th{background:#f3f3f3}figure{display:inline-block;margin:.5em;vertical-align:top}
figcaption{font-size:.85em;color:#555;text-align:center}img{max-width:100%;image-rendering:pixelated;border:1px solid #ddd}
.note{color:#555;font-size:.9em}"""


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, default=str)
    return str(v)


def metric_rows(ev: dict) -> list[tuple[str, str]]:
    """(name, value) rows of eval.json; a FID's floor (key ``<name>_floor``) is written beside it."""
    rows = []
    for k, v in ev.items():
        if k.endswith("_floor") and k[: -len("_floor")] in ev:
            continue
        text = _fmt(v)
        if f"{k}_floor" in ev:
            text += f" (floor {_fmt(ev[f'{k}_floor'])}: real train vs real held-out digits)"
        rows.append((k, text))
    return rows


def collect_pictures(run: Path) -> list[tuple[str, list[Path]]]:
    """Sections of pictures: loss curves, sample grids (final first), then every other picture."""
    plots = run / "plots"
    samples = run / "samples"
    loss = [p for p in [plots / "metrics.png"] if p.is_file()]
    steps = sorted(samples.glob("step_*.png"))
    if len(steps) > MAX_STEP_GRIDS:
        steps = [steps[round(i * (len(steps) - 1) / (MAX_STEP_GRIDS - 1))] for i in range(MAX_STEP_GRIDS)]
    grids = [p for p in [samples / "final.png"] if p.is_file()] + steps[::-1]
    shown = set(loss) | set(grids) | set(samples.glob("step_*.png"))
    other = sorted(
        p
        for folder in (samples, plots, run)
        if folder.is_dir()
        for p in folder.iterdir()
        if p.suffix.lower() in PICTURE_TYPES and p.is_file() and p not in shown
    )
    return [
        (title, pics) for title, pics in [("Loss curves", loss), ("Samples", grids), ("Other figures", other)] if pics
    ]


def _data_uri(p: Path) -> str:
    return f"data:{PICTURE_TYPES[p.suffix.lower()]};base64," + base64.b64encode(p.read_bytes()).decode("ascii")


def _table_html(header: tuple[str, str], rows) -> str:
    body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table><tr><th>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>{body}</table>"


def _table_md(header: tuple[str, str], rows) -> str:
    def esc(s):
        return str(s).replace("|", "\\|").replace("\n", " ")

    return (
        "\n".join([f"| {header[0]} | {header[1]} |", "|---|---|", *(f"| {esc(k)} | {esc(v)} |" for k, v in rows)])
        + "\n"
    )


def write_report(run_dir, out=None) -> Path:
    """Write report.html, report.md and images/ for ``run_dir`` into ``out`` (default RUN_DIR/report)."""
    store = require_run(run_dir)
    run = store.path
    if out is None:
        from genlab.zoo.manifest import refuse_write

        refuse_write(run, "write a report into it (pass --out DIR)")
    doc = load_config_yaml(store.config_path)
    out = ensure_writable_dir(Path(out) if out is not None else run / "report")
    title = f"genlab run {run.name}: {doc.get('model', '?')} (preset {doc.get('preset', '?')})"
    config_rows = [(k, _fmt(v)) for k, v in sorted((doc.get("config") or {}).items())]
    ev = store.read_eval() or {}
    rows = store.read_metrics()
    last = rows[-1] if rows else {}
    sections = collect_pictures(run)

    h = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Run folder: {html.escape(str(run))}</p>",
    ]
    md = [f"# {title}\n", f"Run folder: `{run}`\n"]
    note = (
        "Sample-quality numbers are measured with genlab's own MNIST evaluator (a small CNN, "
        "see genlab.metrics.evaluator) against the 1,000 held-out digits; compare a FID with its floor."
    )
    for name, header, table in [
        ("Evaluation (eval.json)", ("metric", "value"), metric_rows(ev)),
        ("Last logged training metrics", ("metric", "value"), [(k, _fmt(v)) for k, v in last.items()]),
        ("Configuration", ("field", "value"), config_rows),
    ]:
        if not table:
            continue
        h += [f"<h2>{html.escape(name)}</h2>", _table_html(header, table)]
        md += [f"## {name}\n", _table_md(header, table)]
        if name.startswith("Evaluation") and any("fid" in k for k in ev):
            h.append(f"<p class='note'>{html.escape(note)}</p>")
            md.append(note + "\n")
    images = out / "images"
    for name, pics in sections:
        h.append(f"<h2>{html.escape(name)}</h2>")
        md.append(f"## {name}\n")
        for p in pics:
            cap = p.relative_to(run).as_posix()
            copy = images / cap.replace("/", "_")
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, copy)
            h.append(
                f'<figure><img src="{_data_uri(p)}" alt="{html.escape(cap)}"><figcaption>{html.escape(cap)}</figcaption></figure>'
            )
            md.append(f"![{cap}](images/{copy.name})\n")
    h.append("</body></html>")
    write_text_atomic(out / "report.md", "\n".join(md) + "\n")
    write_text_atomic(out / "report.html", "\n".join(h))
    return out / "report.html"
