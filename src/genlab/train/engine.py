"""The training engine, written once for every family.

``train()`` resolves the config, creates the run folder, seeds every RNG, feeds batches from
the in-memory dataset (sharded per rank under torchrun), calls the recipe's ``train_step``,
and handles the progress bar, metrics.jsonl / TensorBoard / W&B logging, sample grids,
atomic checkpoints, ``--resume``, Ctrl-C and non-finite losses. It keeps ``status.json`` in the
run folder up to date (training, evaluating, done or failed: ``runstore.run_status`` reads it).
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

from genlab.config import apply_overrides, load_config_yaml, save_config_yaml, validate_config
from genlab.errors import GenlabError, TrainingDiverged
from genlab.registry import get_recipe
from genlab.train.checkpoint import latest_good_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from genlab.train.distributed import DistInfo, all_reduce_mean, broadcast_parameters, cleanup, init_distributed
from genlab.train.runstore import RunStore, StatusWriter, new_run_dir, require_run
from genlab.utils.io import ensure_writable_dir
from genlab.utils.runtime import pick_device, seed_everything, set_threads, use_amp

FIXED_NOISE_OFFSET = 12345


def build_config(recipe_cls, preset: str = "quick", overrides: dict | None = None):
    if preset not in recipe_cls.presets:
        raise GenlabError(
            f"model {recipe_cls.name} has no preset '{preset}'; choose one of: {', '.join(recipe_cls.presets)}"
        )
    cfg = apply_overrides(recipe_cls.Config(), recipe_cls.presets[preset], source=f"preset {preset}")
    cfg = apply_overrides(cfg, overrides or {})
    validate_config(cfg)
    return cfg


class Batches:
    """Stateless batch order: the batch at step s depends only on (seed, s), so resume is exact.

    Under DDP each rank takes its contiguous slice of the same global batch.
    """

    def __init__(self, n: int, batch_size: int, seed: int, dist: DistInfo):
        if n <= 0:
            raise GenlabError("the training split is empty")
        if batch_size % dist.world:
            raise GenlabError(f"batch_size {batch_size} is not divisible by {dist.world} processes")
        self.n, self.batch, self.seed, self.dist = n, min(batch_size, n - n % dist.world or n), seed, dist
        self.per_epoch = max(1, n // self.batch)
        self._epoch, self._perm = -1, None

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm, self._epoch = torch.randperm(self.n, generator=g), epoch
        idx = self._perm[i * self.batch : (i + 1) * self.batch]
        return idx.view(self.dist.world, -1)[self.dist.rank]


def rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "python": list(random.getstate()[1]),
    }


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(("MT19937", s["numpy_keys"].numpy().astype(np.uint32), s["numpy_pos"], 0, 0.0))
    random.setstate((3, tuple(s["python"]), None))


class _StopFlag:
    """Ctrl-C / SIGTERM set a flag; the loop saves a checkpoint after the current step and exits."""

    def __init__(self):
        self.signal = None
        self._old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signal is not None:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)


class Logger:
    """metrics.jsonl always; TensorBoard and W&B when enabled and installed (main rank only)."""

    def __init__(self, store: RunStore, cfg, enabled: bool):
        self.store, self.enabled, self.tb, self.wandb = store, enabled, None, None
        if not enabled:
            return
        if cfg.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(store.path / "tb"))
            except ImportError:
                print("genlab: tensorboard is not installed; logging to metrics.jsonl only", file=sys.stderr)
        if cfg.wandb:
            try:
                import os

                import wandb

                os.environ.setdefault("WANDB_MODE", "offline")
                self.wandb = wandb.init(project="genlab", dir=str(store.path), config=vars(cfg), name=store.path.name)
            except ImportError:
                print("genlab: wandb is not installed (pip install 'genlab[wandb]'); skipping it", file=sys.stderr)

    def log(self, record: dict) -> None:
        if not self.enabled:
            return
        self.store.append_metrics(record)
        step = record["step"]
        for k, v in record.items():
            if k != "step" and isinstance(v, (int, float)):
                if self.tb is not None:
                    self.tb.add_scalar(k, v, step)
        if self.wandb is not None:
            self.wandb.log(record, step=step)

    def close(self):
        if self.tb is not None:
            self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()


def _scalar(v) -> float:
    return float(v.detach().item()) if isinstance(v, torch.Tensor) else float(v)


def save_run_checkpoint(
    recipe, store: RunStore, step: int, cfg, model: str, stem_name: str | None = None, extra_meta: dict | None = None
) -> None:
    """Checkpoint ``recipe`` (and the RNG state) into ``store`` as step ``step`` (or as ``stem_name``,
    e.g. "best"); a step checkpoint also drops the oldest beyond ``cfg.keep_checkpoints``."""
    state = {"recipe": recipe.state(), "rng": rng_state()}
    stem = store.ckpt_dir / (stem_name or f"step_{step:07d}")
    save_checkpoint(stem, state, {"step": step, "model": model, "time": time.time(), **(extra_meta or {})})
    if stem_name is None:
        for old in list_checkpoints(store.ckpt_dir)[cfg.keep_checkpoints :]:
            for suffix in (".json", ".safetensors"):  # sidecar first: the stem stops counting at once
                old.with_suffix(suffix).unlink(missing_ok=True)


def save_sample_grid(recipe, path: Path, n: int = 64, seed: int = 0) -> None:
    from genlab.utils.images import save_grid

    recipe.train_mode(False)
    with torch.no_grad():
        x = recipe.sample(n, generator=torch.Generator(device="cpu").manual_seed(seed))
    recipe.train_mode(True)
    save_grid(path, x, nrow=int(math.sqrt(n)))


def step_context(cfg, device: torch.device):
    """What each training step runs inside (a factory of context managers): bfloat16 autocast
    when the config's ``amp`` resolves on (mixed precision: docs/ARCHITECTURE.md), else nothing
    (not even a disabled autocast: ~3 us a step, on the DQN's ~0.8 ms steps)."""
    if use_amp(cfg.amp, device):
        return functools.partial(torch.autocast, device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def train(model: str, preset: str = "quick", overrides: dict | None = None, out=None, resume: bool = False) -> RunStore:
    recipe_cls = get_recipe(model)
    set_threads()
    if out is not None:
        from genlab.zoo.manifest import refuse_write

        refuse_write(out, "train into it or resume it")
    if resume:
        if out is None:
            raise GenlabError("--resume needs --out RUN_DIR (the run to continue)")
        store = require_run(out)
        doc = load_config_yaml(store.config_path)
        if doc["model"] != model:
            raise GenlabError(f"{out} is a '{doc['model']}' run, not '{model}'")
        preset = doc.get("preset", preset)
        cfg = apply_overrides(
            apply_overrides(recipe_cls.Config(), doc["config"], source=str(store.config_path)), overrides or {}
        )
        validate_config(cfg)
    else:
        cfg = build_config(recipe_cls, preset, overrides)
    device = pick_device(cfg.device)
    dist = init_distributed(device)
    if dist.enabled and out is None:
        raise GenlabError("under torchrun pass --out RUN_DIR so every process writes to the same run")
    store = RunStore(out) if out is not None else RunStore(new_run_dir(model))
    if dist.is_main:
        ensure_writable_dir(store.path)
        if not resume and list_checkpoints(store.ckpt_dir):
            raise GenlabError(f"{store.path} already holds a run; use --resume to continue it or choose another --out")
        store.create()
        save_config_yaml(store.config_path, model, preset, cfg)
    status = StatusWriter(store, cfg.steps, enabled=dist.is_main)
    try:
        return _run(recipe_cls, model, cfg, store, device, dist, resume, status)
    except BaseException as e:
        status.failed(e)
        raise
    finally:
        cleanup(dist)


def _run(recipe_cls, model, cfg, store, device, dist, resume, status: StatusWriter) -> RunStore:
    seed_everything(cfg.seed)
    recipe = recipe_cls(cfg, device, dist)
    broadcast_parameters(recipe.nets.values(), dist)
    data = recipe.load_data() if recipe.uses_dataset else None
    if data is not None and not torch.isfinite(data.x_train).all():
        raise GenlabError("the training images contain NaN or Inf; clean the dataset")
    start = 0
    if resume:
        found = latest_good_checkpoint(store.ckpt_dir)
        if found is not None:
            stem, state, meta = found
            recipe.load_state(state["recipe"])
            set_rng_state(state["rng"])
            start = int(meta["step"])
            if dist.is_main:
                store.truncate_metrics(start)
                print(f"genlab: resuming {store.path} from step {start} ({stem.name})", file=sys.stderr)
    if start == 0:
        seed_everything(cfg.seed + 7919 * dist.rank)  # per-rank training randomness after identical init
    batches = Batches(len(data.x_train), cfg.batch_size, cfg.seed, dist) if data is not None else None
    logger = Logger(store, cfg, dist.is_main)
    from tqdm.auto import tqdm

    bar = tqdm(
        total=cfg.steps,
        initial=start,
        desc=f"{model}",
        disable=not (cfg.progress and dist.is_main),
        dynamic_ncols=True,
        leave=True,
        file=sys.stderr,
    )
    sums: dict[str, float] = {}
    count, t0, best = 0, time.time(), -math.inf
    cpu0 = time.process_time()
    in_step = step_context(cfg, device)
    if in_step is not contextlib.nullcontext and dist.is_main and cfg.amp == "auto":
        print(
            f"genlab: amp=auto: training steps under bfloat16 autocast ({device.type} with native bf16)",
            file=sys.stderr,
        )
    recipe.train_mode(True)
    step = start
    status.set("training", step)
    with _StopFlag() as stop:
        try:
            while step < cfg.steps:
                batch = None
                if batches is not None:
                    idx = batches.indices(step)
                    batch = (
                        data.x_train[idx].to(device, non_blocking=True),
                        data.y_train[idx].to(device, non_blocking=True),
                    )
                with in_step():
                    logs = recipe.train_step(batch, step)
                loss = _scalar(logs["loss"])
                if not math.isfinite(loss):
                    raise TrainingDiverged(
                        f"loss became {loss} at step {step + 1}; the run stopped and the last good checkpoint in {store.ckpt_dir} is kept (try a lower lr)"
                    )
                step += 1
                status.progress(step)
                for k, v in logs.items():
                    sums[k] = sums.get(k, 0.0) + _scalar(v)
                count += 1
                bar.update(1)
                if step % cfg.log_every == 0 or step == cfg.steps:
                    means = {k: all_reduce_mean(v / count, dist) for k, v in sums.items()}
                    rec = {"step": step, **means, "elapsed_s": round(time.time() - t0, 3)}
                    logger.log(rec)
                    bar.set_postfix(
                        {k: f"{v:.4g}" for k, v in rec.items() if k not in ("step", "elapsed_s")}, refresh=False
                    )
                    sums, count = {}, 0
                if cfg.eval_every and step % cfg.eval_every == 0:
                    recipe.train_mode(False)
                    ev = recipe.periodic_eval(step)
                    recipe.train_mode(True)
                    if ev:
                        logger.log({"step": step, **ev})
                        if dist.is_main and "score" in ev and ev["score"] > best:
                            best = ev["score"]
                            save_run_checkpoint(
                                recipe, store, step, cfg, model, stem_name="best", extra_meta={"score": best}
                            )
                if dist.is_main and cfg.sample_every and step % cfg.sample_every == 0 and recipe.can_sample:
                    save_sample_grid(
                        recipe, store.samples_dir / f"step_{step:07d}.png", seed=cfg.seed + FIXED_NOISE_OFFSET
                    )
                if step == cfg.steps:
                    recipe.finish_training(step)
                if dist.is_main and (step % cfg.ckpt_every == 0 or step == cfg.steps):
                    save_run_checkpoint(recipe, store, step, cfg, model)
                if stop.signal is not None:
                    if dist.is_main:
                        save_run_checkpoint(recipe, store, step, cfg, model)
                    bar.close()
                    raise GenlabError(
                        f"interrupted at step {step}; checkpoint saved, continue with: genlab train {model} --out {store.path} --resume"
                    )
        finally:
            bar.close()
            logger.close()
    if dist.is_main:
        status.set("evaluating", step)
        finish_run(recipe, store, cfg, train_cpu_s=time.process_time() - cpu0)
        status.set("done", step)
    return store


def finish_run(recipe, store: RunStore, cfg, train_cpu_s: float | None = None) -> None:
    """Final sample grid, progress GIF, held-out evaluation and loss plots. eval.json records the
    CPU seconds of this process's training steps (``train_cpu_s``) and of the evaluation."""
    from genlab.train.plots import plot_metrics
    from genlab.utils.io import write_json_atomic

    recipe.train_mode(False)
    if recipe.can_sample:
        save_sample_grid(recipe, store.samples_dir / "final.png", seed=cfg.seed + FIXED_NOISE_OFFSET)
        _progress_gif(store)
    # no torch.no_grad() here: some evaluations need gradients (MAML's inner loop, fine-tuning)
    cpu0 = time.process_time()
    metrics = recipe.evaluate(recipe.load_data() if recipe.uses_dataset else None)
    if metrics:
        cpu = {"train_cpu_s": round(train_cpu_s, 3)} if train_cpu_s is not None else {}
        write_json_atomic(store.eval_path, {**metrics, **cpu, "eval_cpu_s": round(time.process_time() - cpu0, 3)})
    with torch.no_grad():
        recipe.figures(store)
    plot_metrics(store.read_metrics(), store.plots_dir / "metrics.png", title=store.path.name)


def _progress_gif(store: RunStore) -> None:
    from PIL import Image

    from genlab.utils.images import save_gif

    frames = sorted(store.samples_dir.glob("step_*.png"))
    if len(frames) >= 2:
        save_gif(
            store.samples_dir / "progress.gif", [np.asarray(Image.open(f)) for f in frames], duration_ms=300, scale=1
        )


def load_run(path, device: str = "cpu", which: str = "latest"):
    """Rebuild a trained recipe from its run folder (or ``pretrained:NAME``): (recipe, store, checkpoint meta)."""
    store = require_run(path)
    doc = load_config_yaml(store.config_path)
    recipe_cls = get_recipe(doc["model"])
    cfg = apply_overrides(recipe_cls.Config(), doc["config"], source=str(store.config_path))
    set_threads()
    recipe = recipe_cls(cfg, pick_device(device))
    if which == "best" and (store.ckpt_dir / "best.json").exists():
        stem = store.ckpt_dir / "best"
        state, meta = load_checkpoint(stem)
    else:
        stems = list_checkpoints(store.ckpt_dir)
        if not stems:
            raise GenlabError(f"{store.path} has no checkpoint yet; train it first")
        state, meta = load_checkpoint(stems[0])  # newest; a damaged one is reported, not skipped silently
    if meta.get("inference_only"):  # a zoo checkpoint: aliased nets and float16 back to what load_state takes
        from genlab.zoo.weights import inflate

        state = {**state, "recipe": inflate(state["recipe"], meta)}
    recipe.load_state(state["recipe"], with_optimizers=False)
    recipe.train_mode(False)
    return recipe, store, meta
