"""Notebook 05's figures: one call per picture, drawn from a ``PolicyExperiment`` and the frames of
``mini_lib.papers.optimal_learning.experiment``. Two-panel figures share one legend under both panels, and the policy
image's step axis is labelled at round step values."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator, NullFormatter, StrMethodFormatter

from mini_lib.core.plots import legend_below, round_step_ticks
from mini_lib.papers.optimal_learning.experiment import (
    PolicyExperiment,
    curves_frame,
    fit_frame,
    late_active,
    objective_frame,
    policy_matrix,
    similarity_frame,
    weights_frame,
)


def objective(experiment: PolicyExperiment, title: str):
    """Compression ratio log|V| / J before each outer epoch (0 = conventional training)."""
    fig, ax = plt.subplots(figsize=(5, 3.4))
    sns.lineplot(data=objective_frame(experiment), x="epoch", y="CR", marker="o", ax=ax)
    ax.set(xlabel="outer epoch (0 = conventional training)", ylabel="compression ratio log|V| / J", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def curves(experiment: PolicyExperiment, numbers: dict, title: str):
    """Desired loss of the long conventional run and the optimised run, with the speed-up's crossing."""
    frame = curves_frame(experiment)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.lineplot(data=frame[frame.step > 0], x="step", y="loss", hue="run", ax=ax)
    target, steps = numbers["final_loss_optimised"], numbers["steps"]
    ax.axhline(target, color="grey", lw=0.8, ls="--")
    ax.axvline(steps, color="grey", lw=0.8, ls=":")
    if not numbers["speedup_lower_bound"]:
        crossing = numbers["conventional_steps_to_target"]
        ax.plot([crossing], [target], "k*", ms=12, label=f"conventional reaches it: {numbers['speedup']:.2f} x T")
    ax.set(xscale="log", xlabel="step t", ylabel="desired loss $L_{dsr}(\\theta_t)$", title=title)
    ax.legend()
    return fig


def policy_image(experiment: PolicyExperiment, title: str):
    """The policy as an image: a sample of examples (rows, by group) x steps, colour N gamma."""
    matrix = policy_matrix(experiment)
    fig, ax = plt.subplots(figsize=(8, 4))
    image = ax.imshow(matrix.values, aspect="auto", cmap="magma", vmin=0,
                      vmax=float(np.quantile(matrix.values, 0.99)), interpolation="nearest")
    groups = matrix.index.get_level_values("group")
    edges = [i for i in range(1, len(groups)) if groups[i] != groups[i - 1]]
    for edge in edges:
        ax.axhline(edge - 0.5, color="white", lw=1.5)
    starts, ends = [0] + edges, edges + [len(groups)]
    ax.set_yticks([(a + b - 1) / 2 for a, b in zip(starts, ends)], [groups[a] for a in starts])
    round_step_ticks(ax, matrix.columns.to_numpy())
    ax.set(xlabel="step t", ylabel="training examples (by group)", title=title)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="weight N gamma (1 = uniform)")
    return fig


def weights(experiment: PolicyExperiment, title: str, *, zero_threshold: float):
    """Mean weight per group over training, and the share of each group switched off."""
    frame = weights_frame(experiment, zero_threshold=zero_threshold)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), layout="constrained")
    sns.lineplot(data=frame, x="step", y="mean_weight", hue="group", ax=axes[0])
    axes[0].axhline(1, color="grey", lw=0.8, ls="--")
    axes[0].set(ylabel="mean weight N gamma", title=title)
    sns.lineplot(data=frame, x="step", y="zero_fraction", hue="group", ax=axes[1])
    axes[1].set(ylabel=f"fraction with N gamma < {zero_threshold:g}", title="switched off")
    legend_below(fig, *axes[0].get_legend_handles_labels(), title="group")
    return fig


def similarity(experiment: PolicyExperiment, title: str, *, active_threshold: float):
    """SNR of the active examples' contributions per step, and the share of examples active."""
    frame = similarity_frame(experiment, active_threshold=active_threshold)
    frame = frame[frame.step > 0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), layout="constrained")
    sns.lineplot(data=frame, x="step", y="snr", hue="run", marker="o", ax=axes[0])
    axes[0].axhline(0, color="grey", lw=0.8)
    axes[0].set(ylabel="SNR of CT over active examples", title=title)
    sns.lineplot(data=frame, x="step", y="active_fraction", hue="run", marker="o", ax=axes[1])
    axes[1].set(ylabel="fraction of examples active", ylim=(0, 1.05), title="active examples")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    legend_below(fig, *axes[0].get_legend_handles_labels(), title="run")
    return fig


