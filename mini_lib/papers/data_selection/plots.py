"""Notebook 06's figures that belong to the paper (generic ones live in ``mini_lib.core.plots``).

Every sampler has one colour and one marker in every figure (``SAMPLER_STYLE``), chosen far apart, so a
reader can tell random from SemDeDup at a glance and finds each sampler in the same colour everywhere.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from mini_lib.corpora.noise import CLEAN
from mini_lib.papers.data_selection.analysis import REAL_SCORERS
from mini_lib.papers.data_selection.experiment import FULL, SWEEP_PREFIX

SAMPLER_STYLE: dict[str, dict[str, str]] = {
    FULL: {"color": "black", "marker": "D"},
    "random": {"color": "tab:gray", "marker": "o"},
    "askllm": {"color": "tab:red", "marker": "s"},
    "perplexity": {"color": "tab:green", "marker": "^"},
    "perplexity_middle": {"color": "tab:olive", "marker": "v"},
    "density": {"color": "tab:purple", "marker": "P"},
    "semdedup": {"color": "tab:blue", "marker": "X"},
    "prototypes": {"color": "tab:orange", "marker": "*"},
}
SAMPLER_COLOURS: dict[str, str] = {name: style["color"] for name, style in SAMPLER_STYLE.items()}  # a seaborn palette
SYNTHETIC_COLOUR = "tab:cyan"  # the sweep's label-plus-noise scorers: no sampler's colour
Y_MARGIN = 0.12  # of the data range, above and below: a reference line never lies on the frame


def score_distributions(scores: dict[str, np.ndarray], quality: np.ndarray):
    """One panel per score: its values by quality label (box and points), with the clean documents' median as a
    dashed line, so that a kind scored above or below clean text shows at a glance."""
    order = [CLEAN] + sorted(set(quality) - {CLEAN})
    fig, axes = plt.subplots(1, len(scores), figsize=(5.5 * len(scores), 3.8), squeeze=False)
    for ax, (name, values) in zip(axes[0], scores.items()):
        frame = pd.DataFrame({name: values, "quality": quality})
        sns.boxplot(data=frame, x=name, y="quality", order=order, ax=ax, color="lightgray", fliersize=0)
        sns.stripplot(data=frame, x=name, y="quality", order=order, ax=ax, size=2, alpha=0.5)
        ax.axvline(float(np.median(values[quality == CLEAN])), color="black", ls="--", lw=1, label="clean median")
        ax.set_title(f"{name} by quality label")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def fraction_figure(summary: pd.DataFrame):
    """Clean validation loss of the large model against the fraction each sampler keeps (equal tokens), with
    the large and the small model on full data as reference lines."""
    large = summary[summary["model"] == "large"]
    full = float(large.loc[large["sampler"] == FULL, "val_loss"].iloc[0])
    small = float(summary.loc[(summary["model"] == "small") & (summary["sampler"] == FULL), "val_loss"].iloc[0])
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for sampler, rows in large[large["sampler"] != FULL].groupby("sampler", sort=False):
        rows = rows.sort_values("keep_fraction")
        ax.plot(rows["keep_fraction"], rows["val_loss"], label=sampler, lw=1.8, ms=7, **SAMPLER_STYLE[sampler])
    ax.axhline(full, color="black", ls="--", label="full data (large)")
    ax.axhline(small, color="black", ls=":", label="full data (small)")
    ax.margins(y=Y_MARGIN)
    ax.set(xlabel="fraction kept", ylabel="clean validation loss (nats)", title="quality vs retained fraction (equal tokens)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sweep_figure(sweep: pd.DataFrame):
    """Over-scaling and clean val loss of the large model against its scorer's AUROC: synthetic scorers
    (every seed, and their mean), the real scorers at their measured AUROC, random and full data as
    horizontal lines (seed means), inside the frame."""
    large = sweep[sweep["model"] == "large"]
    synthetic = large[large["sampler"].str.startswith(SWEEP_PREFIX)]
    real = large[large["sampler"].isin(REAL_SCORERS)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column in zip(axes, ("over_scaling", "val_loss")):
        ax.scatter(synthetic["scorer_auroc"], synthetic[column], color=SYNTHETIC_COLOUR, s=12, alpha=0.6)
        means = synthetic.groupby("sampler")[["scorer_auroc", column]].mean().sort_values("scorer_auroc")
        ax.plot(means["scorer_auroc"], means[column], color=SYNTHETIC_COLOUR, marker="o",
                label="label + noise (seed mean)")
        for name, rows in real.groupby("sampler"):
            ax.scatter(rows["scorer_auroc"], rows[column], s=50, label=f"{name} (per seed)", **SAMPLER_STYLE[name])
        ax.axhline(large.loc[large["sampler"] == FULL, column].mean(), color="black", ls="--", label="full data")
        ax.axhline(large.loc[large["sampler"] == "random", column].mean(), color=SAMPLER_COLOURS["random"], ls=":",
                   lw=2, label="random")
        ax.margins(y=Y_MARGIN)
        ax.set(xlabel="scorer AUROC (clean vs low-quality)")
    axes[0].set(title="over-scaling vs scorer quality", ylabel="over-scaling (%)")
    axes[1].set(title="clean validation loss vs scorer quality", ylabel="clean validation loss (nats)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig
