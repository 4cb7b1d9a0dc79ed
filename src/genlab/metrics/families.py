"""Metrics of the non-image families: few-shot accuracy, text<->image retrieval, RL returns."""

from __future__ import annotations

import math

import numpy as np
import torch


def fewshot_accuracy(acc_per_episode) -> dict:
    """Mean accuracy over episodes with its 95 % confidence interval half-width
    (1.96 * sample std / sqrt(episodes), the convention of the few-shot literature)."""
    a = np.asarray(acc_per_episode, np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError("no episodes")
    ci = 1.96 * a.std(ddof=1) / math.sqrt(a.size) if a.size > 1 else float("nan")
    return {"accuracy": float(a.mean()), "ci95": float(ci), "episodes": int(a.size)}


def recall_at_k(sim_matrix, ks=(1, 5, 10)) -> dict:
    """Recall@K for queries (rows) against items (columns) whose true match is on the diagonal.

    Returns {"recall@K": share of queries whose match ranks among the K most similar items};
    pass ``sim.T`` for the other direction (e.g. text->image vs image->text). Ties count
    against the query (the match must be strictly more similar than all but K-1 items).
    """
    sim = torch.as_tensor(np.asarray(sim_matrix) if not isinstance(sim_matrix, torch.Tensor) else sim_matrix).double()
    if sim.ndim != 2 or sim.shape[0] > sim.shape[1]:
        raise ValueError(f"sim_matrix must be (queries, items) with queries <= items, got {tuple(sim.shape)}")
    true = sim.diagonal()[:, None]
    rank = (sim >= true).sum(1)  # 1 = the match is the most similar item
    return {f"recall@{k}": float((rank <= k).double().mean()) for k in ks}


def return_stats(returns, threshold: float | None = None) -> dict:
    """Episode-return statistics; ``solved`` = mean return >= threshold (None without a threshold)."""
    r = np.asarray(returns, np.float64).reshape(-1)
    if r.size == 0:
        raise ValueError("no episodes")
    return {
        "mean_return": float(r.mean()),
        "std_return": float(r.std()),
        "min_return": float(r.min()),
        "max_return": float(r.max()),
        "episodes": int(r.size),
        "solved": None if threshold is None else bool(r.mean() >= threshold),
    }
