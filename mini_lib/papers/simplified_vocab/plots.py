"""Notebook 02's figures that belong to the paper (generic ones live in ``mini_lib.core.plots``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from mini_lib.core.plots import legend_below
from mini_lib.papers.simplified_vocab.analysis import CHANCE_K, ScalingFits, chance_band
from mini_lib.papers.simplified_vocab.data import VARIANTS

DEPTH_STYLES = ("-", "--", ":", "-.")  # 2, 4, 8 layers: depth must not hide in a colour shade
DEPTH_MARKERS = ("o", "s", "^", "D")


def plot_power_laws(fits: ScalingFits):
    """Three log-log panels: points, the fitted law and its exponent. Three ticks per axis, at round values
    inside the view, so that neighbouring labels (340k, 1.2M; 4.15, 3.81) never run into each other."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
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
        _three_log_ticks(ax.yaxis, ticker.FormatStrFormatter("%.2f"))
        _three_log_ticks(ax.xaxis, ticker.EngFormatter(places=1, sep=""))  # 300k, 1.2M, 4G: sizes, tokens, FLOPs
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _three_log_ticks(axis, formatter) -> None:
    """Ticks at a quarter, half and three quarters of a log axis's view: a loss within a factor 2 gets no
    ticks of the log axis's own, and five ticks in a narrow panel crowd their labels together."""
    low, high = axis.get_view_interval()
    axis.set_major_locator(ticker.FixedLocator(np.geomspace(low, high, 5)[1:-1]))
    axis.set_major_formatter(formatter)
    axis.set_minor_formatter(ticker.NullFormatter())


def plot_loss_curves(curves: pd.DataFrame):
    """Validation loss against training tokens, one panel per data type (their losses are not comparable:
    each has its own tokenizer), colour for the width and line style and marker for the depth, the legend
    under the panels where it covers no curve."""
    widths, depths = sorted(curves.hidden.unique()), sorted(curves.layers.unique())
    colours = dict(zip(widths, plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(widths)))))
    style = {d: (DEPTH_STYLES[i % len(DEPTH_STYLES)], DEPTH_MARKERS[i % len(DEPTH_MARKERS)]) for i, d in enumerate(depths)}
    variants = [v for v in VARIANTS if v in set(curves.data)]
    fig, axes = plt.subplots(1, len(variants), figsize=(6 * len(variants), 4), squeeze=False, layout="constrained")
    for ax, variant in zip(axes[0], variants):
        for (hidden, layers), run in curves[curves.data == variant].groupby(["hidden", "layers"]):
            line, marker = style[layers]
            ax.plot(run.tokens, run.val_loss, line, marker=marker, color=colours[hidden], markersize=5)
        ax.set(xscale="log", xlabel="training tokens", ylabel="validation loss (nats/token)",
               title=f"validation loss during training, {variant} data")
    handles = [Patch(color=colours[w], label=f"hidden {w}") for w in widths]
    handles += [Line2D([], [], linestyle=style[d][0], marker=style[d][1], color="black", label=f"{d} layers")
                for d in depths]
    legend_below(fig, handles, [h.get_label() for h in handles])
    return fig


def plot_zero_shot_per_task(own: pd.DataFrame):
    """Accuracy against model size, one panel per task, with the band where a model that guesses lands
    (chance +- 2 binomial standard errors over the task's items): a point inside it is no evidence of an
    ability, and a point below it a preference for the wrong option, not noise."""
    tasks = list(dict.fromkeys(own.task))
    columns = min(3, len(tasks))
    rows = -(-len(tasks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.1 * rows), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    colours = dict(zip(VARIANTS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    drawn = {VARIANTS[0]: {"linewidth": 4, "markersize": 9, "alpha": 0.5}, VARIANTS[1]: {"linewidth": 1.5, "markersize": 4}}
    for ax, task in zip(axes.flat, tasks):
        items = own[own.task == task]
        chance, n = float(items.chance.iloc[0]), int(items.n.min())
        ax.axhspan(*chance_band(chance, n), color="grey", alpha=0.18, linewidth=0)
        ax.axhline(chance, ls=":", color="grey")
        for variant, rows_of in items.groupby("data", sort=False):
            rows_of = rows_of.sort_values("parameters")
            ax.plot(rows_of.parameters, rows_of.acc, "o-", color=colours[variant], **drawn[variant])  # equal: both seen
        ax.set(xscale="log", ylim=(-0.04, 1.04), title=f"{task} ({n} items)")
    for ax in axes.flat[len(tasks):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    for ax in axes[-1]:
        ax.set_xlabel("parameters")
    handles = [Line2D([], [], marker="o", color=colours[v], label=f"{v} data", **drawn[v]) for v in VARIANTS if v in set(own.data)]
    handles += [Line2D([], [], ls=":", color="grey", label="chance"),
                Patch(color="grey", alpha=0.18, label=f"chance ± {CHANCE_K:g} SE: where a model that guesses lands")]
    legend_below(fig, handles, [h.get_label() for h in handles])
    return fig
