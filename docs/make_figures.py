"""Regenerate every figure and number of the chapter guides from genlab's models and the current code.

    python docs/make_figures.py                         # every chapter, the pretrained models (zoo budget)
    python docs/make_figures.py --only 5.2              # one chapter
    python docs/make_figures.py --budget small --runs /tmp/r --docs /tmp/d   # tiny smoke run

For each chapter it takes the chapter's models (the pretrained models shipped with genlab, or runs
it trains through the public command line, called in-process: ``genlab.cli.main``, reusing finished
runs under ``--runs DIR/BUDGET/``), runs the chapter's sampling / exploration / evaluation
commands, copies the pictures (shrunk) to ``DOCS/figures/CHAPTER/``, merges the numbers into
``DOCS/figures/figures.json`` and renders ``docs/templates/*.md`` into ``DOCS/chapters/*.md`` and
``DOCS/final-project.md``, and the Russian ``docs/templates/ru/*.md`` into ``DOCS/ru/chapters/*.md``
and ``DOCS/ru/final-project.md``: each ``{{key}}`` or ``{{key:format}}`` of a template is looked up
in its chapter's numbers, the same numbers for both languages, and ``{{#if key}}A{{else}}B{{/if}}``
(``{{else}}B`` optional, no nesting) keeps A where the number ``key`` is true and B where it is
false or absent. A placeholder without a number is an error, so no guide shows a figure the code did
not produce. ``--render-only`` renders the guides from the existing figures.json without running
anything.

Budgets: ``zoo`` (the default) uses the pretrained model of every run the zoo has (``pretrained:NAME``:
its numbers are its manifest's held-out metrics, its pictures come from commands run on it, and a
training curve is shown only for a model trained here) and trains the others with their quick
presets (MAML with fewer steps, said in its guide); ``quick`` trains every model with its quick preset
(what the guides' commands run); ``docs`` does the same except for the few models whose quick preset
is too costly for one documentation pass (their guide says how many steps were used); ``small``
takes a few steps of everything (a smoke test: numbers are meaningless).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import resource
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GENLAB_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

DOCS = Path(__file__).resolve().parent
TEMPLATES = DOCS / "templates"
QUIET = ["--set", "progress=false", "--set", "tensorboard=false"]
BUDGETS = ("zoo", "quick", "docs", "small")
#: language -> (its templates, where its guides go under DOCS)
LANGS = {"en": (TEMPLATES, Path(".")), "ru": (TEMPLATES / "ru", Path("ru"))}
MAX_WIDTH = 960  # pixels; figures are shrunk to this width and palette-compressed


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Chapter:
    """One chapter's runs, commands, figures and numbers (``self.nums`` -> figures.json)."""

    def __init__(self, key: str, budget: str, runs: Path, docs: Path):
        self.key, self.budget = key, budget
        self.runs = runs / budget
        self.figdir = docs / "figures" / key
        self.tmp = self.runs / f"_{key}"
        self.nums: dict = {"budget": budget}
        self.train_cpu = 0.0  # CPU seconds of the training done in this pass (reused runs cost none)

    # ---------------------------------------------------------------- commands
    def cli(self, *argv) -> str:
        """Run one `genlab` command in-process; returns what it printed. Fails loudly."""
        from genlab.cli import main

        argv = [str(a) for a in argv]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = main(argv)
        if rc != 0:
            raise SystemExit(f"make_figures: 'genlab {' '.join(argv)}' failed with exit code {rc}")
        return out.getvalue()

    def cli_json(self, *argv) -> dict:
        return json.loads(self.cli(*argv).strip().splitlines()[-1])

    def zoo_model(self, model: str, extra: list[str]) -> str | None:
        """The zoo's name for a run of ``model`` with these arguments, when this pass takes it from the zoo."""
        from genlab.zoo.manifest import available

        if self.budget != "zoo" or any(e in ("--preset", "--set") for e in extra):
            return None  # only the default (quick) configuration of a model is in the zoo
        return model if model in available() else None

    def train(self, name: str, model: str, *extra, steps: dict | None = None) -> Path | str:
        """Run ``name``: the zoo's ``pretrained:MODEL`` (zoo budget) or a run trained (or reused) here.

        Its held-out metrics, steps and CPU seconds go to nums[name]. ``steps`` maps a budget to a
        step count; a budget not in it uses the preset's steps.
        """
        from genlab.config import parse_set_args
        from genlab.registry import get_recipe
        from genlab.train.engine import build_config

        extra = [str(e) for e in extra]
        zoo = self.zoo_model(model, extra)
        if zoo is not None:
            return self.pretrained_run(name, zoo)
        preset = extra[extra.index("--preset") + 1] if "--preset" in extra else "quick"
        sets = [extra[i + 1] for i, e in enumerate(extra) if e == "--set"]
        preset_steps = build_config(get_recipe(model), preset, parse_set_args(sets)).steps
        n = (steps or {}).get(self.budget, preset_steps)
        out = self.runs / name
        marker = out / "make_figures.json"
        argv = [model, *extra, "--steps", str(n)]
        done = json.loads(marker.read_text()) if marker.is_file() else None
        if done and done.get("argv") != argv:  # another command (or preset size) made this run
            done = None
        if done is None:
            # a run interrupted before its end resumes; one made by another command starts over
            resume = [] if marker.is_file() else ["--resume"] if any((out / "checkpoints").glob("*.json")) else []
            if out.exists() and not resume:
                shutil.rmtree(out)
            print(f"[{self.key}] training {name}: genlab train {model} {' '.join(extra)} --steps {n}", flush=True)
            t0, w0 = cpu_seconds(), time.time()
            self.cli("train", model, "--out", out, "--steps", n, *extra, *QUIET, *resume)
            done = {"argv": argv, "cpu_s": cpu_seconds() - t0, "wall_s": time.time() - w0}
            self.train_cpu += done["cpu_s"]
            marker.write_text(json.dumps(done))
        else:
            print(f"[{self.key}] reusing {out}", flush=True)
        import torch

        ev = json.loads((out / "eval.json").read_text())
        self.nums[name] = {
            **ev,
            "steps": n,
            "preset": preset,
            "preset_steps": preset_steps,
            "cpu_s": done["cpu_s"],
            "cpu_min": done["cpu_s"] / 60,
            "threads": torch.get_num_threads(),
            "pretrained": False,
            "budget_note": budget_note(n, preset, preset_steps),
        }
        return out

    def pretrained_run(self, name: str, zoo: str) -> str:
        """``pretrained:ZOO``; nums[name] from its manifest entry (held-out metrics, steps, CPU seconds, machine)."""
        from genlab.config import load_config_yaml
        from genlab.registry import get_recipe
        from genlab.train.engine import build_config
        from genlab.zoo.manifest import entry, verify

        e = entry(zoo)
        run = verify(zoo)
        config = load_config_yaml(run / "config.yaml")["config"]
        preset_steps = build_config(get_recipe(e["model"]), e["preset"], {}).steps
        cpu_s = float(e.get("train_cpu_s") or 0.0) + float(e.get("eval_cpu_s") or 0.0)  # training and evaluation
        self.nums[name] = {
            **{k: config[k] for k in ("env",) if k in config},
            **e["metrics"],
            "steps": int(e["steps"]),
            "preset": e["preset"],
            "preset_steps": preset_steps,
            "cpu_s": cpu_s,
            "cpu_min": cpu_s / 60,
            "threads": e["machine"].get("threads", 1),
            "machine": e["machine"].get("cpu", "unknown"),
            "pretrained": True,
            "zoo_name": zoo,
            "budget_note": budget_note(int(e["steps"]), e["preset"], preset_steps, zoo=zoo),
        }
        print(f"[{self.key}] {name}: pretrained:{zoo}", flush=True)
        return f"pretrained:{zoo}"

    def pretrained(self, name: str) -> bool:
        return bool(self.nums.get(name, {}).get("pretrained"))

    def recipe_figures(self, run) -> dict[str, Path]:
        """The pictures the recipe of ``run`` draws at the end of training (``Recipe.figures``), drawn
        again into this chapter's scratch folder: a pretrained run folder holds none. Name -> path."""
        from types import SimpleNamespace

        from genlab.train.engine import load_run

        recipe, store, _ = load_run(run)
        folder = self.path(f"figures-{Path(str(run)).name.replace(':', '-')}")
        folder.mkdir(parents=True, exist_ok=True)
        scratch = SimpleNamespace(path=folder, plots_dir=folder, samples_dir=folder, read_metrics=store.read_metrics)
        return {Path(p).name: Path(p) for p in recipe.figures(scratch) if p}

    # ---------------------------------------------------------------- figures
    def figure(self, src: Path, name: str, max_width: int = MAX_WIDTH) -> None:
        """Copy a PNG (or the first frame of a GIF) into the chapter's figure folder, shrunk."""
        import numpy as np
        from PIL import Image

        src = Path(src)
        if not src.is_file():
            raise SystemExit(f"make_figures: expected figure {src} was not written")
        self.figdir.mkdir(parents=True, exist_ok=True)
        with Image.open(src) as im:
            im.seek(0)
            im = im.convert("RGB")
            if im.width > max_width:
                im = im.resize((max_width, round(im.height * max_width / im.width)), Image.Resampling.LANCZOS)
            px = np.asarray(im)
            gray = bool((px[..., 0] == px[..., 1]).all() and (px[..., 1] == px[..., 2]).all())
            im = im.convert("L").quantize(colors=16) if gray else im.quantize(colors=64)
            im.save(self.figdir / name, optimize=True)

    def small_set(self, setting: str) -> list[str]:
        """``--set SETTING`` at the smoke-test budget only (e.g. fewer evaluation samples)."""
        return ["--set", setting] if self.budget == "small" else []

    def path(self, name: str) -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / name


