"""Seaborn figures shared by the notebooks, so each notebook cell is one call and one picture."""

from __future__ import annotations

from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns


def zipf_plot(counts: Counter, ax=None, label: str | None = None):
    """Rank-frequency on log-log axes, with the ideal Zipf line (slope -1) for reference."""
    ax = ax or plt.subplots(figsize=(5, 4))[1]
    freqs = np.array(sorted(counts.values(), reverse=True), dtype=float)
    ranks = np.arange(1, len(freqs) + 1)
    ax.loglog(ranks, freqs, label=label or "corpus")
    ax.loglog(ranks, freqs[0] / ranks, "--", color="grey", label="Zipf (slope -1)")
    ax.set(xlabel="word rank", ylabel="frequency", title="Word frequencies")
    ax.legend()
    return ax


def loss_curves(records: pd.DataFrame, evals: pd.DataFrame | None = None, ax=None, smooth: int = 10, label: str = ""):
    """Training loss (each step faint, its mean over the ``smooth`` steps around each step solid: a centred
    window, which does not lag behind a falling loss) and the validation loss at the steps it was measured, as
    points: a line between two evaluations would invent the losses between."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    line, = ax.plot(records["step"], records["loss"], alpha=0.25, linewidth=0.8)
    train = records["loss"].rolling(smooth, min_periods=1, center=True).mean()
    ax.plot(records["step"], train, color=line.get_color(), label=f"{label} train (mean of {smooth} steps)".strip())
    if evals is not None and len(evals):
        ax.plot(evals["step"], evals["loss"], "o", markersize=6, label=f"{label} validation".strip())
    ax.set(xlabel="step", ylabel="loss (nats/token)", title="Loss")
    ax.legend()
    return ax


def heatmap(frame: pd.DataFrame, index: str, columns: str, values: str, ax=None, fmt: str = ".3f", **kw):
    """A labelled heatmap of ``values`` over two settings (e.g. duplication rate x data size)."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    table = frame.pivot_table(index=index, columns=columns, values=values, aggfunc="mean")
    sns.heatmap(table, annot=True, fmt=fmt, cmap="viridis", ax=ax, **kw)
    ax.set_title(values)
    return ax


def readable_log_axis(axis) -> None:
    """Log-axis ticks at 1, 2 and 5 times powers of ten, labelled plainly (1e+11, 2e+11): a range of
    less than a decade otherwise gets overlapping minor-tick labels."""
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(StrMethodFormatter("{x:.0e}"))
    axis.set_minor_formatter(NullFormatter())


def even_log_ticks(axis, formatter=None) -> None:
    """Five evenly spaced (in log) ticks across the view: for an axis spanning so little (a loss within a
    factor 2) that ``readable_log_axis``'s 1-2-5 ticks would leave it with one label or none. Labels with 2
    decimals unless ``formatter`` says otherwise (e.g. ``EngFormatter`` for tokens: 347.3k)."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

    low, high = axis.get_view_interval()
    axis.set_major_locator(FixedLocator(np.geomspace(low, high, 7)[1:-1]))
    axis.set_major_formatter(formatter or FormatStrFormatter("%.2f"))
    axis.set_minor_formatter(NullFormatter())


def loss_vs_size_and_compute(curves: pd.DataFrame, summary: pd.DataFrame, hue: str = "preset"):
    """Validation loss during training, at the end vs parameters, and vs training FLOPs: one figure,
    models listed (and coloured) from the smallest to the largest by their actual parameter count."""
    order = summary.sort_values("parameters")[hue].tolist()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    sns.lineplot(data=curves, x="step", y="val_loss", hue=hue, hue_order=order, marker="o", ax=axes[0])
    sns.scatterplot(data=summary, x="parameters", y="val_loss", hue=hue, hue_order=order, s=80, ax=axes[1])
    sns.lineplot(data=curves[curves.step > 0], x="flops", y="val_loss", hue=hue, hue_order=order, ax=axes[2])
    titles = ("Validation loss during training", "Final loss vs model size", "Loss vs training compute")
    xlabels = ("optimiser step", "parameters", "training FLOPs")
    for ax, title, xlabel in zip(axes, titles, xlabels):
        ax.set(title=title, xlabel=xlabel, ylabel="validation loss (nats/token)")
    axes[1].set_xscale("log")
    axes[1].minorticks_off()
    sizes = summary.sort_values("parameters")["parameters"]
    axes[1].set_xticks(sizes, [f"{p / 1e6:.1f}M" for p in sizes])  # each model's own size
    axes[2].set_xscale("log")
    readable_log_axis(axes[2].xaxis)
    return fig


def legend_below(fig, handles, labels, title: str | None = None) -> None:
    """One legend for all of a figure's panels, under them: a legend inside a panel covers its curves,
    and a panel drawn with ``legend=False`` beside one that has it reads as unlabelled."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    for ax in fig.axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    place = ({"loc": "outside lower center"} if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
             else {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0)})  # under the figure; saved with bbox "tight"
    fig.legend(handles, labels, title=title, ncol=min(len(labels), 6), frameon=False, **place)


def round_step_ticks(ax, steps, n: int = 6) -> None:
    """x ticks of an image whose columns are ``steps`` (evenly spaced) at round step values (0, 100, 200),
    not at evenly spaced column indices (0, 125, 251)."""
    from matplotlib.ticker import MaxNLocator

    steps = np.asarray(steps, dtype=float)
    values = MaxNLocator(nbins=n, steps=[1, 2, 5, 10], integer=True).tick_values(steps[0], steps[-1])
    values = values[(values >= steps[0]) & (values <= steps[-1])]
    ax.set_xticks(np.interp(values, steps, np.arange(len(steps))), [f"{v:g}" for v in values])
