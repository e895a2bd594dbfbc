"""Notebook 06's figures that belong to the paper (generic ones live in ``mini_lib.core.plots``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from mini_lib.papers.data_selection.analysis import REAL_SCORERS
from mini_lib.papers.data_selection.experiment import FULL, SWEEP_PREFIX

REAL_STYLE = {"askllm": {"marker": "s", "color": "tab:red"}, "perplexity": {"marker": "^", "color": "tab:green"}}


def sweep_figure(sweep: pd.DataFrame):
    """Over-scaling and clean val loss of the large model against its scorer's AUROC: synthetic scorers
    (every seed, and their mean), the real scorers at their measured AUROC, random and full data as
    horizontal lines (seed means)."""
    large = sweep[sweep["model"] == "large"]
    synthetic = large[large["sampler"].str.startswith(SWEEP_PREFIX)]
    real = large[large["sampler"].isin(REAL_SCORERS)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column in zip(axes, ("over_scaling", "val_loss")):
        ax.scatter(synthetic["scorer_auroc"], synthetic[column], color="tab:blue", s=12, alpha=0.5)
        means = synthetic.groupby("sampler")[["scorer_auroc", column]].mean().sort_values("scorer_auroc")
        ax.plot(means["scorer_auroc"], means[column], color="tab:blue", marker="o", label="label + noise (seed mean)")
        for name, rows in real.groupby("sampler"):
            ax.scatter(rows["scorer_auroc"], rows[column], s=50, label=f"{name} (per seed)", **REAL_STYLE[name])
        ax.axhline(large.loc[large["sampler"] == FULL, column].mean(), color="black", ls="--", label="full data")
        ax.axhline(large.loc[large["sampler"] == "random", column].mean(), color="gray", ls=":", label="random")
        ax.set(xlabel="scorer AUROC (clean vs low-quality)", ylabel=column.replace("_", " "))
    axes[0].set_title("over-scaling vs scorer quality")
    axes[1].set_title("clean validation loss vs scorer quality")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig
