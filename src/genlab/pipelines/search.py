"""The image search engine: embed a folder of images with a CLIP run, then query it by text or image.

The index is one ``.npz`` file (read with ``allow_pickle=False``) holding the float16
embeddings, the paths (relative to the indexed folder), the SHA-256 of every file's bytes
(N x 32 uint8), and a JSON header (folder, model run, checkpoint checksum, skipped files). It is written
atomically at the end, so an interrupted run leaves the previous index usable. Re-indexing
re-embeds only new or changed files (same bytes = same hash = same embedding) and drops
deleted ones; a new checkpoint re-embeds everything. Queries read only the index, never the
images.
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from genlab.errors import GenlabError

FORMAT = "genlab-search-index-1"
BATCH = 256


@dataclass
class SearchIndex:
    root: str  # absolute path of the indexed folder
    model: str  # run folder of the CLIP model
    model_sha256: str  # checksum of the checkpoint that made the embeddings
    paths: list[str] = field(default_factory=list)  # relative to root, '/'-separated
    hashes: list[str] = field(default_factory=list)
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float16))
    skipped: list[dict] = field(default_factory=list)  # [{"path", "reason"}] of unreadable files

    def __len__(self) -> int:
        return len(self.paths)

    def save(self, path) -> None:
        from genlab.utils.io import atomic_path

        header = {
            "format": FORMAT,
            "root": self.root,
            "model": self.model,
            "model_sha256": self.model_sha256,
            "skipped": self.skipped,
            "created": time.time(),
        }
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(
                    f,
                    embeddings=self.embeddings.astype(np.float16),
                    paths=np.array(self.paths, dtype=str),
                    sha256=np.frombuffer(bytes.fromhex("".join(self.hashes)), dtype=np.uint8).reshape(-1, 32),
                    header=np.array(json.dumps(header)),
                )

    @classmethod
    def load(cls, path) -> SearchIndex:
        path = Path(path)
        hint = "rebuild it with 'genlab search index FOLDER --model RUN --index PATH'"
        if not path.is_file():
            raise GenlabError(f"search index not found: {path}; {hint}")
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(str(z["header"]))
                emb, paths, hashes = z["embeddings"], z["paths"].tolist(), [h.tobytes().hex() for h in z["sha256"]]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            raise GenlabError(f"{path} is not a readable genlab search index ({type(e).__name__}); {hint}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise GenlabError(f"{path} is not a genlab search index ({FORMAT}); {hint}")
        if emb.ndim != 2 or not (len(emb) == len(paths) == len(hashes)):
            raise GenlabError(f"{path} is inconsistent ({len(emb)} embeddings, {len(paths)} paths); {hint}")
        return cls(
            header["root"], header["model"], header["model_sha256"], paths, hashes, emb, header.get("skipped", [])
        )

    def search(self, query: torch.Tensor, k: int = 5) -> list[dict]:
        """Top-k entries by cosine similarity to a normalised query embedding (D,)."""
        if len(self) == 0:
            return []
        q = query.float().numpy().reshape(-1)
        if q.shape[0] != self.embeddings.shape[1]:
            raise GenlabError(
                f"the query has {q.shape[0]} dimensions but the index {self.embeddings.shape[1]}; use the model that built the index"
            )
        sims = self.embeddings.astype(np.float32) @ q
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [{"path": str(Path(self.root) / self.paths[i]), "score": float(sims[i])} for i in top]


def load_model(run):
    """(recipe, checkpoint sha256) of a trained CLIP run."""
    from genlab.train.engine import load_run

    recipe, store, meta = load_run(run)
    if not hasattr(recipe, "encode_images") or not hasattr(recipe, "encode_text"):
        raise GenlabError(f"{run} is a '{recipe.name}' run; search needs a CLIP run (genlab train clip)")
    return recipe, meta.get("sha256", "")


def _read(path: Path) -> tuple[bytes | None, str]:
    """The file's bytes, or None and why not."""
    from genlab.data.images import MAX_IMAGE_BYTES

    try:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            return None, f"over the {MAX_IMAGE_BYTES}-byte limit"
        return path.read_bytes(), ""
    except OSError as e:
        return None, f"cannot read: {e.strerror or e}"


def build_index(folder, run, index_path, batch: int = BATCH, log=print) -> tuple[SearchIndex, dict]:
    """Index every image under ``folder``; returns the index and counts (embedded, reused, removed, skipped)."""
    from genlab.data.images import decode_image, list_images

    folder = Path(folder)
    files = list_images(folder)
    if not files:
        raise GenlabError(
            f"no images (PNG/JPEG/...) under {folder}; nothing to index"
            + (f" ({index_path} is unchanged)" if Path(index_path).exists() else "")
        )
    recipe, sha = load_model(run)
    old, reuse = None, {}
    if Path(index_path).exists():
        try:
            old = SearchIndex.load(index_path)
        except GenlabError as e:
            log(f"genlab: rebuilding the index from scratch: {e}")
        if old is not None and old.model_sha256 == sha:
            reuse = dict(zip(old.hashes, old.embeddings))
        elif old is not None:
            log("genlab: the index was made with another checkpoint; re-embedding every image")
    root = folder.resolve()
    size, channels = recipe.cfg.image_size, recipe.cfg.channels
    paths, hashes, rows, skipped = [], [], [], []
    pending: list[tuple[int, np.ndarray]] = []  # (row, decoded image) waiting for the encoder

    def flush():
        if pending:
            emb = recipe.encode_images(torch.from_numpy(np.stack([a for _, a in pending]))).numpy().astype(np.float16)
            for (row, _), e in zip(pending, emb):
                rows[row] = e
            pending.clear()

    reused = 0
    for p in files:
        rel = p.relative_to(folder).as_posix()
        data, reason = _read(p)
        if data is None:
            skipped.append({"path": rel, "reason": reason})
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in reuse:
            row = reuse[digest]
            reused += 1
        else:
            try:
                pending.append((len(rows), decode_image(data, name=rel, channels=channels, size=size)))
            except GenlabError as e:
                skipped.append({"path": rel, "reason": str(e)})
                continue
            row = None  # filled by flush()
        paths.append(rel)
        hashes.append(digest)
        rows.append(row)
        if len(pending) >= batch:
            flush()
    flush()
    if not paths:
        raise GenlabError(
            f"none of the {len(files)} image files under {folder} could be read (first: {skipped[0]['reason']}); nothing indexed"
        )
    from genlab.zoo.manifest import is_spec

    model = str(run) if is_spec(run) else str(Path(run).resolve())  # pretrained:NAME stays a name
    index = SearchIndex(str(root), model, sha, paths, hashes, np.stack(rows), skipped)
    index.save(index_path)
    stats = {
        "images": len(paths),
        "embedded": len(paths) - reused,
        "reused": reused,
        "skipped": len(skipped),
        "removed": len(set(old.paths) - set(paths)) if old is not None and old.root == str(root) else 0,
    }
    return index, stats


def query(index: SearchIndex, recipe, text: str | None = None, image=None, k: int = 5) -> list[dict]:
    """Top-k of the index for a text or an image file (exactly one of them)."""
    from genlab.data.images import load_image

    check_query(text, image)
    if image is not None:
        arr = load_image(image, channels=recipe.cfg.channels, size=recipe.cfg.image_size)
        q = recipe.encode_images(torch.from_numpy(arr)[None])[0]
    else:
        q = recipe.encode_text([text.strip()])[0]
    return index.search(q, k)


def check_query(text: str | None, image) -> None:
    """Exactly one of a non-empty text and an image file."""
    if (text is None) == (image is None):
        raise GenlabError("give a text query or --image FILE (one of them)")
    if text is not None and not text.strip():
        raise GenlabError('the query is empty; give some words, e.g. "a bold seven", or --image FILE')
