"""The `genlab` command line (also `python -m genlab`).

Core commands live here; a model family or subsystem adds its own commands in a module listed
in ``EXTENSIONS`` that defines ``register(subparsers)``. Every user error is a one-line
message on stderr with exit code 2 (3 for a diverged training run), never a traceback.
This module is the top layer: nothing in genlab imports it (shared argparse helpers live in
``genlab.utils.cliargs``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import json
import sys
from pathlib import Path

from genlab import __version__
from genlab.errors import GenlabError
from genlab.utils.cliargs import Parser, add_actions, positive_int

#: modules that add subcommands (each defines ``register(subparsers)``); absent ones are skipped
EXTENSIONS = [
    "genlab.autoencoders.cli",
    "genlab.metrics.cli",
    "genlab.gans.cli",
    "genlab.rl.cli",
    "genlab.fewshot.cli",
    "genlab.multimodal.cli",
    "genlab.pipelines.cli",
    "genlab.app.cli",
    "genlab.zoo.cli",
]


@functools.cache
def model_options(command: str) -> dict[str, tuple]:
    """The flags of ``command`` (train, sample or eval) that only some models take, read from
    every model's ``Recipe.options``: name -> (the Option, its help with the models taking it)."""
    from genlab.registry import available_models, get_recipe

    found: dict[str, tuple] = {}
    helps: dict[str, dict[str, list[str]]] = {}
    for model in available_models():
        try:
            recipe = get_recipe(model)
        except ImportError:  # a family missing a dependency must not take the other models' flags down
            continue
        for o in recipe.options_for(command):
            first = found.setdefault(o.name, (o, model))
            if first[0].type is not o.type:
                raise TypeError(f"models {first[1]} and {model} give {o.flag} different types")
            helps.setdefault(o.name, {}).setdefault(o.help, []).append(model)
    return {
        name: (o, "; ".join(f"{h} [{', '.join(models)}]" for h, models in helps[name].items()))
        for name, (o, _) in found.items()
    }


def given_options(a, recipe, command: str) -> dict:
    """The model options set on the command line, checked against the ones ``recipe`` declares
    for ``command`` (one-line error naming the first it does not take and the ones it does)."""
    declared = model_options(command)
    given = {name: getattr(a, name) for name in declared if getattr(a, name, None) is not None}
    takes = recipe.options_for(command)
    unsupported = sorted(set(given) - {o.name for o in takes})
    if unsupported:
        flags = ", ".join(o.flag for o in takes) or "no options"
        raise GenlabError(f"model '{recipe.name}' does not take {declared[unsupported[0]][0].flag}; it takes: {flags}")
    return given


