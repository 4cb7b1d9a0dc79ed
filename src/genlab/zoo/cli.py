"""`genlab pretrained list|show|build|check`: the model zoo on the command line."""

from __future__ import annotations

import json

from genlab.errors import GenlabError
from genlab.utils.cliargs import Parser, positive_int


def _fmt(v) -> str:
    if isinstance(v, bool) or not isinstance(v, float):
        return str(v)
    return f"{v:.4g}"


def headline(e: dict) -> str:
    """The model's main held-out figures, e.g. "fid=12.3 coverage=10"."""
    keys = e.get("headline") or []
    parts = [f"{k}={_fmt(e['metrics'][k])}" for k in keys if k in e.get("metrics", {})]
    if not parts and "check" in e:
        parts = [f"{e['check'].get('metric', e['check']['kind'])}={_fmt(e['check']['value'])}"]
    return " ".join(parts)


def cmd_list(a):
    from genlab.zoo.manifest import load_manifest, weights_dir, zoo_dir

    models = load_manifest()["models"]
    if a.json:
        print(json.dumps({"zoo": str(zoo_dir()), "models": models}, sort_keys=True))
        return
    if not models:
        print(f"no pretrained models in {zoo_dir()}; build them with 'genlab pretrained build'")
        return
    rows = [("NAME", "MODEL", "PRESET", "METRICS", "SIZE")]
    for name, e in sorted(models.items()):
        present = (weights_dir() / name / "checkpoints" / e["file"]).is_file()
        size = f"{e['bytes'] / 1e6:.2f} MB {e['dtype']}" + ("" if present else " (missing)")
        rows.append((name, e["model"], e["preset"], headline(e), size))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
    total = sum(e["bytes"] for e in models.values())
    print(
        f"{len(models)} models, {total / 1e6:.2f} MB in {zoo_dir()}; use one as pretrained:NAME wherever a run folder goes"
    )


def cmd_show(a):
    from genlab.zoo.manifest import entry, weights_dir

    e = entry(a.name)
    if a.json:
        print(json.dumps(e, sort_keys=True))
        return
    c, m = e["check"], e.get("machine", {})
    lines = [
        f"pretrained:{a.name}  ({e['model']}, preset {e['preset']})",
        f"  folder:      {weights_dir() / a.name}",
        f"  command:     {e['command']}",
        f"  preset note: {e.get('preset_note', '')}",
        f"  seed:        {e['seed']}   steps: {e.get('steps')}",
        f"  commit:      {e['commit']}"
        + ("" if e.get("tree_clean") in (True, None) else " (with uncommitted changes in src/)"),
        f"  machine:     {m.get('cpu', '?')} ({m.get('capability', '?')}, {m.get('threads', '?')} threads, torch {m.get('torch', '?')})",
        f"  train CPU:   {_fmt(e.get('train_cpu_s'))} s   eval CPU: {_fmt(e.get('eval_cpu_s'))} s",
        f"  weights:     {e['file']}  {e['bytes']:,} bytes, {e['dtype']}"
        + (f", aliases {e['aliases']}" if e.get("aliases") else ""),
        f"  sha256:      {e['sha256']}",
        f"  check:       {c.get('what', c['kind'])} = {_fmt(c['value'])} +- {_fmt(c['tolerance'])} (float32 run: {_fmt(c.get('value_float32_run'))})",
        "  held-out metrics:",
        *(f"    {k:<32} {_fmt(v)}" for k, v in sorted(e.get("metrics", {}).items())),
    ]
    print("\n".join(lines))


def cmd_build(a):
    from genlab.zoo.build import build

    entries = build(a.names or None, root=a.out_dir, steps=a.steps)
    print(f"built {len(entries)} model(s): {', '.join(e['name'] for e in entries)}")


def cmd_check(a):
    from genlab.zoo.build import check
    from genlab.zoo.manifest import load_manifest, zoo_dir

    if not a.names and not load_manifest()["models"]:
        print(f"no pretrained models in {zoo_dir()}; nothing to check")
        return
    results = check(a.names or None)
    failed = [r["name"] for r in results if not r["ok"]]
    if failed:
        raise GenlabError(f"{len(failed)} of {len(results)} pretrained model(s) failed the check: {', '.join(failed)}")
    print(f"all {len(results)} pretrained model(s) pass")


def register(sub) -> None:
    p = sub.add_parser(
        "pretrained",
        help="the model zoo: list, show, build, check",
        description="genlab's own trained models, shipped with the package; use one as pretrained:NAME wherever a run folder goes "
        "(genlab sample pretrained:ddpm ...). GENLAB_ZOO points at another zoo folder.",
    )
    ps = p.add_subparsers(dest="pretrained_command", metavar="ACTION", parser_class=Parser)
    ps.required = True
    pl = ps.add_parser("list", help="the zoo's models: model, preset, headline metrics, size")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=cmd_list)
    sh = ps.add_parser("show", help="how one model was made and what it measures (its manifest entry)")
    sh.add_argument("name", metavar="NAME")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)
    b = ps.add_parser(
        "build",
        help="retrain zoo models from scratch and store their inference weights",
        description="Train each model with the exact command of genlab.zoo.build.BUILD_SPEC, evaluate it, store its "
        "inference-only weights (float16 where the check does not move) and its manifest entry. "
        "Refuses to take the zoo over its 30 MB budget.",
    )
    b.add_argument("names", metavar="NAME", nargs="*", help="models to build (default: all)")
    b.add_argument("--out-dir", dest="out_dir", help="zoo folder to write (default: the zoo in use)")
    b.add_argument(
        "--steps",
        type=positive_int,
        help="override every model's training steps (a smoke test; the manifest records it)",
    )
    b.set_defaults(func=cmd_build)
    c = ps.add_parser("check", help="verify each model's sha256 and re-measure its cheap metric against the manifest")
    c.add_argument("names", metavar="NAME", nargs="*", help="models to check (default: all)")
    c.set_defaults(func=cmd_check)
