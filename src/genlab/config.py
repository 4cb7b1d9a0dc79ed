"""Configs are dataclasses: presets are dicts of overrides, ``--set key=value`` is type-checked,
and every run saves its resolved config as YAML."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from genlab.errors import GenlabError


@dataclass
class TrainConfig:
    """Fields every trainable model shares. Families subclass this with their own fields."""

    data: str = "mnist"  # dataset name or path (see `genlab data list`)
    image_size: int = 28
    channels: int = 1
    steps: int = 1000
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | mps
    amp: str = "off"  # off | bf16 | auto: the training step under bfloat16 autocast (weights stay float32); auto: where the hardware has bf16
    log_every: int = 25
    sample_every: int = 0  # 0: only at the end
    ckpt_every: int = 500
    eval_every: int = 0  # 0: no periodic evaluation
    keep_checkpoints: int = 2
    tensorboard: bool = True
    wandb: bool = False
    progress: bool = True


AMP_MODES = ("off", "bf16", "auto")
_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off"}


def _field_type(cfg_cls, f):
    hints = typing.get_type_hints(cfg_cls)
    return hints.get(f.name, f.type)


def parse_value(raw: str, typ, key: str):
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if raw.lower() in ("none", "null", ""):
            return None
        return parse_value(raw, args[0], key)
    if origin in (tuple, list):
        (inner, *_) = typing.get_args(typ) or (str,)
        items = [parse_value(s.strip(), inner, key) for s in raw.split(",") if s.strip()]
        return tuple(items) if origin is tuple else items
    try:
        if typ is bool:
            low = raw.lower()
            if low in _BOOL_TRUE:
                return True
            if low in _BOOL_FALSE:
                return False
            raise ValueError
        if typ is int:
            return int(raw)
        if typ is float:
            return float(raw)
        if typ is str:
            return raw
    except ValueError:
        raise GenlabError(f"--set {key}={raw}: expected {typ.__name__}") from None
    raise GenlabError(f"--set {key}: unsupported type {typ}")


def apply_overrides(cfg, overrides: dict, source: str = "--set"):
    """Return a copy of ``cfg`` with ``overrides`` applied; values may be strings (from the CLI)."""
    valid = {f.name: f for f in fields(cfg)}
    changes = {}
    for key, value in overrides.items():
        key_n = key.replace("-", "_")
        if key_n not in valid:
            raise GenlabError(
                f"{source}: unknown config key '{key}' for {type(cfg).__name__}; valid keys: {', '.join(sorted(valid))}"
            )
        typ = _field_type(type(cfg), valid[key_n])
        if isinstance(value, str) and typ is not str:
            value = parse_value(value, typ, key)
        elif typ is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif typing.get_origin(typ) is tuple and isinstance(value, list):
            value = tuple(value)
        changes[key_n] = value
    return dataclasses.replace(cfg, **changes)


def parse_set_args(items: list[str] | None) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise GenlabError(f"--set {item}: expected key=value")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def validate_config(cfg) -> None:
    for name in ("steps", "batch_size"):
        if getattr(cfg, name, 1) <= 0:
            raise GenlabError(f"{name} must be positive, got {getattr(cfg, name)}")
    if getattr(cfg, "lr", 1.0) <= 0:
        raise GenlabError(f"lr must be positive, got {cfg.lr}")
    if getattr(cfg, "amp", "off") not in AMP_MODES:
        raise GenlabError(f"amp must be one of {', '.join(AMP_MODES)}, got '{cfg.amp}'")


def config_to_dict(cfg) -> dict:
    d = dataclasses.asdict(cfg)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def save_config_yaml(path: Path, model: str, preset: str, cfg) -> None:
    from genlab import __version__
    from genlab.utils.io import write_text_atomic

    doc = {"model": model, "preset": preset, "genlab_version": __version__, "config": config_to_dict(cfg)}
    write_text_atomic(path, yaml.safe_dump(doc, sort_keys=False))


def load_config_yaml(path: Path) -> dict:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise GenlabError(f"{path} not found; is this a genlab run folder?") from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise GenlabError(f"{path} is not valid YAML") from None
    if not isinstance(doc, dict) or "model" not in doc or not isinstance(doc.get("config"), dict):
        raise GenlabError(f"{path} is not a genlab run config")
    return doc