def budget_note(steps: int, preset: str, preset_steps: int, lang: str = "en", zoo: str | None = None) -> str:
    """How long a run trained, in words of the guide's language (the numbers are the same); a
    pretrained model says which one it is."""
    if lang == "ru":
        note = (
            f"пресет {preset} (шагов: {steps:,})"
            if steps == preset_steps
            else f"шагов: {steps:,} (в пресете {preset}: {preset_steps:,})"
        )
        return f"{note[:-1]}; поставляется как `pretrained:{zoo}`)" if zoo else note
    note = (
        f"the {preset} preset ({steps:,} steps)"
        if steps == preset_steps
        else f"{steps:,} steps ({preset} preset: {preset_steps:,})"
    )
    return f"{note[:-1]}; shipped as `pretrained:{zoo}`)" if zoo else note


# ============================================================================ chapters
def ch_autoencoders(c: Chapter) -> None:
    small = {"small": 20}
    ae = c.train("ae", "ae", steps=small)
    dae = c.train("dae", "dae", steps=small)
    c.train("sparse_ae", "sparse-ae", steps=small)
    same = c.nums["ae"]["steps"]  # the book's MLP for as many steps as the default
    c.train("ae_book", "ae", "--preset", "book", steps={"small": 20, "docs": same, "quick": same, "zoo": same})
    c.cli("explore", ae, "--what", "reconstruct", "--out", c.path("recon.png"))
    c.figure(c.path("recon.png"), "ae_reconstructions.png")
    c.cli(
        "explore",
        ae,
        "--what",
        "latent-map",
        "--projection",
        "pca",
        "--n",
        500 if c.budget != "small" else 100,
        "--out",
        c.path("latent.png"),
    )
    c.figure(c.path("latent.png"), "ae_latent_map.png")
    c.cli("explore", dae, "--what", "denoise", "--out", c.path("denoise.png"))
    c.figure(c.path("denoise.png"), "dae_denoise.png")
    if not c.pretrained("ae"):  # training curves exist only for a run trained here
        c.figure(ae / "plots" / "metrics.png", "ae_curves.png")


def ch_vae(c: Chapter) -> None:
    small = {"small": 20}
    vae = c.train("vae", "vae", steps=small)
    beta = c.train("beta_vae", "beta-vae", steps=small)
    cvae = c.train("cvae", "cvae", "--set", "latent_dim=2", steps=small)
    same = c.nums["vae"]["steps"]
    c.train("vae_book", "vae", "--preset", "book", steps={"small": 20, "docs": same, "quick": same, "zoo": same})
    c.cli("sample", vae, "--n", 64, "--out", c.path("s.npy"), "--png", c.path("samples.png"))
    c.figure(c.path("samples.png"), "vae_samples.png")
    c.nums["vae_samples"] = c.cli_json("eval", "--samples", c.path("s.npy"), "--json")
    c.cli("explore", vae, "--what", "interpolate", "--pair", 0, 1, "--out", c.path("interp.png"))
    c.figure(c.path("interp.png"), "vae_interpolation.png")
    c.cli("explore", beta, "--what", "traversal", "--out", c.path("traversal.png"))
    c.figure(c.path("traversal.png"), "beta_vae_traversal.png")
    c.cli("explore", cvae, "--what", "manifold", "--label", 7, "--out", c.path("manifold.png"))
    c.figure(c.path("manifold.png"), "cvae_manifold_7.png")


