"""Loss curves a person would rather look at than read."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from genlab.utils.io import save_figure  # noqa: E402


def plot_metrics(
    rows: list[dict], path: Path, title: str = "", keys: list[str] | None = None, smooth: int = 0
) -> Path | None:
    keys = keys or sorted(
        {k for r in rows for k, v in r.items() if k not in ("step", "elapsed_s") and isinstance(v, (int, float))}
    )
    if not rows or not keys:
        return None
    cols = min(3, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.0 * nrows), squeeze=False)
    for ax, k in zip(axes.flat, keys):
        pts = [(r["step"], r[k]) for r in rows if isinstance(r.get(k), (int, float)) and "step" in r]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, lw=1.2)
            if smooth and len(ys) > smooth:
                import numpy as np

                ma = np.convolve(ys, np.ones(smooth) / smooth, mode="valid")
                ax.plot(xs[smooth - 1 :], ma, lw=2)
        ax.set_title(k)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, dpi=90)
