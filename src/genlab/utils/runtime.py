"""Seeding, thread settings and device choice, in one place."""

from __future__ import annotations

import functools
import os
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_threads(n: int | None = None) -> int:
    """Pick a thread count on purpose: GENLAB_THREADS, else all cores up to 4; hold numpy's BLAS
    to one thread (genlab gives it only small products, e.g. the DQN's flat path, where a second
    thread doubles the CPU time for no wall time); and flush denormal floats to zero.

    Small models gain little from more threads, and OpenMP spin-waiting makes extra
    threads costly when the machine is shared. Denormals (|x| < 1.2e-38, e.g. Adam's second
    moments of weights that stopped receiving gradient) are 10-20x slower per operation on x86
    CPUs and never matter to training: they can make a fused Adam step on the DQN's small network
    an order of magnitude slower.
    """
    if n is None:
        n = int(os.environ.get("GENLAB_THREADS", "0")) or min(4, os.cpu_count() or 1)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    torch.set_flush_denormal(True)
    _blas_one_thread()
    return n


@functools.cache
def _blas_one_thread() -> None:
    """Once per process: threadpoolctl scans every loaded library to find numpy's BLAS."""
    threadpool_limits(1, user_api="blas")


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a GPU with bf16 support, a CPU with
    AVX512-BF16 or AMX. Elsewhere (AVX2-only CPUs) bf16 is emulated, two orders of magnitude
    slower than float32.

    ``GENLAB_BF16=0`` turns bf16 off everywhere (to compare precisions or rule bf16 out); no
    setting turns it on where the hardware lacks it.
    """
    if os.environ.get("GENLAB_BF16", "").strip().lower() in ("0", "off", "false", "no"):
        return False
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return False


def use_bf16(requested: bool, device: torch.device) -> bool:
    """The one place genlab decides whether a computation runs in bfloat16: only when asked for
    (a config's ``amp`` or ``sample_bf16``) and where :func:`native_bf16`. A request on hardware
    without native bf16 runs in float32, with one note on stderr per process."""
    if not requested:
        return False
    if native_bf16(device):
        return True
    _note_float32(device.type, cpu_capability())
    return False


@functools.cache
def _note_float32(device_type: str, capability: str) -> None:
    import sys

    print(f"genlab: bfloat16 is not native on this {device_type} ({capability}); computing in float32", file=sys.stderr)


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    import platform

    try:
        for line in open("/proc/cpuinfo", encoding="utf-8", errors="replace"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_capability() -> str:
    """The CPU's vector capability as torch dispatches it (e.g. AVX2, AVX512), with AMX or
    AVX512-BF16 named when present: the machine kind every speed figure is reported with."""
    cap = torch.backends.cpu.get_cpu_capability()
    if torch.cpu._is_amx_tile_supported():
        return f"{cap}+AMX"
    if torch.cpu._is_avx512_bf16_supported():
        return f"{cap}+BF16"
    return cap


def use_amp(mode: str, device: torch.device) -> bool:
    """The ``amp`` config field resolved: 'off' never; 'bf16' and 'auto' where :func:`native_bf16`
    ('bf16' notes that it fell back to float32 elsewhere; 'auto' stays silent)."""
    if mode == "bf16":
        return use_bf16(True, device)
    return mode == "auto" and native_bf16(device)


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


_POOLS: dict[int, object] = {}


def single_thread_pool(workers: int):
    """A persistent pool of ``workers`` threads in which torch runs single-threaded, to run
    independent chunks of a batch side by side (on a small net that scales better than
    splitting every op across cores). The caller's own thread settings are left as they were."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    if workers not in _POOLS:
        n_main = torch.get_num_threads()
        ready = threading.Barrier(workers + 1)

        def init():
            torch.zeros(2).add_(1)  # torch's lazy per-thread init happens now, not later
            torch.set_num_threads(1)  # this thread's OpenMP/MKL team: 1 thread
            torch.set_flush_denormal(True)
            ready.wait()

        pool = ThreadPoolExecutor(workers, thread_name_prefix="genlab-torch", initializer=init)
        for _ in range(workers):
            pool.submit(lambda: None)
        ready.wait()
        torch.set_num_threads(n_main)  # set_num_threads also changed the process default; put it back
        _POOLS[workers] = pool
    return _POOLS[workers]
