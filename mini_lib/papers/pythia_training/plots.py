"""Notebook 01's figures: the sizes trained on the same tokens, and the training throughput per precision.

Models are named with the parameters they have in the run (``analysis.size_label``): at a small
vocabulary the suite's names no longer order the models by size.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from mini_lib.core import plots
from mini_lib.papers.pythia_training.analysis import size_labels


def loss_vs_size_and_compute(curves: pd.DataFrame, summary: pd.DataFrame):
    """The shared three-panel size figure (``core.plots``), each model named with its parameter count,
    smallest first, in one legend under the panels instead of one over each panel's curves."""
    labels = size_labels(summary)
    fig = plots.loss_vs_size_and_compute(curves.assign(model=curves.preset.map(labels)),
                                         summary.assign(model=summary.preset.map(labels)), hue="model")
    handles, names = fig.axes[0].get_legend_handles_labels()
    plots.legend_below(fig, handles, names, title="model (parameters in this run)")
    fig.tight_layout()
    return fig


def throughput_bars(table: pd.DataFrame, preset: str):
    """Tokens/s per precision (best round), with a bar down to the second-best round: other work on the
    machine only ever slows a round, so the noise lies below the best, never above it."""
    settings = table.precision + table.compile.map({True: "+compile", False: ""})
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = range(len(table))
    ax.bar(x, table.tokens_per_s, color=plt.rcParams["axes.prop_cycle"].by_key()["color"][0], width=0.6)
    ax.errorbar(x, table.tokens_per_s, yerr=[table.noise * table.tokens_per_s, 0 * table.tokens_per_s], fmt="none",
                ecolor="black", capsize=6, label="down to the second-best round (noise)")
    for i, (tps, ratio) in enumerate(zip(table.tokens_per_s, table.tokens_per_s / table.tokens_per_s.iloc[0])):
        ax.annotate(f"{tps:,.0f} ({ratio:.2f}x)", (i, tps), textcoords="offset points", xytext=(0, 7), ha="center")
    ax.set_xticks(list(x), settings)
    ax.set_ylim(0, table.tokens_per_s.max() * 1.15)
    ax.set(title=f"Training throughput of {preset} (best of {int(table.rounds.max())} rounds)",
           xlabel="precision", ylabel="tokens / s")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    fig.tight_layout()
    return fig
