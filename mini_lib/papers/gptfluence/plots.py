"""Notebook 04's figures, readable at every profile's scale: every legend under or beside the panels it
names (never on the data), tick labels that never meet, bars beyond an axis marked with their value.

Fine-tuning drops a test loss from ~10 (step 0) to ~1 within a few steps; drawn to scale, everything the
simulators disagree about afterwards is a flat line at the bottom. So a panel of ``true_vs_simulated``
covers the later steps whenever the first ones would squash them, and its title says what runs off the axis.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from mini_lib.core.plots import legend_below
from mini_lib.papers.gptfluence.collect import CollectedTask
from mini_lib.papers.gptfluence.experiment import METHODS, MethodResult, trajectory_frame
from mini_lib.papers.gptfluence.gptdynamics import Run
from mini_lib.papers.gptfluence.planted import PlantedStudy

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


def true_trajectories(collected: dict[str, CollectedTask], n_runs: int = 4, test_rows: Sequence[int] = (0, 1)):
    """One panel per (task, metric): the trajectories of a few test examples (one colour each, ``test_rows``
    are positions in the task's test set) in the first ``n_runs`` regular runs; one legend under the panels."""
    panels = [(name, metric) for name, c in collected.items() for metric in c.task.metrics]
    colours = sns.color_palette("colorblind", len(test_rows))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False, layout="constrained")
    for ax, (name, metric) in zip(axes[0], panels):
        for run in collected[name].regular_runs()[:n_runs]:
            for colour, row in zip(colours, test_rows):
                ax.plot(run.steps, run.trajectories[metric][row], color=colour, lw=0.9)
        ids = ", ".join(str(collected[name].task.test_ids[row]) for row in test_rows)
        ax.set(title=f"{name}: {METRIC_LABELS.get(metric, metric)}\n(test examples {ids})", xlabel="step",
               ylabel=METRIC_LABELS.get(metric, metric))
    fig.suptitle(f"True trajectories of {len(test_rows)} test examples in {n_runs} runs of each task")
    legend_below(fig, [Line2D([], [], color=c, lw=2) for c in colours],
                 [f"the {ORDINALS[k]} test example of its task" for k in range(len(test_rows))])
    return fig


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
SIGNAL_RANGE = (-1.0, 1.0)  # explained share: 1 is everything, 0 the mean trajectory; far below -1 is clipped


def signal_figure(signal: pd.DataFrame):
    """The share of the run-to-run variance each source explains, one panel per task: bars clipped at the left
    end of the axis carry their value, so that one diverging simulator neither squashes nor hides the rest."""
    tasks, settings = list(dict.fromkeys(signal["task"])), list(dict.fromkeys(signal["setting"]))
    sources = list(dict.fromkeys(signal["source"]))
    colours = dict(zip(settings, sns.color_palette("colorblind", len(settings))))
    height = 0.8 / len(settings)
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks) + 2.2, 0.4 * len(sources) * len(settings) + 1.6),
                             squeeze=False, sharey=True, layout="constrained")
    for ax, task in zip(axes[0], tasks):
        for k, setting in enumerate(settings):
            rows = signal[(signal["task"] == task) & (signal["setting"] == setting)].set_index("source")
            for y, source in enumerate(sources):
                if source not in rows.index:
                    continue
                value = float(rows.loc[source, "explained"])
                shown, at = float(np.clip(value, *SIGNAL_RANGE)), y + (k - (len(settings) - 1) / 2) * height
                ax.barh(at, shown, height=height, color=colours[setting])
                if value < SIGNAL_RANGE[0]:
                    ax.text(SIGNAL_RANGE[0] + 0.03, at, f"{value:.3g} (clipped)", va="center", ha="left", fontsize=8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set(xlim=(SIGNAL_RANGE[0] - 0.05, SIGNAL_RANGE[1] + 0.05), xticks=[-1, -0.5, 0, 0.5, 1], title=task,
               xlabel="explained share")
        ax.set_xticklabels(["-1", "-0.5", "0", "0.5", "1"])
    axes[0][0].set(yticks=range(len(sources)), yticklabels=sources)
    axes[0][0].invert_yaxis()
    fig.suptitle("Share of the run-to-run variance each source explains (1 - MSE / MSE of the mean trajectory)")
    legend_below(fig, [Patch(color=colours[s]) for s in settings], settings)
    return fig


def planted_figure(planted: PlantedStudy):
    """Planted influences: error on held-out runs (log scale) and final-step rho per method and setting,
    and the learned against the planted factor B of every (training, test) pair; the methods' legend under
    the bar panels, the pairs' legend beside their scatter."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8), layout="constrained")
    methods = list(dict.fromkeys(planted.table["method"]))
    colours = dict(zip(methods, sns.color_palette("colorblind", len(methods))))
    for ax, quantity in zip(axes, ("mse", "spearman")):
        sns.barplot(data=planted.table, y="setting", x=quantity, hue="method", hue_order=methods, palette=colours, ax=ax,
                    legend=False)
        ax.set(ylabel="", title=f"planted influences: {quantity}", xscale="log" if quantity == "mse" else "linear")
    axes[1].set_yticklabels([])
    kinds = sorted(set(planted.factors["training example"]))
    sns.scatterplot(data=planted.factors, x="planted B", y="learned B", hue="training example", hue_order=kinds, s=5,
                    alpha=0.5, ax=axes[2], palette=sns.color_palette("colorblind", len(methods) + len(kinds))[len(methods):])
    for axis in (axes[2].xaxis, axes[2].yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
    axes[2].set(title="GPTfluence: learned vs planted B\nper (train, test) pair")
    sns.move_legend(axes[2], "upper left", bbox_to_anchor=(1.02, 1), title="training example", markerscale=3)
    fig.legend([Patch(color=colours[m]) for m in methods], methods, loc="outside lower left", ncol=len(methods), frameon=False)
    return fig
