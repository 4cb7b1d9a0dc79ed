"""The code says what and why, and its layers import only downwards.

- No history in the product: comments, docstrings and guides in src/, bench/ and docs/ carry no issue or
  session references and no dated figures (measured numbers live in bench/README.md, history in git).
- No module imports a higher layer (LAYERS below; docs/ARCHITECTURE.md explains them).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "genlab"

# ----------------------------------------------------------------------------- no history

#: what reads as a log of work rather than a description of the code
HISTORY = {
    "issue or pull-request reference": re.compile(r"(?i)\b(issues?|PR|pull request)\s*#?\d+\b"),
    "work-session reference": re.compile(
        r"(?i)\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|\d+(st|nd|rd|th)"
        r"|this|that|last|previous|earlier|later|next|same|another|one|coding|working|work|agent) sessions?\b"
        r"|\bsession \d+\b"
    ),
    "date": re.compile(
        r"\b20\d\d-[01]\d-[0-3]\d\b"
        r"|(?i:\b\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? 20\d\d\b)"
        r"|(?i:\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? 20\d\d\b)"
    ),
    "before/after narrative": re.compile(r"\bwas\b[^;\n]{0,60}\bnow\b"),
    "a default that changed": re.compile(r"(?i)\b(earlier|former|old|previous(ly)?) default\b"),
}

#: lines that legitimately match: the build stamp make_figures.py writes under each rendered guide,
#: in every language (when its figures were generated, from figures.json: provenance, not a narrated
#: measurement)
ALLOWED = [re.compile(r"`python docs/make_figures\.py --budget [a-z]+`")]


def prose_files() -> list[Path]:
    files = [p for p in (ROOT / "src").rglob("*") if p.suffix in (".py", ".md")]
    files += list((ROOT / "bench").glob("*.py"))
    files += [
        p
        for p in (ROOT / "docs").rglob("*")
        if p.suffix in (".py", ".md") and "figures" not in p.relative_to(ROOT / "docs").parts
    ]
    return sorted(p for p in files if p.is_file() and ".egg-info" not in str(p))


def history_hits(text: str) -> list[tuple[int, str, str]]:
    hits = []
    for n, line in enumerate(text.splitlines(), 1):
        if any(a.search(line) for a in ALLOWED):
            continue
        for what, pattern in HISTORY.items():
            m = pattern.search(line)
            if m:
                hits.append((n, what, m.group(0)))
    return hits


def test_no_history_in_src_and_docs():
    found = [
        f"{p.relative_to(ROOT)}:{n}: {what}: {text!r}"
        for p in prose_files()
        for n, what, text in history_hits(p.read_text(encoding="utf-8"))
    ]
    assert not found, "say what and why; measured figures go to bench/README.md, history to git:\n  " + "\n  ".join(
        found
    )


def test_the_history_patterns_catch_history_and_spare_prose():
    caught = [
        "The DQN's CPU fast path (issue 12).",
        "see PR #31",
        "measured in the tenth session",
        "218 and 9 in a first run; 2026-11-29, load ~6",
        "Last run (29 Nov 2026, HEAD at 04:40 UTC)",
        "the sampler was 2.8 s and is now 1.6 s",
        "lr 2e-3 (the earlier default) scored 97",
        "the previous default was MSE",
    ]
    spared = [
        "st.session_state['fs-episode'] = episode",
        "a trained recipe, shared by every session",
        "outside a Streamlit session it is English",
        "DDIM (Song et al., 2021) on ``steps`` timesteps",
        "EVAL_SEED = 2024",
        "the previous checkpoint is intact",
        "use an earlier checkpoint",
        "stamp = time.strftime('%Y%m%d-%H%M%S')",
        "<sub>Figures and numbers: `python docs/make_figures.py --budget docs` on 2026-11-29, genlab",
        "<sub>Рисунки и числа: `python docs/make_figures.py --budget docs`, 2026-11-29, genlab",
    ]
    assert [line for line in caught if not history_hits(line)] == []
    assert [line for line in spared if history_hits(line)] == []


# ----------------------------------------------------------------------------- layers

#: every module of genlab, by prefix, and its layer: a module may import its own layer and lower ones.
#: genlab.registry names the recipes by import string (loaded lazily), so it sits with the core.
LAYERS = {
    # core: the package root, helpers, errors, config, the model-name registry
    "genlab": 0,
    "genlab.utils": 0,
    "genlab.errors": 0,
    "genlab.config": 0,
    "genlab.registry": 0,
    # the model zoo's manifest and weight format: what the run store and the engine consult
    "genlab.zoo.manifest": 0,
    "genlab.zoo.weights": 0,
    "genlab.data": 1,
    "genlab.metrics": 2,
    "genlab.train": 2,
    # the rest of the zoo builds, checks and loads models through the engine and the metrics
    "genlab.zoo": 2,
    # model families, each with its own `cli.py` of family commands
    "genlab.autoencoders": 3,
    "genlab.gans": 3,
    "genlab.diffusion": 3,
    "genlab.rl": 3,
    "genlab.fewshot": 3,
    "genlab.multimodal": 3,
    "genlab.pipelines": 4,
    "genlab.app": 5,
    # the `genlab` command: it imports everything, nothing imports it
    "genlab.cli": 6,
    "genlab.__main__": 6,
}
LAYER_NAMES = {0: "core", 1: "data", 2: "metrics/train", 3: "model families", 4: "pipelines", 5: "app", 6: "cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> tuple[str, int] | None:
    """The longest LAYERS prefix of ``module``; the bare package name only for the package itself."""
    parts = module.split(".")
    for i in range(len(parts), 1, -1):
        key = ".".join(parts[:i])
        if key in LAYERS:
            return key, LAYERS[key]
    return ("genlab", LAYERS["genlab"]) if module == "genlab" else None


def genlab_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every genlab import in the file, at any depth (function-level imports too)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return [(n, m) for n, m in out if m == "genlab" or m.startswith("genlab.")]


def test_every_module_has_a_layer():
    missing = [module_name(p) for p in sorted(SRC.rglob("*.py")) if layer_of(module_name(p)) is None]
    assert not missing, f"add these modules to LAYERS in {Path(__file__).name}: {missing}"


def test_no_module_imports_a_higher_layer():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        me = module_name(path)
        if layer_of(me) is None:
            continue  # reported by test_every_module_has_a_layer
        _, mine = layer_of(me)
        for line, target in genlab_imports(path):
            found = layer_of(target)
            if found is None:
                continue  # reported by test_every_module_has_a_layer when it is a module of ours
            key, theirs = found
            if theirs > mine:
                bad.append(
                    f"src/genlab/{path.relative_to(SRC)}:{line}: {me} ({LAYER_NAMES[mine]}) imports {target} "
                    f"({LAYER_NAMES[theirs]})"
                )
    assert not bad, "a module imports a higher layer:\n  " + "\n  ".join(bad)
