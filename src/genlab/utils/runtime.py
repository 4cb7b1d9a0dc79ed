"""Seeding, thread settings and device choice, in one place."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_threads(n: int | None = None) -> int:
    """Pick a thread count on purpose: GENLAB_THREADS, else all cores up to 4; and flush
    denormal floats to zero.

    Small models gain little from more threads, and OpenMP spin-waiting makes extra
    threads costly when the machine is shared. Denormals (|x| < 1.2e-38, e.g. Adam's second
    moments of weights that stopped receiving gradient) are 10-20x slower per operation on x86
    CPUs and never matter to training: a fused Adam step on the DQN's net took 470 us with them
    and 23 us without.
    """
    if n is None:
        n = int(os.environ.get("GENLAB_THREADS", "0")) or min(4, os.cpu_count() or 1)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    torch.set_flush_denormal(True)
    return n


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)
