"""Where the zoo lives, its manifest, and ``pretrained:NAME`` -> a run folder.

The zoo is a folder holding ``manifest.json`` and ``weights/NAME/`` (a minimal run folder per
model: config.yaml, pretrained.json and one inference-only checkpoint). The shipped zoo is this
package's folder; ``GENLAB_ZOO`` points genlab at another one (a zoo built elsewhere, or the
temporary zoos of the tests).

A pretrained run folder is read-only: :func:`refuse_write` is called by every command that
would write into a run folder (training with ``--out``/``--resume``, the default report folder).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from genlab.errors import GenlabError

PREFIX = "pretrained:"
FORMAT = "genlab-zoo-1"
#: the marker file in every zoo run folder (the manifest entry it was built with)
MARKER = "pretrained.json"
#: the most the weights of all zoo models together may take (bytes): the repository's budget
MAX_TOTAL_BYTES = 30_000_000


def zoo_dir() -> Path:
    """The zoo in use: $GENLAB_ZOO, else the one shipped inside the package."""
    env = os.environ.get("GENLAB_ZOO", "").strip()
    return Path(env) if env else Path(__file__).resolve().parent


def manifest_path(root=None) -> Path:
    return Path(root or zoo_dir()) / "manifest.json"


def weights_dir(root=None) -> Path:
    return Path(root or zoo_dir()) / "weights"


def empty_manifest() -> dict:
    return {"format": FORMAT, "max_total_bytes": MAX_TOTAL_BYTES, "models": {}}


def load_manifest(root=None) -> dict:
    """The manifest of the zoo at ``root`` (default :func:`zoo_dir`); an empty one when the file is absent."""
    path = manifest_path(root)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return empty_manifest()
    except (OSError, ValueError) as e:
        raise GenlabError(
            f"the zoo manifest {path} is unreadable ({type(e).__name__}); reinstall genlab or rebuild it with 'genlab pretrained build'"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("models"), dict):
        raise GenlabError(
            f"{path} is not a genlab zoo manifest ({FORMAT}); reinstall genlab or rebuild it with 'genlab pretrained build'"
        )
    return doc


def save_manifest(doc: dict, root=None) -> None:
    from genlab.utils.io import write_json_atomic

    write_json_atomic(manifest_path(root), doc)


def entry(name: str, root=None) -> dict:
    """The manifest entry of ``name``; a one-line error naming the models there are when it is absent."""
    models = load_manifest(root)["models"]
    if name not in models:
        have = ", ".join(sorted(models)) or "none yet"
        raise GenlabError(
            f"no pretrained model '{name}' in the zoo {zoo_dir() if root is None else root} (it has: {have}); "
            f"build it with 'genlab pretrained build {name}' or see 'genlab pretrained list'"
        )
    return models[name]


def available(root=None) -> list[str]:
    """Names of the zoo models whose weights are present (not verified: :func:`resolve` does that)."""
    wd = weights_dir(root)
    return sorted(n for n, e in load_manifest(root)["models"].items() if (wd / n / "checkpoints" / e["file"]).is_file())


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _verified(path: str, size: int, mtime_ns: int, sha256: str) -> bool:
    """Once per process and file version: does the file hash to ``sha256``?"""
    return file_sha256(path) == sha256


def verify(name: str, root=None) -> Path:
    """The run folder of zoo model ``name``, after checking its weights' size and sha256 against the manifest."""
    e = entry(name, root)
    run = weights_dir(root) / name
    weights = run / "checkpoints" / e["file"]
    how = f"reinstall genlab or rebuild it with 'genlab pretrained build {name}'"
    try:
        st = weights.stat()
    except FileNotFoundError:
        raise GenlabError(f"the weights of pretrained model '{name}' are missing ({weights}); {how}") from None
    if st.st_size != e["bytes"] or not _verified(str(weights), st.st_size, st.st_mtime_ns, e["sha256"]):
        raise GenlabError(
            f"the weights of pretrained model '{name}' are damaged ({weights}: sha256 does not match the manifest); {how}"
        )
    sidecar = weights.with_suffix(".json")
    try:
        sst = sidecar.stat()
    except FileNotFoundError:
        raise GenlabError(
            f"the checkpoint sidecar of pretrained model '{name}' is missing ({sidecar}); {how}"
        ) from None
    if "sidecar_sha256" in e and not _verified(str(sidecar), sst.st_size, sst.st_mtime_ns, e["sidecar_sha256"]):
        raise GenlabError(
            f"the checkpoint sidecar of pretrained model '{name}' is damaged ({sidecar}: sha256 does not match the manifest); {how}"
        )
    if not (run / "config.yaml").is_file():
        raise GenlabError(f"pretrained model '{name}' has no config.yaml in {run}; {how}")
    return run


def is_spec(spec) -> bool:
    return isinstance(spec, (str, os.PathLike)) and os.fspath(spec).startswith(PREFIX)


def resolve(spec) -> Path:
    """``pretrained:NAME`` -> the verified zoo run folder of NAME; any other path is returned as it is."""
    if not is_spec(spec):
        return Path(spec)
    name = os.fspath(spec)[len(PREFIX) :].strip()
    if not name:
        raise GenlabError("say which pretrained model: pretrained:NAME (see 'genlab pretrained list')")
    return verify(name)


def is_pretrained(path) -> bool:
    """Whether ``path`` is ``pretrained:NAME`` or a zoo run folder (it holds the zoo's marker file)."""
    return is_spec(path) or (Path(path) / MARKER).is_file()


def refuse_write(path, what: str = "write into it") -> None:
    """Raise a one-line GenlabError when ``path`` is a pretrained model: zoo run folders are read-only."""
    if not is_pretrained(path):
        return
    if is_spec(path):
        name = os.fspath(path)[len(PREFIX) :]
    else:
        try:
            name = json.loads((Path(path) / MARKER).read_text(encoding="utf-8")).get("name", Path(path).name)
        except (OSError, ValueError, AttributeError):
            name = Path(path).name
    raise GenlabError(
        f"{os.fspath(path)} is the pretrained model '{name}', which is read-only: genlab cannot {what}. "
        f"Train your own with 'genlab train MODEL --out runs/my-run', or rebuild the zoo with 'genlab pretrained build {name}'"
    )
