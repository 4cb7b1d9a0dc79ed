"""Reading and writing the IDX format of MNIST (gzipped or not), with validation.

Every malformed input raises :class:`GenlabError` with a one-line message; sizes are checked
against the file length before anything is allocated.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from pathlib import Path

import numpy as np

from genlab.errors import GenlabError
from genlab.utils.io import read_input, write_bytes_atomic

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}
MAX_IDX_BYTES = 2_000_000_000


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    if len(data) < 4:
        raise GenlabError(f"{name} is not an IDX file (only {len(data)} bytes); give an MNIST-format .idx/.gz file")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise GenlabError(f"{name} is not an IDX file (bad magic number); give an MNIST-format .idx/.gz file")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise GenlabError(f"{name} is truncated (header cut short); download it again")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_DTYPES[code])
    count = 1
    for d in dims:
        count *= d
    expected = header + count * dtype.itemsize
    if count * dtype.itemsize > MAX_IDX_BYTES:
        raise GenlabError(f"{name} declares {count} values, more than genlab will load; check the file")
    if len(data) < expected:
        raise GenlabError(f"{name} is truncated: {len(data)} bytes, header promises {expected}; download it again")
    if len(data) > expected:
        raise GenlabError(
            f"{name} has {len(data) - expected} trailing bytes after the data its header declares; the file is corrupt"
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("=")) if dtype.byteorder == ">" else arr.copy()


def read_idx(path) -> np.ndarray:
    raw = read_input(path, "IDX file")
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                raw = f.read(MAX_IDX_BYTES + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise GenlabError(f"{path} is a corrupt gzip file ({e}); download it again") from None
    return parse_idx(raw, name=str(path))


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr)
    code = _CODES.get(arr.dtype)
    if code is None:
        raise GenlabError(f"cannot write dtype {arr.dtype} as IDX; convert to uint8")
    return struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_idx(path, arr: np.ndarray, compress: bool = False) -> Path:
    data = idx_bytes(arr)
    if compress:
        data = gzip.compress(data, mtime=0)
    write_bytes_atomic(path, data)
    return Path(path)
