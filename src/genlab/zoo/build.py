"""Building and checking the zoo: ``genlab pretrained build`` and ``genlab pretrained check``.

:data:`BUILD_SPEC` says, for every zoo model, how it is trained (model, preset, seed, config
overrides: the exact ``genlab train`` command), what of its state inference needs (``aliases``:
a net stored as a reference to the net whose weights it takes), whether it is stored in float16,
and its cheap metric (:mod:`genlab.zoo.checks`) with the tolerance a re-measurement must keep.

A build trains each entry from scratch in a temporary run folder, measures the check on the full
float32 run, writes the inference-only checkpoint (float16 only when the measured check moves by
at most half its tolerance, else float32), measures the check again on what it wrote (the value
in the manifest), refuses when the zoo's weights would exceed :data:`MAX_TOTAL_BYTES`, and then
swaps the model's folder in and updates the manifest.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genlab.errors import GenlabError
from genlab.zoo.checks import describe, measure, within
from genlab.zoo.manifest import MARKER, MAX_TOTAL_BYTES, load_manifest, save_manifest, verify, weights_dir, zoo_dir

QUICK_NOTE = "quick: minutes on a laptop; switch an entry to full where the full preset measures better"
FULL_NOTE = "full: the quick recipe's schedule continued (about 25 CPU-minutes on one thread)"
#: the other full presets need hours of a 2-core CPU; these entries train the quick recipe longer (and a little wider)
LONGER_NOTE = "the quick recipe trained longer: well past the quick preset's quality within a CPU hour"


@dataclass
class ZooSpec:
    """How one zoo model is built (see the module docstring)."""

    model: str
    check: dict
    preset: str = "quick"
    preset_note: str = QUICK_NOTE
    seed: int = 0
    overrides: dict[str, str] = field(default_factory=dict)  # --set KEY=VALUE, as on the command line
    half: bool = True
    aliases: dict[str, str] = field(default_factory=dict)
    headline: tuple[str, ...] = ()  # eval.json keys shown by `genlab pretrained list`

    def command(self, steps: int | None = None) -> str:
        parts = ["genlab", "train", self.model, "--preset", self.preset, "--seed", str(self.seed)]
        if steps is not None:
            parts += ["--steps", str(steps)]
        for k, v in self.overrides.items():
            parts += ["--set", f"{k}={v}"]
        return " ".join(parts)


def _fid(**kw) -> dict:
    return {"kind": "samples", "metric": "fid", "n": 200, "seed": 0, "abs": 1.0, "rel": 0.05, **kw}


#: the zoo: every model family a studio page uses
BUILD_SPEC: dict[str, ZooSpec] = {
    "ae": ZooSpec(
        "ae", {"kind": "reconstruction", "metric": "recon_mse", "abs": 1e-4, "rel": 0.05}, headline=("recon_mse", "fid")
    ),
    "dae": ZooSpec(
        "dae",
        {"kind": "reconstruction", "metric": "recon_mse", "abs": 1e-4, "rel": 0.05},
        headline=("recon_mse", "noisy_recon_psnr"),
    ),
    "vae": ZooSpec("vae", _fid(), aliases={"model": "ema"}, headline=("fid", "elbo")),
    "beta-vae": ZooSpec("beta-vae", _fid(), headline=("fid", "active_dims")),
    "dcgan": ZooSpec(
        "dcgan", _fid(), preset="full", preset_note=FULL_NOTE, aliases={"g": "g_ema"}, headline=("fid", "coverage")
    ),
    "cgan": ZooSpec("cgan", _fid(labels=True), aliases={"g": "g_ema"}, headline=("fid", "label_acc")),
    "stylegan": ZooSpec(
        "stylegan",
        _fid(),
        preset_note=LONGER_NOTE,
        overrides={"steps": "6000"},
        aliases={"g": "g_ema"},
        headline=("fid", "coverage"),
    ),
    "ddpm": ZooSpec(
        "ddpm",
        _fid(),
        preset_note=LONGER_NOTE,
        overrides={"steps": "4000", "batch_size": "64", "base_channels": "24", "eval_samples": "1000"},
        aliases={"model": "ema"},
        headline=("fid", "precision"),
    ),
    # a tiny net whose greedy actions may hinge on the last bits: stored as trained
    "dqn": ZooSpec(
        "dqn", {"kind": "episodes", "n": 20, "abs": 25.0, "rel": 0.1}, half=False, headline=("mean_return", "solved")
    ),
    "protonet": ZooSpec(
        "protonet",
        {"kind": "fewshot", "ways": 5, "shots": 1, "episodes": 200, "abs": 1.5, "rel": 0.0},
        headline=("accuracy_5way_1shot", "accuracy_20way_1shot"),
    ),
    "clip": ZooSpec(
        "clip",
        {"kind": "zeroshot", "abs": 0.01, "rel": 0.0},
        preset_note=LONGER_NOTE,
        overrides={"steps": "3000"},
        headline=("zero_shot_acc_words", "recall@1"),
    ),
    "text2image": ZooSpec(
        "text2image",
        {"kind": "samples", "metric": "label_acc", "labels": True, "n": 200, "seed": 0, "abs": 0.02, "rel": 0.0},
        preset_note=LONGER_NOTE,
        overrides={"steps": "7600"},  # every stage twice as long as the quick preset's
        aliases={"unet": "unet_ema"},
        headline=("match", "fid_refined"),
    ),
}


def tolerance(check: dict, reference: float) -> float:
    """The largest allowed difference from ``reference``: max(abs, rel * |reference|)."""
    return max(float(check.get("abs", 0.0)), float(check.get("rel", 0.0)) * abs(float(reference)))


def estimated_bytes(spec: ZooSpec) -> int:
    """Tensor bytes of the nets ``spec`` would store (an untrained model of its preset: the sizes do not change)."""
    from genlab.registry import get_recipe
    from genlab.train.engine import build_config
    from genlab.zoo.weights import nbytes, strip

    recipe_cls = get_recipe(spec.model)
    recipe = recipe_cls(build_config(recipe_cls, spec.preset, {**spec.overrides, "seed": spec.seed}), "cpu")
    return nbytes(strip(recipe.state(), spec.aliases, spec.half)[0])


# ----------------------------------------------------------------------------- provenance
def git_commit() -> tuple[str, bool | None]:
    """(HEAD commit, whether src/ has no uncommitted changes outside the zoo's files) of the checkout genlab runs from."""
    root = Path(__file__).resolve().parents[3]

    def git(*args) -> str | None:
        try:
            r = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if head is None:
        return "unknown (not a git checkout)", None
    # the zoo's own files (weights, manifest, a build's staging folder) are what a build writes, not its code
    status = git("status", "--porcelain", "--", "src", ":!src/genlab/zoo/weights", ":!src/genlab/zoo/manifest.json")
    return head, (status == "" if status is not None else None)


def machine_kind() -> dict:
    """CPU model, torch's vector capability (with AMX/BF16), threads, torch version."""
    import torch

    from genlab.utils.runtime import cpu_capability, cpu_model

    cpu = cpu_model()
    return {
        "cpu": cpu,
        "capability": cpu_capability(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


# ----------------------------------------------------------------------------- build
def _write_weights(folder: Path, name: str, spec: ZooSpec, run: Path, state: dict, meta: dict, half: bool) -> dict:
    """Write the minimal run folder of ``name`` into ``folder`` (replacing it); returns the file's facts."""
    from genlab.train.checkpoint import save_checkpoint
    from genlab.utils.io import write_json_atomic
    from genlab.zoo.weights import strip

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "checkpoints").mkdir(parents=True)
    shutil.copyfile(run / "config.yaml", folder / "config.yaml")
    stripped, how = strip(state, spec.aliases, half)
    stem = folder / "checkpoints" / f"step_{int(meta['step']):07d}"
    save_checkpoint(stem, {"recipe": stripped}, {"step": int(meta["step"]), "model": spec.model, **how})
    write_json_atomic(folder / MARKER, {"name": name, "model": spec.model, "preset": spec.preset})
    st = stem.with_suffix(".safetensors")
    from genlab.zoo.manifest import file_sha256

    return {
        "file": st.name,
        "sha256": file_sha256(st),
        "bytes": st.stat().st_size,
        "sidecar_sha256": file_sha256(stem.with_suffix(".json")),
        **how,
    }


def _zoo_bytes(manifest: dict, root: Path, skip: str) -> int:
    wd = weights_dir(root)
    return sum(e.get("bytes", 0) for n, e in manifest["models"].items() if n != skip and (wd / n).is_dir())


def _check_budget(name: str, total: int, qualifier: str = "") -> None:
    if total > MAX_TOTAL_BYTES:
        raise GenlabError(
            f"zoo model '{name}' would bring the zoo's weights to {qualifier}{total / 1e6:.1f} MB, over its "
            f"{MAX_TOTAL_BYTES / 1e6:.0f} MB budget; use a smaller preset, store it in float16 (half=True), or drop another model"
        )


def _train_and_store(name: str, spec: ZooSpec, overrides: dict, staging: Path, log):
    """Train in a temporary run, write the inference-only weights into ``staging`` (float16 when the check
    allows) and measure them: (file facts, value, float32 run's value, tolerance, eval.json, checkpoint meta)."""
    from genlab.train.checkpoint import list_checkpoints, load_checkpoint
    from genlab.train.engine import load_run, train

    with tempfile.TemporaryDirectory(prefix=f"genlab-zoo-{name}-") as tmp:
        run = Path(tmp) / "run"
        store = train(spec.model, spec.preset, overrides, out=run)
        ev = store.read_eval() or {}
        state, meta = load_checkpoint(list_checkpoints(store.ckpt_dir)[0])
        reference = measure(load_run(run)[0], spec.check)
        tol = tolerance(spec.check, reference)
        log(f"[{name}] {describe(spec.check)}: {reference:.6g} (float32 run; tolerance {tol:.3g})")
        for half in (True, False) if spec.half else (False,):
            facts = _write_weights(staging, name, spec, run, state["recipe"], meta, half)
            value = measure(load_run(staging)[0], spec.check)
            if within(value, reference, tol / 2):
                return facts, value, reference, tol, ev, meta
            if half:
                log(f"[{name}] float16 moves the check to {value:.6g} (more than half the tolerance); storing float32")
    raise GenlabError(
        f"zoo model '{name}': the inference-only weights measure {value:.6g}, the trained run {reference:.6g} "
        f"(tolerance {tol:.3g}); fix its aliases in BUILD_SPEC"
    )


def build_one(
    name: str, spec: ZooSpec, root: Path, steps: int | None = None, log: Callable[[str], None] = print
) -> dict:
    """Train, strip, verify and install zoo model ``name`` into the zoo at ``root``; returns its manifest entry."""
    overrides = {**spec.overrides, "seed": spec.seed, "progress": "false", "tensorboard": "false"}
    if steps is not None:
        overrides["steps"] = steps
    command = spec.command(steps)
    _check_budget(
        name, _zoo_bytes(load_manifest(root), root, skip=name) + estimated_bytes(spec), "at least "
    )  # before training
    log(f"[{name}] {command}")
    wd = weights_dir(root)
    wd.mkdir(parents=True, exist_ok=True)
    staging = wd / f".{name}.staging"
    commit, clean = git_commit()  # the code that trains, before the build writes anything
    try:
        facts, value, reference, tol, ev, meta = _train_and_store(name, spec, overrides, staging, log)
        _check_budget(name, _zoo_bytes(load_manifest(root), root, skip=name) + facts["bytes"])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    metrics = {
        k: v for k, v in ev.items() if isinstance(v, (int, float, bool)) and k not in ("train_cpu_s", "eval_cpu_s")
    }
    entry = {
        "name": name,
        "model": spec.model,
        "preset": spec.preset,
        "preset_note": spec.preset_note,
        "seed": spec.seed,
        "steps": int(meta["step"]),
        "overrides": dict(spec.overrides),
        "command": command,
        "commit": commit,
        "tree_clean": clean,
        "machine": machine_kind(),
        "train_cpu_s": ev.get("train_cpu_s"),
        "eval_cpu_s": ev.get("eval_cpu_s"),
        "metrics": metrics,
        "headline": [k for k in spec.headline if k in metrics],
        **facts,
        "check": {
            **{k: v for k, v in spec.check.items() if k not in ("abs", "rel")},
            "what": describe(spec.check),
            "value": value,
            "value_float32_run": reference,
            "tolerance": tol,
        },
    }
    final, old = wd / name, wd / f".{name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)
    manifest = load_manifest(root)
    manifest["models"][name] = entry
    save_manifest(manifest, root)
    log(
        f"[{name}] stored {facts['file']} ({facts['bytes'] / 1e6:.2f} MB, {facts['dtype']}); {describe(spec.check)} {value:.6g}"
    )
    return entry


def build(
    names=None,
    root=None,
    steps: int | None = None,
    specs: dict[str, ZooSpec] | None = None,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Build the zoo models ``names`` (default: all of ``specs``, default :data:`BUILD_SPEC`) into the zoo at ``root``."""
    specs = BUILD_SPEC if specs is None else specs
    names = list(names or specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise GenlabError(f"no zoo model '{unknown[0]}' in the build spec; choose from: {', '.join(specs)}")
    root = Path(root) if root is not None else zoo_dir()
    from genlab.utils.io import ensure_writable_dir

    ensure_writable_dir(root)
    return [build_one(n, specs[n], root, steps, log) for n in names]


# ----------------------------------------------------------------------------- check
def check_one(name: str, root=None) -> dict:
    """Verify the sha256 of zoo model ``name``, re-measure its check; {"name", "ok", "value", "reference", "tolerance", "what"}."""
    from genlab.train.engine import load_run

    e = load_manifest(root)["models"].get(name)
    if e is None:
        raise GenlabError(f"no pretrained model '{name}' in the zoo; see 'genlab pretrained list'")
    c = e["check"]
    recipe, _, _ = load_run(verify(name, root))
    value = measure(recipe, c)
    return {
        "name": name,
        "ok": within(value, c["value"], c["tolerance"]),
        "value": value,
        "reference": c["value"],
        "tolerance": c["tolerance"],
        "what": c.get("what", describe(c)),
    }


def check(names=None, root=None, log: Callable[[str], None] = print) -> list[dict]:
    models = load_manifest(root)["models"]
    names = list(names or sorted(models))
    results = []
    for n in names:
        try:
            r = check_one(n, root)
        except GenlabError as e:
            r = {"name": n, "ok": False, "error": str(e)}
        results.append(r)
        if "error" in r:
            log(f"FAIL {n}: {r['error']}")
        else:
            log(
                f"{'ok  ' if r['ok'] else 'FAIL'} {n}: {r['what']} {r['value']:.6g} (manifest {r['reference']:.6g} +- {r['tolerance']:.3g})"
            )
    sys.stdout.flush()
    return results
