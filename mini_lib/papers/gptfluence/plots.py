"""Notebook 04's figure of true against simulated trajectories, readable at every profile's scale.

Fine-tuning drops a test loss from ~10 (step 0) to ~1 within a few steps; drawn to scale, everything the
simulators disagree about afterwards is a flat line at the bottom. So a panel's y-range covers the later
steps whenever the first ones would squash them, and its title says what runs off the axis.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from mini_lib.core.plots import legend_below
from mini_lib.papers.gptfluence.experiment import METHODS, MethodResult, trajectory_frame
from mini_lib.papers.gptfluence.gptdynamics import Run

METRIC_LABELS = {"loss": "test loss", "bleu": "BLEU", "rougeL": "ROUGE-L"}
EARLY_SHARE = 0.1  # the first 10% of the steps may run off the axis


def focus_range(panel: pd.DataFrame, from_step: int) -> tuple[float, float] | None:
    """A y-range for the values at steps >= ``from_step``, or None when drawing every step to scale
    leaves them at least half the panel's height (nothing needs cutting)."""
    later = panel.loc[panel["step"] >= from_step, "value"]
    low, high = float(later.min()), float(later.max())
    span = max(high - low, 1e-9)
    if float(panel["value"].max()) - float(panel["value"].min()) <= 2 * span:
        return None
    return low - 0.08 * span, high + 0.08 * span


def true_vs_simulated(run: Run, results: dict[tuple[str, str], MethodResult], metrics: Sequence[str],
                      rows: Sequence[int], title: str):
    """One panel per (metric, test example) of ``run``: the true trajectory and each method's simulation.

    results: (method, metric) -> result, as ``compare_methods`` returns them; a method without a
    metric (TracIn-CP has no BLEU) is left out of that metric's panels. One legend, under the panels.
    """
    named = list(dict.fromkeys(["true", *METHODS, *(method for method, _ in results)]))
    colours = dict(zip(named, sns.color_palette("colorblind", len(named))))  # a method's colour is the same in every figure
    sources = ["true", *dict.fromkeys(method for method, metric in results if metric in metrics)]
    from_step = int(run.steps[0]) + max(1, round(EARLY_SHARE * (len(run.steps) - 1)))
    fig, axes = plt.subplots(len(metrics), len(rows), figsize=(3.8 * len(rows), 2.9 * len(metrics) + 0.6),
                             squeeze=False, sharex=True, layout="constrained")
    for metric, line in zip(metrics, axes):
        frame = trajectory_frame(run, {m: r for (m, mt), r in results.items() if mt == metric}, metric, rows)
        for ax, row in zip(line, rows):
            panel = frame[frame["test_id"] == run.test_ids[row]]
            for source, part in panel.groupby("source", sort=False):
                true = source == "true"
                ax.plot(part["step"], part["value"], color=colours[source], lw=2.2 if true else 1.2,
                        zorder=3 if true else 2)
            heading = f"test example {run.test_ids[row]}"
            cut = focus_range(panel, from_step)
            if cut is not None:
                ax.set_ylim(cut)
                heading += f"\n(y cut: steps < {from_step} reach {panel['value'].max():.3g})"
            bottom_row = metric == metrics[-1]
            ax.set(title=heading, ylabel=METRIC_LABELS.get(metric, metric), xlabel="step" if bottom_row else "")
    fig.suptitle(title)
    legend_below(fig, [Line2D([], [], color=colours[s], lw=2.2 if s == "true" else 1.2) for s in sources], sources)
    return fig
