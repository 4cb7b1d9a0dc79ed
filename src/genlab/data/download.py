"""`genlab data download`: fetch the standard MNIST / Fashion-MNIST files, verified.

Each file is streamed into a temporary file beside its destination (``utils.io.atomic_path``),
checked against its MD5 and parsed as IDX, and only then renamed into place: a failed or
interrupted download never leaves a partial file.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from genlab.data.datasets import cache_dir
from genlab.errors import GenlabError
from genlab.utils.io import atomic_path

FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
SOURCES = {
    "mnist-full": {
        "base_url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "base_url": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
}
ALIASES = {"mnist": "mnist-full"}
MAX_DOWNLOAD_BYTES = 100_000_000


def download(
    name: str,
    base_url: str | None = None,
    checksums: str | None = None,
    dest: Path | None = None,
    timeout: float = 30.0,
) -> Path:
    key = ALIASES.get(name, name)
    if key not in SOURCES:
        raise GenlabError(f"cannot download '{name}'; choose one of: mnist, fashion-mnist")
    src = SOURCES[key]
    base = (base_url or os.environ.get("GENLAB_MIRROR") or src["base_url"]).rstrip("/") + "/"
    md5 = dict(src["md5"])
    if checksums:
        try:
            md5.update(json.loads(Path(checksums).read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise GenlabError(f"cannot read checksums file {checksums}: {e}") from None
    dest = Path(dest or cache_dir() / "datasets" / key)
    dest.mkdir(parents=True, exist_ok=True)
    for fname in FILES:
        target = dest / fname
        if target.exists() and _md5(target.read_bytes()) == md5[fname]:
            continue
        _fetch(base + fname, target, md5[fname], timeout)
    return dest


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _fetch(url: str, target: Path, expected_md5: str, timeout: float) -> None:
    from genlab.data.idx import read_idx

    with atomic_path(target) as tmp:  # renamed over target only if everything below succeeds
        h = hashlib.md5(usedforsecurity=False)
        total = 0
        try:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - http(s) only, below
                while True:
                    chunk = resp.read(1 << 16)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > MAX_DOWNLOAD_BYTES:
                        raise GenlabError(f"{url} is larger than {MAX_DOWNLOAD_BYTES} bytes; wrong file?")
                    h.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            raise GenlabError(
                f"download of {url} failed ({getattr(e, 'reason', e)}); check the connection or pass --base-url"
            ) from None
        if h.hexdigest() != expected_md5:
            raise GenlabError(
                f"checksum mismatch for {url} (got md5 {h.hexdigest()}, expected {expected_md5}); the download was discarded"
            )
        read_idx(tmp)  # must parse as IDX