class CommandParser(Parser):
    """A command's parser. ``model_options_of`` (train, sample, eval) adds that command's model
    flags on first use, parsing or help, so that ``genlab --help`` loads no model."""

    def __init__(self, *args, model_options_of: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._model_options_of = model_options_of

    def _add_model_options(self) -> None:
        command, self._model_options_of = self._model_options_of, None
        if command is None:
            return
        group = self.add_argument_group("model options", "taken by the models in brackets")
        for name, (o, help_) in model_options(command).items():
            group.add_argument(o.flag, dest=name, type=o.type, help=help_)

    def parse_known_args(self, args=None, namespace=None):
        self._add_model_options()
        return super().parse_known_args(args, namespace)

    def format_usage(self):
        self._add_model_options()
        return super().format_usage()

    def format_help(self):
        self._add_model_options()
        return super().format_help()


def emit(obj: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(obj, sort_keys=True, default=float))
    else:
        for k, v in obj.items():
            print(f"{k:>24}: {v:.6g}" if isinstance(v, float) else f"{k:>24}: {v}")


# ----------------------------------------------------------------------------- train
def cmd_train(a):
    from genlab.config import parse_set_args
    from genlab.registry import get_recipe
    from genlab.train.engine import train

    overrides = parse_set_args(a.set)
    if a.steps is not None:
        overrides["steps"] = a.steps
    if a.seed is not None:
        overrides["seed"] = a.seed
    if a.data is not None:
        overrides["data"] = a.data
    overrides.update(given_options(a, get_recipe(a.model), "train"))
    store = train(a.model, a.preset, overrides, out=a.out, resume=a.resume)
    print(f"run saved in {store.path}")
    ev = store.read_eval()
    if ev:
        emit({k: v for k, v in ev.items() if isinstance(v, (int, float, str))}, False)


# ----------------------------------------------------------------------------- sample
def cmd_sample(a):
    import numpy as np
    import torch

    from genlab.train.engine import load_run
    from genlab.train.recipe import in_chunks
    from genlab.utils.images import save_grid, to_uint8
    from genlab.utils.io import write_npy_atomic

    if not a.out.endswith(".npy"):
        raise GenlabError(f"--out must be a .npy file, got {a.out}")
    recipe, store, _ = load_run(a.run, device=a.device)
    if not recipe.can_sample:
        raise GenlabError(f"model '{recipe.name}' does not generate samples")
    opts = given_options(a, recipe, "sample")
    g = torch.Generator().manual_seed(a.seed)
    with torch.no_grad():
        arr = np.concatenate(
            [to_uint8(x) for x in in_chunks(lambda k, _: recipe.sample(k, generator=g, **opts), a.n, a.batch)]
        )
    write_npy_atomic(a.out, arr)
    if a.png:
        save_grid(a.png, arr[:256])
    print(f"wrote {arr.shape} uint8 samples to {a.out}" + (f" and a grid to {a.png}" if a.png else ""))


# ----------------------------------------------------------------------------- eval
def cmd_eval(a):
    if a.samples is not None:
        return cmd_eval_samples(a)
    if a.labels is not None:
        raise GenlabError("--labels goes with --samples FILE.npy")
    from genlab.train.engine import load_run

    if a.run is None:
        raise GenlabError("give a RUN_DIR to evaluate (or --samples FILE.npy)")
    recipe, store, meta = load_run(a.run, device=a.device, which=a.checkpoint)
    opts = given_options(a, recipe, "eval")
    metrics = recipe.evaluate(recipe.load_data() if recipe.uses_dataset else None, **opts)
    metrics = {"run": str(store.path), "step": meta.get("step"), **metrics}
    emit(metrics, a.json)


def cmd_eval_samples(a):
    """Score any array of samples against the held-out digits (FID, KID, IS, precision/recall, ...)."""
    from genlab.metrics.quality import sample_quality
    from genlab.metrics.samples import load_labels, load_samples

    if a.run is not None:
        raise GenlabError("give either RUN_DIR or --samples FILE.npy, not both")
    x = load_samples(a.samples)
    y = load_labels(a.labels, len(x)) if a.labels is not None else None
    emit({"samples": str(a.samples), **sample_quality(x, y)}, a.json)


# ----------------------------------------------------------------------------- runs
def cmd_runs_list(a):
    from genlab.config import load_config_yaml
    from genlab.train.runstore import RunStore, list_runs

    runs = list_runs(a.root)
    if a.json:
        print(json.dumps({"runs": [str(r) for r in runs]}))
        return
    if not runs:
        print(f"no runs under {a.root or 'runs'}; train one with 'genlab train ae'")
    for r in runs:
        doc = load_config_yaml(r / "config.yaml")
        rows = RunStore(r).read_metrics()
        step = rows[-1].get("step", 0) if rows else 0
        print(f"{str(r):<48} {doc['model']:<12} preset={doc.get('preset', '?'):<6} step={step}")


def cmd_runs_show(a):
    from genlab.config import load_config_yaml
    from genlab.train.checkpoint import list_checkpoints
    from genlab.train.runstore import require_run

    store = require_run(a.run)
    doc = load_config_yaml(store.config_path)
    rows = store.read_metrics()
    out = {
        "run": str(store.path),
        "model": doc["model"],
        "preset": doc.get("preset"),
        "config": doc["config"],
        "checkpoints": [p.name for p in list_checkpoints(store.ckpt_dir)],
        "last_metrics": rows[-1] if rows else {},
        "eval": store.read_eval() or {},
    }
    print(json.dumps(out, indent=None if a.json else 2, sort_keys=True))


# ----------------------------------------------------------------------------- data
def cmd_data_list(a):
    from genlab.data.datasets import list_datasets

    for name in list_datasets():
        print(name)


def _data_info(name: str) -> dict:
    if name == "omniglot":
        from genlab.data.omniglot import load_omniglot

        o = load_omniglot()
        return {
            "name": "omniglot",
            "source": "Omniglot background sets (small1+small2), MIT licence, Lake et al. 2015",
            "images": int(len(o.images)),
            "characters": len(o.names),
            "alphabets": o.alphabets,
            "shape": list(o.images.shape[1:]),
        }
    from genlab.data.datasets import load_dataset

    return load_dataset(name).info()


def cmd_data_info(a):
    print(json.dumps(_data_info(a.name), indent=None if a.json else 2))


def cmd_data_export(a):
    from genlab.data.datasets import load_dataset
    from genlab.data.idx import write_idx
    from genlab.utils.images import to_uint8
    from genlab.utils.io import ensure_writable_dir

    data = load_dataset(a.name)
    out = ensure_writable_dir(a.out)
    gz = ".gz" if a.gzip else ""
    write_idx(out / f"train-images-idx3-ubyte{gz}", to_uint8(data.x_train), compress=a.gzip)
    write_idx(out / f"train-labels-idx1-ubyte{gz}", data.y_train.numpy().astype("uint8"), compress=a.gzip)
    write_idx(out / f"t10k-images-idx3-ubyte{gz}", to_uint8(data.x_test), compress=a.gzip)
    write_idx(out / f"t10k-labels-idx1-ubyte{gz}", data.y_test.numpy().astype("uint8"), compress=a.gzip)
    print(f"wrote {len(data.x_train)} train and {len(data.x_test)} held-out images as IDX files to {out}")


def cmd_data_download(a):
    from genlab.data.download import download

    path = download(a.name, base_url=a.base_url, checksums=a.checksums)
    print(f"{a.name} ready in {path}")


# ----------------------------------------------------------------------------- import
def cmd_import(a):
    """Turn weights trained elsewhere (e.g. the book's code + torch.save) into a genlab run."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from genlab.config import save_config_yaml
    from genlab.registry import get_recipe
    from genlab.train.checkpoint import PICKLE_SUFFIXES, load_pickle_weights
    from genlab.train.engine import build_config, save_run_checkpoint
    from genlab.train.runstore import RunStore
    from genlab.utils.io import ensure_writable_dir
    from genlab.zoo.manifest import refuse_write

    refuse_write(a.out, "import weights into it")
    path = Path(a.weights)
    if not path.is_file():
        raise GenlabError(f"weights file not found: {path}")
    if path.suffix in PICKLE_SUFFIXES:
        weights = load_pickle_weights(path, trust=a.trust_pickle)
    else:
        try:
            weights = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise GenlabError(f"{path} is not a readable safetensors file ({e})") from None
    recipe_cls = get_recipe(a.model)
    cfg = build_config(recipe_cls, a.preset, {})
    recipe = recipe_cls(cfg, "cpu")
    net = recipe.nets[a.net] if a.net in recipe.nets else None
    if net is None:
        raise GenlabError(f"model {a.model} has no network '{a.net}'; it has: {', '.join(recipe.nets)}")
    try:
        net.load_state_dict(weights, strict=not a.partial)
    except RuntimeError as e:
        detail = " ".join(x.strip() for x in str(e).splitlines() if x.strip())
        raise GenlabError(f"the weights do not fit {a.model} (preset {a.preset}): {detail[:200]}") from None
    store = RunStore(a.out)
    ensure_writable_dir(store.path)
    store.create()
    save_config_yaml(store.config_path, a.model, a.preset, cfg)
    save_run_checkpoint(recipe, store, 0, cfg, a.model)
    print(f"imported {path} into run {store.path} (evaluate with: genlab eval {store.path})")


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from genlab.registry import available_models

    p = Parser(
        prog="genlab",
        description="Generative models and advanced techniques, for real: train, sample, evaluate, explore.",
    )
    p.add_argument("--version", action="version", version=f"genlab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    sub.required = True

    t = sub.add_parser(
        "train",
        help="train a model",
        description="Train MODEL; writes a run folder (config.yaml, checkpoints/, metrics.jsonl, samples/, plots/).",
        model_options_of="train",
    )
    t.add_argument("model", metavar="MODEL", help=f"one of: {', '.join(available_models())}")
    t.add_argument("--preset", default="quick", help="quick (minutes on a laptop) | full | book (the textbook's model)")
    t.add_argument("--steps", type=positive_int, help="number of optimisation steps")
    t.add_argument("--out", help="run folder (default runs/MODEL-TIMESTAMP)")
    t.add_argument("--seed", type=int)
    t.add_argument("--data", help="dataset name or path (see 'genlab data list')")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field (repeatable)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last good checkpoint")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser(
        "sample",
        help="generate images from a trained run",
        description="Write N samples as a uint8 .npy array (N, H, W) or (N, C, H, W), ink bright on dark.",
        model_options_of="sample",
    )
    s.add_argument("run", metavar="RUN_DIR")
    s.add_argument("--n", type=positive_int, required=True, help="number of images")
    s.add_argument("--out", required=True, help="output .npy file")
    s.add_argument("--png", help="also write a grid of (up to 256) samples as PNG")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--batch", type=positive_int, default=256, help="images generated per forward pass")
    s.add_argument("--device", default="cpu")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser(
        "eval",
        help="metrics of a run on the held-out split, or of any sample array",
        description="Evaluate a run on held-out data, or score a .npy of samples (FID with its floor, KID, IS, precision/recall, coverage) with genlab's MNIST evaluator.",
        model_options_of="eval",
    )
    e.add_argument("run", metavar="RUN_DIR", nargs="?")
    e.add_argument(
        "--samples",
        metavar="FILE.npy",
        help="score these images instead of a run: (N, 28, 28) uint8 0..255 or float 0..1",
    )
    e.add_argument(
        "--labels", metavar="FILE.npy", help="with --samples: the class each image was asked to show (adds label_acc)"
    )
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--checkpoint", choices=["latest", "best"], default="latest")
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=cmd_eval)

    r = sub.add_parser("runs", help="list and inspect runs")
    rs = add_actions(r, "runs_command")
    rl = rs.add_parser("list", help="list runs")
    rl.add_argument("--root", help="runs folder (default ./runs or $GENLAB_RUNS)")
    rl.add_argument("--json", action="store_true")
    rl.set_defaults(func=cmd_runs_list)
    rsh = rs.add_parser("show", help="config, checkpoints and metrics of one run")
    rsh.add_argument("run", metavar="RUN_DIR")
    rsh.add_argument("--json", action="store_true")
    rsh.set_defaults(func=cmd_runs_show)

    d = sub.add_parser("data", help="datasets: list, info, export, download")
    ds = add_actions(d, "data_command")
    ds.add_parser("list", help="datasets genlab knows").set_defaults(func=cmd_data_list)
    di = ds.add_parser("info", help="size, shape and classes of a dataset")
    di.add_argument("name")
    di.add_argument("--json", action="store_true")
    di.set_defaults(func=cmd_data_info)
    de = ds.add_parser("export", help="write a dataset as standard IDX files")
    de.add_argument("name")
    de.add_argument("--out", required=True)
    de.add_argument("--gzip", action="store_true")
    de.set_defaults(func=cmd_data_export)
    dd = ds.add_parser("download", help="download MNIST or Fashion-MNIST (verified, atomic)")
    dd.add_argument("name", choices=["mnist", "mnist-full", "fashion-mnist"])
    dd.add_argument("--base-url", help="mirror to download from")
    dd.add_argument("--checksums", help="JSON file {filename: md5} overriding the known checksums")
    dd.set_defaults(func=cmd_data_download)

    im = sub.add_parser(
        "import",
        help="make a run from weights trained elsewhere (safetensors; pickles only with --trust-pickle)",
        description="Load a state dict into MODEL's network and save it as a genlab run. Pickle-based files (.pt, .pth, .pkl, .ckpt) can run code when loaded: they are refused unless --trust-pickle is given, and then read with weights_only=True.",
    )
    im.add_argument("model", metavar="MODEL")
    im.add_argument("weights", metavar="WEIGHTS_FILE")
    im.add_argument("--out", required=True, help="new run folder")
    im.add_argument("--preset", default="book", help="preset whose architecture the weights fit (default: book)")
    im.add_argument("--net", default="model", help="which network of the model receives the weights")
    im.add_argument("--partial", action="store_true", help="allow missing/unexpected keys")
    im.add_argument(
        "--trust-pickle", action="store_true", help="allow a pickle-based file (loaded with weights_only=True)"
    )
    im.set_defaults(func=cmd_import)

    for mod in EXTENSIONS:
        if importlib.util.find_spec(mod.rsplit(".", 1)[0]) is not None and importlib.util.find_spec(mod) is not None:
            importlib.import_module(mod).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
        return 0
    except GenlabError as e:
        print(f"genlab: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("genlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