def contribution_spread(contributions: pd.DataFrame, title: str, *, window: tuple[float, float] = (-3, 5)):
    """Histogram of CT_n / mean CT over the active examples in the second half of training, per run, with the
    Learning Law's prediction marked: every active example of the optimal policy at 1. The legend, under the
    panel, says how much of each run falls outside the drawn window."""
    late = late_active(contributions)
    inside = late.relative_ct.between(*window)
    outside = (~inside).groupby(late.run).mean()
    shown = late[inside].assign(run=lambda f: f.run + " (" + f.run.map(outside).map("{:.0%}".format) + " outside)")
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    sns.histplot(data=shown, x="relative_ct", hue="run", bins=80, stat="density", common_norm=False,
                 element="step", ax=ax)
    runs = ax.get_legend()
    handles = [*runs.legend_handles, ax.axvline(1, color="black", lw=1.2, ls="--"), ax.axvline(0, color="grey", lw=1, ls=":")]
    labels = [*(text.get_text() for text in runs.get_texts()), "Learning Law: the optimal policy's active examples, all at 1",
              "0: an example that does not move the desired loss"]
    runs.remove()
    ax.set(xlabel=f"CT_n / mean CT of the active examples (window [{window[0]:g}, {window[1]:g}])",
           ylabel="density", title=title)
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False, fontsize="small")
    return fig


def fits(experiment: PolicyExperiment, title: str):
    """Both T-step curves on log-log axes with their fitted L0 + (B/t)^beta (dashed, in the fit window)."""
    frame = fit_frame(experiment)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.lineplot(data=frame, x="step", y="loss", hue="run", ax=ax, lw=2.5, alpha=0.5)
    sns.lineplot(data=frame[frame.in_fit_window], x="step", y="fitted", hue="run", ax=ax, ls="--", lw=1, legend=False)
    ax.set(xscale="log", yscale="log", xlabel="step t", ylabel="desired loss", title=title + " (dashed: fit)")
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))  # 1, 10, 100, not 10^0, 10^1, 10^2
    ax.set_yticks(_loss_ticks(pd.concat([frame.loss, frame.fitted[frame.in_fit_window]])))  # what is drawn
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:.3g}"))  # 0.3 and 6.2, not 3 x 10^-1 and 6.2 x 10^0
    ax.yaxis.set_minor_formatter(NullFormatter())
    return fig


def _loss_ticks(values: pd.Series) -> list[float]:
    """Round ticks for a log-scaled loss axis: 1, 2, 3 and 5 times a power of 10 within the values' range, or, when
    fewer than three of those fall in it (a loss between 5.3 and 6.4), evenly spaced round values (5.4, 5.6, ...)."""
    low, high = float(values.min()), float(values.max())
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    ticks = [m * 10.0 ** k for k in decades for m in (1, 2, 3, 5) if low <= m * 10.0 ** k <= high]
    if len(ticks) < 3:
        ticks = [v for v in MaxNLocator(nbins=6).tick_values(low, high) if low <= v <= high]
    return ticks


def identifiability(ident: pd.DataFrame, policy_steps: int, title: str):
    """B and beta fitted on the first T steps of a conventional run, with their range over fit windows."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), layout="constrained")
    for ax, key in zip(axes, ("B", "beta")):
        ax.fill_between(ident["T"], ident[f"{key}_low"], ident[f"{key}_high"], alpha=0.3, label="range over fit windows")
        ax.plot(ident["T"], ident[key], "o-", label="fit")
        ax.axvline(policy_steps, color="grey", ls=":", label="T of the policy run")
        ax.set(xscale="log", yscale="log" if key == "B" else "linear", xlabel="first T steps fitted", ylabel=key)
    fig.suptitle(title)
    legend_below(fig, *axes[0].get_legend_handles_labels())
    return fig


def contribution_vs_weight(contributions: pd.DataFrame, title: str):
    """Every example's contribution against its weight, at the middle recorded step of the optimised run."""
    optimised = contributions[contributions.run == "optimised"]
    steps = optimised.step.unique()
    middle = steps[len(steps) // 2]
    fig, ax = plt.subplots(figsize=(6, 4))
    sns.scatterplot(data=optimised[optimised.step == middle], x="ct", y="weight", hue="group", ax=ax)
    ax.set(xlabel="contribution CT_n", ylabel="weight N gamma", title=f"{title}, step {middle}")
    return fig


def retrain_curves(curves: pd.DataFrame):
    """Desired loss while retraining with each weighting scheme in the package's training loop."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.lineplot(data=curves, x="step", y="val_loss", hue="scheme", marker="o", ax=ax)
    ax.set(xlabel="optimiser step (AdamW, minibatches)", ylabel="desired loss", title="Retraining with the one loop")
    return fig