def ch_gans(c: Chapter) -> None:
    dcgan = c.train("dcgan", "dcgan", steps={"small": 20, "docs": 500})
    cgan = c.train("cgan", "cgan", steps={"small": 20, "docs": 300})
    stylegan = c.train("stylegan", "stylegan", steps={"small": 20, "docs": 300})
    c.cli("sample", dcgan, "--n", 64, "--seed", 0, "--out", c.path("dcgan.npy"), "--png", c.path("dcgan.png"))
    c.figure(c.path("dcgan.png"), "dcgan_samples.png")
    if not c.pretrained("dcgan"):  # the training dynamics exist only for a run trained here
        c.figure(dcgan / "plots" / "gan_dynamics.png", "dcgan_dynamics.png")
    c.cli("sample", cgan, "--n", 16, "--label", 3, "--out", c.path("three.npy"), "--png", c.path("three.png"))
    c.figure(c.path("three.png"), "cgan_threes.png")
    c.cli("sample", stylegan, "--n", 32, "--seed", 0, "--out", c.path("style.npy"), "--png", c.path("style.png"))
    c.figure(c.path("style.png"), "stylegan_samples.png")


def ch_diffusion(c: Chapter) -> None:
    from genlab.train.engine import load_run

    ddpm = c.train("ddpm", "ddpm", *c.small_set("eval_samples=32"), steps={"small": 10, "docs": 250})
    drawn = c.recipe_figures(ddpm)
    c.figure(drawn["forward_process.png"], "ddpm_forward.png", max_width=480)  # noise compresses badly
    c.figure(drawn["reverse_process.png"], "ddpm_reverse.png", max_width=320)
    cfg = load_run(ddpm)[0].cfg
    c.nums["ddpm"].update(sampler=cfg.sampler, sample_steps=cfg.sample_steps)
    c.cli("sample", ddpm, "--n", 64, "--seed", 0, "--out", c.path("samples.npy"), "--png", c.path("samples.png"))
    c.figure(c.path("samples.png"), "ddpm_samples.png")
    # the book's comparison, and the default: 16 digits each from the same network, with the
    # default sampler (as configured), DDIM-50 and the 1000 ancestral steps of DDPM
    for key, sampler, steps in (("default", None, None), ("ddim", "ddim", 50), ("ddpm", "ddpm", 1000)):
        how = (
            [] if sampler is None else ["--sampler", sampler, "--steps", steps if c.budget != "small" else steps // 10]
        )
        t0 = cpu_seconds()
        c.cli(
            "sample", ddpm, "--n", 16, "--seed", 0, *how, "--out", c.path(f"{key}.npy"), "--png", c.path(f"{key}.png")
        )
        c.nums[f"sampler_{key}"] = {
            "sampler": sampler or cfg.sampler,
            "steps": int(how[-1]) if how else cfg.sample_steps,
            "cpu_s_16": cpu_seconds() - t0,
        }
    fastest = max(c.nums["sampler_default"]["cpu_s_16"], 1e-9)
    c.nums["sampler_ratio"] = c.nums["sampler_ddpm"]["cpu_s_16"] / fastest
    c.nums["sampler_ratio_ddim"] = c.nums["sampler_ddim"]["cpu_s_16"] / fastest
    c.figure(c.path("ddim.png"), "ddpm_ddim_50.png")
    c.figure(c.path("ddpm.png"), "ddpm_1000_steps.png")
    c.cli(
        "sample",
        ddpm,
        "--n",
        16,
        "--label",
        7,
        "--guidance",
        3.0,
        "--out",
        c.path("sevens.npy"),
        "--png",
        c.path("sevens.png"),
    )
    c.figure(c.path("sevens.png"), "ddpm_guided_sevens.png")


def ch_rl(c: Chapter) -> None:
    ql = c.train("qlearning", "qlearning", steps={"small": 2000})
    dqn = c.train("dqn", "dqn", steps={"small": 300, "docs": 15000})
    a2c = c.train("a2c", "a2c", steps={"small": 300, "docs": 8000})
    c.figure(ql / "plots" / "rl.png", "qlearning_curve.png")
    c.figure(ql / "plots" / "q_table.png", "qlearning_policy.png")
    if c.pretrained("dqn"):  # no training curve: a frame of the agent playing
        c.cli("play", dqn, "--gif", c.path("dqn.gif"), "--episodes", 1, "--max-frames", 60)
        c.figure(c.path("dqn.gif"), "dqn_cartpole.png")
    else:
        c.figure(dqn / "plots" / "rl.png", "dqn_curve.png")
    c.figure(a2c / "plots" / "rl.png", "a2c_curve.png")
    c.cli("play", a2c, "--gif", c.path("a2c.gif"), "--episodes", 1, "--max-frames", 60)
    c.figure(c.path("a2c.gif"), "a2c_cartpole.png")


def ch_fewshot(c: Chapter) -> None:
    small = {"small": 5}
    ev = c.small_set("eval_episodes=20")
    proto = c.train("protonet", "protonet", *ev, steps=small)
    maml = c.train("maml", "maml", *ev, steps={"small": 5, "docs": 100, "zoo": 100})
    if c.pretrained("protonet"):  # training curves exist only for a run trained here
        c.figure(maml / "plots" / "metrics.png", "maml_curves.png")
    else:
        c.figure(proto / "plots" / "metrics.png", "protonet_curves.png")


def ch_clip(c: Chapter) -> None:
    import numpy as np

    from genlab.data import load_dataset
    from genlab.utils.images import save_grid, save_png, to_uint8

    clip = c.train("clip", "clip", steps={"small": 20, "docs": 100})
    if not c.pretrained("clip"):  # training curves exist only for a run trained here
        c.figure(clip / "plots" / "metrics.png", "clip_curves.png")
    c.figure(c.recipe_figures(clip)["text_to_image.png"], "clip_queries.png")
    # zero-shot classification of held-out digits, by the command line
    data = load_dataset("mnist")
    n = 100 if c.budget == "small" else 500
    x, y = data.heldout(n)  # every digit its share: the held-out split is sorted by class
    x, y = to_uint8(x), y.numpy()
    np.save(c.path("digits.npy"), x)
    preds = c.cli_json("classify", clip, c.path("digits.npy"), "--json")["predictions"]
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    c.nums["classify"] = {"n": n, "acc": float(np.mean([words.index(p["label"]) == t for p, t in zip(preds, y)]))}
    # the image search engine over a folder of held-out digits: which images does "a bold seven" find?
    folder = c.path("digits")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    for i, (img, label) in enumerate(zip(x, y)):
        save_png(folder / f"{i:04d}-{words[label]}.png", img.reshape(28, 28))
    from genlab.zoo.manifest import resolve

    model = resolve(clip)  # the folder: `search query` looks for the index's model run on disk
    c.cli("search", "index", folder, "--model", model, "--index", c.path("digits.npz"))
    k = 8
    found = c.cli_json("search", "query", c.path("digits.npz"), "a bold seven", "-k", k, "--json")["results"]
    c.nums["search"] = {
        "k": k,
        "images": n,
        "sevens": sum("-seven" in r["path"] for r in found),
        "top_score": found[0]["score"],
    }
    from PIL import Image

    save_grid(c.path("search.png"), np.stack([np.asarray(Image.open(folder / r["path"])) for r in found]), nrow=k)
    c.figure(c.path("search.png"), "search_bold_seven.png")


def ch_final(c: Chapter) -> None:
    t2i = c.train("text2image", "text2image", *c.small_set("eval_per_prompt=4"), steps={"small": 40, "docs": 800})
    prompts = ["a bold seven slanted right", "a thin 2", "the digit zero, small"]
    refusal = contextlib.nullcontext()
    if c.budget == "small":  # a barely trained text encoder does not yet know its prompts name digits: draw anyway
        from unittest import mock

        from genlab.pipelines.text2image import TextToImage

        refusal = mock.patch.object(TextToImage, "check_drawable", lambda self, prompts: None)
    t0 = cpu_seconds()
    with refusal:
        c.nums["generate"] = c.cli_json(
            "generate",
            *prompts,
            "--model",
            t2i,
            "--n",
            8,
            "--candidates",
            4,
            "--seed",
            0,
            "--png",
            c.path("t2i.png"),
            "--out",
            c.path("t2i.npy"),
            "--stages",
            "--json",
        )
    c.nums["generate_cpu_s"] = cpu_seconds() - t0  # the wall clock of a shared machine says little alone
    c.figure(c.path("t2i.png"), "text2image.png")
    c.figure(c.path("t2i_stages.png"), "text2image_stages.png")


CHAPTERS = {
    "5.1": ("chapters/5.1-autoencoders.md", ch_autoencoders),
    "5.2": ("chapters/5.2-vae.md", ch_vae),
    "5.3": ("chapters/5.3-gans.md", ch_gans),
    "5.4": ("chapters/5.4-diffusion.md", ch_diffusion),
    "5.5": ("chapters/5.5-rl.md", ch_rl),
    "5.6": ("chapters/5.6-fewshot.md", ch_fewshot),
    "5.7": ("chapters/5.7-multimodal.md", ch_clip),
    "final": ("final-project.md", ch_final),
}


# ============================================================================ rendering
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.@\-]+)(?::([^}]*))?\s*\}\}")
#: {{#if key}}kept where the number is true{{else}}kept where it is false or absent{{/if}} (no nesting)
CONDITIONAL = re.compile(r"\{\{#if\s+([A-Za-z0-9_.@\-]+)\s*\}\}(.*?)(?:\{\{else\}\}(.*?))?\{\{/if\}\}", re.S)


