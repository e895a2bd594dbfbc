"""Notebook 03's figures that belong to the paper (generic ones live in ``mini_lib.core.plots``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mini_lib.papers.quality_quantity.analysis import clean_curves


def lost_steps_figure(results: pd.DataFrame, budget: pd.DataFrame, lost: pd.DataFrame, rate: float = 0.25):
    """25% duplication priced in clean steps (``duplication_as_lost_steps``). Left: each seed's clean
    validation loss against training steps (the budget cells and the grid's clean cell), its 25% cell as a
    star at the grid's steps, and a dashed line back to where the clean curve reaches the same loss.
    Right: that equivalent fraction of the steps against the share of the tokens the copied story fills,
    between "a copied token is worth a fresh one" (1) and "it is worth nothing" (1 - share)."""
    fig, (curve_ax, share_ax) = plt.subplots(1, 2, figsize=(12, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (seed, curve) in enumerate(clean_curves(results, budget).groupby("seed")):
        colour = colours[i % len(colours)]
        curve_ax.plot(curve.steps, curve.val_loss, marker="o", color=colour, label=f"seed {seed}: clean")
        for row in lost[lost.seed == seed].itertuples():
            curve_ax.plot([row.equivalent_steps, row.steps], [row.val_loss] * 2, ls="--", color=colour)
            curve_ax.plot(row.steps, row.val_loss, marker="*", ms=14, color=colour, ls="none")
            share_ax.plot(row.repeated_token_share, row.equivalent_fraction, marker="o", ms=9, color=colour,
                          ls="none", fillstyle="full" if row.outside == "" else "none", label=f"seed {seed}")
    curve_ax.plot([], [], marker="*", ms=14, color="grey", ls="--", label=f"{rate:.0%} duplication (dashed: steps lost)")
    curve_ax.set(xlabel="training steps (each run its own schedule)", ylabel="validation loss",
                 title=f"Clean learning curve and the {rate:.0%} cell at the same loss")
    curve_ax.legend(fontsize=8)
    shares = np.linspace(0, max([0.5, *lost.repeated_token_share]), 50)
    share_ax.plot(shares, np.ones_like(shares), color="grey", ls=":", label="copied tokens worth fresh ones (1)")
    share_ax.plot(shares, 1 - shares, color="black", ls="--", label="copied tokens worth nothing (1 - share)")
    share_ax.set(xlabel="share of the training tokens in the copied story",
                 ylabel="clean-equivalent fraction of the steps",
                 title=f"What the {rate:.0%} run is worth vs the tokens its copy fills")
    if lost.empty:
        share_ax.text(0.5, 0.5, "no budget cells in this run (budget_fractions is empty)", ha="center",
                      transform=share_ax.transAxes)
    share_ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def duplication_heatmap(frame: pd.DataFrame, values: str, ax, fmt: str = ".3f", title: str = "",
                        off_scale_rate: float = 1.0):
    """``values`` over duplication rate (rows) x size (columns), every cell annotated. The colour scale spans
    the rows below ``off_scale_rate``: a collapsed 100% row (loss 12 beside 3.2) would otherwise take the whole
    scale and leave the cells that matter one colour. That row, when it lies outside the others' range, is
    drawn grey and labelled "off scale"; its numbers stay in the cells."""
    table = frame.pivot_table(index="rate", columns="size", values=values, aggfunc="mean").sort_index()
    numbers = table.to_numpy(float)
    candidate = np.isclose(table.index.to_numpy(float), off_scale_rate)
    scaled = numbers[~candidate] if (~candidate).any() else numbers
    low, high = np.nanmin(scaled), np.nanmax(scaled)
    off = candidate & (~candidate).any() & ((numbers < low) | (numbers > high)).any(axis=1)
    if low == high:  # one cell on the scale (smoke): give the colour bar a width
        low, high = low - max(abs(low), 1.0) * 0.01, high + max(abs(high), 1.0) * 0.01
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_where(off[:, None] | np.isnan(numbers), numbers), cmap=cmap, vmin=low,
                      vmax=high, aspect="auto")
    for (row, column), value in np.ndenumerate(numbers):
        dark = not off[row] and image.norm(value) < 0.5
        ax.text(column, row, "" if np.isnan(value) else format(value, fmt), ha="center", va="center",
                color="white" if dark else "black")
    ax.set_xticks(range(len(table.columns)), [f"{size:.0%}" for size in table.columns])
    ax.set_yticks(range(len(table.index)), [f"{rate:.0%}" + ("\n(off scale)" if o else "")
                                            for rate, o in zip(table.index, off)])
    ax.set(xlabel="size (share of the stories kept)", ylabel="duplication rate", title=title or values)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label=f"colours: rows below {off_scale_rate:.0%}" if off.any() else "")
    return ax


def loss_curves_figure(train_losses: pd.DataFrame, curves: pd.DataFrame, size: float, smooth: int = 10):
    """At one ``size``, per duplication rate (one colour each, means over seeds): the training loss at every
    step (its centred mean over ``smooth`` steps) and the validation loss at the steps it was measured, as
    points with the seeds' standard deviation as bars, on one axis. The training loss is measured on the
    cell's own batches, which at 100% duplication are one story over and over, so the two show what the model
    learns and what it generalises."""
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    train = train_losses[np.isclose(train_losses["size"], size)].groupby(["rate", "step"]).train_loss.mean()
    by_step = curves[np.isclose(curves["size"], size)].groupby(["rate", "step"]).val_loss
    val, spread = by_step.mean(), by_step.std().fillna(0.0)  # one seed: no bar
    for i, rate in enumerate(sorted(set(train.index.get_level_values("rate")) | set(val.index.get_level_values("rate")))):
        colour = colours[i % len(colours)]
        if rate in train.index.get_level_values("rate"):
            steps = train.loc[rate]
            ax.plot(steps.index, steps.rolling(smooth, min_periods=1, center=True).mean(), color=colour,
                    label=f"{rate:.0%}")
        if rate in val.index.get_level_values("rate"):
            ax.errorbar(val.loc[rate].index, val.loc[rate], yerr=spread.loc[rate], fmt="o", color=colour,
                        markersize=7, markeredgecolor="black", capsize=3,
                        label="_" if rate in train.index.get_level_values("rate") else f"{rate:.0%}")
    ax.plot([], [], color="grey", label=f"training loss (mean of {smooth} steps)")
    ax.plot([], [], "o", color="grey", markeredgecolor="black", label="validation loss (bars: seed sd)")
    ax.set(xlabel="step", ylabel="loss (nats/token)",
           title=f"Training and validation loss by duplication rate ({size:.0%} of the stories)")
    ax.legend(title="duplication rate", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))  # outside: no curve hidden
    fig.tight_layout()
    return fig
