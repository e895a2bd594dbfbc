"""Notebook 02's figures that belong to the paper (generic ones live in ``mini_lib.core.plots``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np

from mini_lib.core.plots import even_log_ticks
from mini_lib.papers.simplified_vocab.analysis import ScalingFits


def plot_power_laws(fits: ScalingFits):
    """Three log-log panels: points, the fitted law and its exponent."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = (
        (axes[0], fits.n_points, "non_embedding", fits.n, "non-embedding parameters N"),
        (axes[1], fits.d_points, "tokens", fits.d, "training tokens D"),
        (axes[2], fits.c_points, "flops", fits.c, "training FLOPs C"),
    )
    for ax, points, x, fit, label in panels:
        if x == "flops":
            ax.scatter(points[x], points["val_loss"], s=10, color="lightgray", label="all evaluations")
            points = points[points.frontier]
        ax.scatter(points[x], points["val_loss"], s=35, label="fitted points")
        if fit is not None and len(points):
            grid = np.geomspace(points[x].min(), points[x].max(), 50)
            ax.plot(grid, fit.predict(grid), "--", color="black",
                    label=f"exponent {fit.exponent:.3f} ± {fit.exponent_err:.3f}, R²={fit.r2:.2f}")
        ax.set(xscale="log", yscale="log", xlabel=label, ylabel="validation loss (nats/token)",
               title=f"L({label.split()[-1]})" + ("" if fit else ": too few points to fit"))
        even_log_ticks(ax.yaxis)
        even_log_ticks(ax.xaxis, ticker.EngFormatter(places=1, sep=""))  # 300k, 1.2M, 4G: sizes, tokens, FLOPs
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