def lookup(nums: dict, key: str):
    value = nums
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(key)
        value = value[part]
    return value


YES_NO = {"en": ("yes", "no"), "ru": ("да", "нет")}


def fmt(value, spec: str | None, lang: str = "en") -> str:
    if spec:
        return format(value, spec)
    if isinstance(value, bool):
        return YES_NO[lang][0 if value else 1]
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(template: str, nums: dict, lang: str = "en") -> tuple[str, list[str]]:
    """Fill ``{{key}}`` / ``{{key:spec}}`` and choose the branches of ``{{#if key}}``; returns the
    text and the keys that had no number."""
    missing = []

    def choose(m):
        try:
            keep = bool(lookup(nums, m.group(1)))
        except KeyError:
            keep = False
        return m.group(2) if keep else m.group(3) or ""

    def sub(m):
        try:
            return fmt(lookup(nums, m.group(1)), m.group(2), lang)
        except KeyError:
            missing.append(m.group(1))
            return m.group(0)

    return PLACEHOLDER.sub(sub, CONDITIONAL.sub(choose, template)), missing


def chapter_numbers(figures: dict, key: str, lang: str = "en") -> dict:
    """A chapter's numbers from figures.json, the wording of each run's step count in ``lang``."""
    nums = json.loads(json.dumps(figures.get(key, {})))
    for run in nums.values():
        if isinstance(run, dict) and "preset_steps" in run:
            run["budget_note"] = budget_note(
                run["steps"], run["preset"], run["preset_steps"], lang, run.get("zoo_name")
            )
    return nums


