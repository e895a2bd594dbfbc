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
