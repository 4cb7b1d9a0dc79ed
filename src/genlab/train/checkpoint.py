"""Checkpoints: safetensors for every tensor, a JSON sidecar for everything else.

A checkpoint ``step_000500`` is two files, ``step_000500.safetensors`` and
``step_000500.json``. Both are written atomically, tensors first; the sidecar carries the
SHA-256 of the tensor file, so a checkpoint counts only when its sidecar exists and the
checksum matches. Nothing is ever unpickled: optimiser and RNG states are flattened into
tensors plus a JSON skeleton.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from genlab.errors import GenlabError
from genlab.utils.io import write_bytes_atomic, write_json_atomic

FORMAT = "genlab-checkpoint-1"
PICKLE_SUFFIXES = {".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin"}


def flatten(obj, prefix: str, tensors: dict):
    """Replace tensors inside nested dicts/lists with references; collect them in ``tensors``."""
    if isinstance(obj, torch.Tensor):
        key = prefix if prefix not in tensors else f"{prefix}#{len(tensors)}"
        t = obj.detach().cpu().contiguous()
        if (
            t.untyped_storage().nbytes() != t.numel() * t.element_size()
        ):  # a view into a larger buffer (safetensors stores no shared memory)
            t = t.clone()
        tensors[key] = t
        return {"__tensor__": key}
    if isinstance(obj, dict):
        items = []
        for i, (k, v) in enumerate(obj.items()):
            name = k if isinstance(k, str) and k else f"#{i}"  # readable tensor names (state-dict keys)
            items.append([flatten(k, f"{prefix}.#k{i}", tensors), flatten(v, f"{prefix}.{name}", tensors)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        return {
            "__list__" if isinstance(obj, list) else "__tuple__": [
                flatten(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)
            ]
        }
    if isinstance(obj, (int, float, str, bool)) or obj is None:
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint")


def unflatten(obj, tensors: dict):
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__dict__" in obj:
            return {unflatten(k, tensors): unflatten(v, tensors) for k, v in obj["__dict__"]}
        if "__list__" in obj:
            return [unflatten(v, tensors) for v in obj["__list__"]]
        if "__tuple__" in obj:
            return tuple(unflatten(v, tensors) for v in obj["__tuple__"])
    return obj


def save_checkpoint(path_stem: Path, state: dict, meta: dict) -> Path:
    """Write ``state`` (nested dicts of tensors and plain values) and ``meta`` atomically."""
    path_stem = Path(path_stem)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten(state, "s", tensors)
    data = st_save(tensors)
    write_bytes_atomic(path_stem.with_suffix(".safetensors"), data)
    sidecar = {
        "format": FORMAT,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "skeleton": skeleton,
        **meta,
    }
    write_json_atomic(path_stem.with_suffix(".json"), sidecar)
    return path_stem


def read_sidecar(path_stem: Path) -> dict:
    side = Path(path_stem).with_suffix(".json")
    try:
        meta = json.loads(side.read_text())
    except FileNotFoundError:
        raise GenlabError(f"checkpoint sidecar {side} is missing; the checkpoint is incomplete") from None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        raise GenlabError(f"checkpoint sidecar {side} is corrupt; use an earlier checkpoint") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise GenlabError(f"{side} is not a genlab checkpoint sidecar")
    return meta


def load_checkpoint(path_stem: Path) -> tuple[dict, dict]:
    """Load and verify a checkpoint; returns (state, meta). Raises GenlabError if damaged."""
    path_stem = Path(path_stem)
    if path_stem.suffix in PICKLE_SUFFIXES:
        raise GenlabError(
            f"{path_stem} is a pickle-based file; genlab loads only safetensors checkpoints (use --trust-pickle to import it)"
        )
    meta = read_sidecar(path_stem)
    st = path_stem.with_suffix(".safetensors")
    try:
        data = st.read_bytes()
    except FileNotFoundError:
        raise GenlabError(f"checkpoint file {st} is missing") from None
    if len(data) != meta.get("bytes") or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise GenlabError(
            f"checkpoint {st} is truncated or tampered with (checksum mismatch); use an earlier checkpoint"
        )
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise GenlabError(f"checkpoint {st} cannot be read ({e}); use an earlier checkpoint") from None
    try:
        state = unflatten(meta["skeleton"], tensors)
    except (KeyError, TypeError):
        raise GenlabError(f"checkpoint {st} does not match its sidecar; use an earlier checkpoint") from None
    return state, meta


def load_pickle_weights(path, trust: bool) -> dict:
    """Import a pickle-based state dict, only when the user says they trust it, and only tensors."""
    if not trust:
        raise GenlabError(
            f"{path} is a pickle-based file, which can run code when loaded; pass --trust-pickle if you trust its source"
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure of an untrusted file is a user-facing error
        raise GenlabError(
            f"cannot load {path} with weights_only=True ({type(e).__name__}); it is not a plain state dict"
        ) from None
    if not isinstance(obj, dict):
        raise GenlabError(f"{path} does not hold a state dict")
    return obj


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoint stems in ``folder`` with both files present, newest step first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stems = [p.with_suffix("") for p in folder.glob("step_*.json") if p.with_suffix(".safetensors").exists()]
    return sorted(stems, key=lambda p: p.name, reverse=True)


def latest_good_checkpoint(folder: Path) -> tuple[Path, dict, dict] | None:
    """The newest checkpoint that verifies; damaged ones are skipped (with a warning)."""
    import sys

    for stem in list_checkpoints(folder):
        try:
            state, meta = load_checkpoint(stem)
            return stem, state, meta
        except GenlabError as e:
            print(f"genlab: skipping damaged checkpoint: {e}", file=sys.stderr)
    return None