def guide_path(key: str, lang: str) -> tuple[Path, Path]:
    """(template, rendered guide relative to DOCS) of chapter ``key`` in ``lang``."""
    target, _ = CHAPTERS[key]
    templates, out = LANGS[lang]
    return templates / Path(target).name, out / target


def render_all(docs: Path, figures: dict, only: list[str], langs=tuple(LANGS)) -> list[str]:
    problems = []
    for lang in langs:
        for key in only:
            tpath, target = guide_path(key, lang)
            if not tpath.is_file():
                problems.append(f"{target}: template {tpath} is missing")
                continue
            text, missing = render(tpath.read_text(), chapter_numbers(figures, key, lang), lang)
            header = (
                f"<!-- Generated by docs/make_figures.py from docs/{tpath.relative_to(DOCS).as_posix()}"
                "; edit the template, not this file. -->\n"
            )
            out = docs / target
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(header + text)
            problems += [f"{target}: no number for {{{{{k}}}}}" for k in missing]
    return problems


# ============================================================================ main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--only",
        action="append",
        choices=list(CHAPTERS),
        metavar="CHAPTER",
        help=f"chapter to (re)make, repeatable: {', '.join(CHAPTERS)} (default: all)",
    )
    p.add_argument(
        "--budget",
        choices=BUDGETS,
        default="zoo",
        help="zoo: the pretrained models, others quick (default) | quick presets | docs | small (smoke test)",
    )
    p.add_argument(
        "--runs", type=Path, default=Path("runs/docs"), help="where runs are trained or reused (default runs/docs)"
    )
    p.add_argument(
        "--docs", type=Path, default=DOCS, help="where figures/ and the rendered guides go (default: this folder)"
    )
    p.add_argument(
        "--render-only",
        action="store_true",
        help="only render the guides (English and Russian) from the existing figures.json; trains nothing",
    )
    a = p.parse_args(argv)

    import torch

    torch.set_num_threads(int(os.environ["GENLAB_THREADS"]))
    only = a.only or list(CHAPTERS)
    fig_json = a.docs / "figures" / "figures.json"
    figures = json.loads(fig_json.read_text()) if fig_json.is_file() else {}
    figures = {k: v for k, v in figures.items() if k in CHAPTERS}
    if not a.render_only:
        for key in only:
            c = Chapter(key, a.budget, a.runs, a.docs)
            if c.figdir.is_dir():
                shutil.rmtree(c.figdir)
            t0 = cpu_seconds()
            CHAPTERS[key][1](c)
            # the chapter's cost: the training of every run made by make_figures (also of reused runs)
            # plus this pass's commands; a pretrained model's training is in its manifest, not here
            runs_cpu = sum(
                v["cpu_s"]
                for v in c.nums.values()
                if isinstance(v, dict) and "preset_steps" in v and not v.get("pretrained")
            )
            c.nums["cpu_s"] = runs_cpu + cpu_seconds() - t0 - c.train_cpu
            c.nums["cpu_min"] = c.nums["cpu_s"] / 60
            c.nums["generated"] = _meta()
            c.nums["zoo"] = a.budget == "zoo"
            figures = save_chapter(fig_json, key, c.nums)
            print(f"[{key}] done in {c.nums['cpu_s']:.0f} CPU-s", flush=True)
    problems = render_all(a.docs, figures, [k for k in only if k in figures])
    for line in problems:
        print(f"make_figures: {line}", file=sys.stderr)
    return 1 if problems else 0


def save_chapter(fig_json: Path, key: str, nums: dict) -> dict:
    """Merge one chapter into figures.json (re-read first: several --only runs may share it)."""
    figures = json.loads(fig_json.read_text()) if fig_json.is_file() else {}
    figures = {k: v for k, v in figures.items() if k in CHAPTERS}
    figures[key] = nums
    fig_json.parent.mkdir(parents=True, exist_ok=True)
    tmp = fig_json.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(figures, indent=1, sort_keys=True, default=float) + "\n")
    tmp.replace(fig_json)
    return figures


def _meta() -> dict:
    import platform

    import torch

    from genlab import __version__

    return {
        "genlab": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d"),
    }


if __name__ == "__main__":
    sys.exit(main())
