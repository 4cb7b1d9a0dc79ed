"""Pictures a learner expects from an RL run: returns with the 100-episode rolling mean,
epsilon, TD loss, Q estimates; and the Q-table / greedy policy of a grid world."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from genlab.utils.io import save_figure, write_text_atomic  # noqa: E402

#: per-step metrics drawn next to the returns, when the algorithm logs them
CURVES = {
    "eval_return": "greedy evaluation return",
    "epsilon": "epsilon",
    "loss": "loss (TD / policy)",
    "q_mean": "mean Q estimate",
    "entropy": "policy entropy",
    "lr": "learning rate",
}


def rolling_mean(x, window: int = 100) -> np.ndarray:
    """Mean of the last ``window`` values at every position (fewer at the start)."""
    c = np.cumsum(np.insert(np.asarray(x, dtype=float), 0, 0.0))
    i = np.arange(1, len(x) + 1)
    return (c[i] - c[np.maximum(i - window, 0)]) / np.minimum(i, window)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    return save_figure(fig, path, dpi=90)


def write_episodes_csv(path: Path, history: dict) -> Path:
    rows = ["episode,env_step,return,length"]
    rows += [
        f"{i + 1},{s},{r:g},{n}"
        for i, (s, r, n) in enumerate(zip(history["env_step"], history["return"], history["length"]))
    ]
    write_text_atomic(path, "\n".join(rows) + "\n")
    return Path(path)


def plot_training(path: Path, history: dict, metrics: list[dict], threshold: float | None, title: str) -> Path:
    curves = [k for k in CURVES if any(k in r for r in metrics)]
    fig, axes = plt.subplots(1, 1 + len(curves), figsize=(4.4 * (1 + len(curves)), 3.3), squeeze=False)
    ax = axes[0, 0]
    returns = history["return"]
    if returns:
        ep = np.arange(1, len(returns) + 1)
        ax.plot(ep, returns, lw=0.6, alpha=0.5, label="return per episode")
        ax.plot(ep, rolling_mean(returns), lw=2, label="100-episode mean")
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"solved ({threshold:g})")
    ax.set(title="training episodes", xlabel="episode", ylabel="return")
    ax.legend(fontsize=7)
    for ax, k in zip(axes[0, 1:], curves):
        pts = [(r["step"], r[k]) for r in metrics if k in r]
        ax.plot(*zip(*pts), lw=1.2, marker="o" if k == "eval_return" else None, ms=3)
        ax.set(title=CURVES[k], xlabel="step")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return _save(fig, path)


ARROWS = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}  # FrozenLake: left, down, right, up as (dx, dy) with y down


def plot_q_table(path: Path, q: np.ndarray, desc: np.ndarray | None, title: str) -> Path:
    """A grid world (``desc`` of S/F/H/G letters): state values max_a Q with greedy arrows; else the table as a heat map."""
    if desc is None:
        fig, ax = plt.subplots(figsize=(5, 7))
        im = ax.imshow(q, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set(title=title, xlabel="action", ylabel="state")
        fig.colorbar(im, ax=ax, label="Q(s, a)")
        return _save(fig, path)
    rows, cols = desc.shape
    v, greedy = q.max(1).reshape(rows, cols), q.argmax(1).reshape(rows, cols)
    fig, ax = plt.subplots(figsize=(1.0 * cols + 1.5, 1.0 * rows + 0.6))
    im = ax.imshow(v, cmap="viridis")
    for r in range(rows):
        for c in range(cols):
            letter = desc[r, c].decode() if isinstance(desc[r, c], bytes) else str(desc[r, c])
            if letter in "HG":
                ax.text(
                    c,
                    r,
                    letter,
                    ha="center",
                    va="center",
                    color="red" if letter == "H" else "gold",
                    fontsize=14,
                    weight="bold",
                )
            else:
                dx, dy = ARROWS[int(greedy[r, c])]
                ax.arrow(
                    c - 0.3 * dx,
                    r - 0.3 * dy,
                    0.6 * dx,
                    0.6 * dy,
                    head_width=0.18,
                    color="white",
                    length_includes_head=True,
                )
    ax.set(title=title, xticks=[], yticks=[])
    fig.colorbar(im, ax=ax, label="max_a Q(s, a)")
    return _save(fig, path)
