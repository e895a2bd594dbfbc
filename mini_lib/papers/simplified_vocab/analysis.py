"""From the raw results of arXiv 2404.02204's grid (``experiment``) to its numbers: accuracies,
size ratios and power laws.

* ``model_accuracy``: each model's zero-shot accuracy, averaged over tasks, on the simple-tier tasks
  and on the tasks in its own training vocabulary.
* ``size_ratio_to_match``: the paper's "comparable to models ~6x larger", answered with our numbers.
* ``scaling_fits``: loss against model size N (non-embedding parameters, Kaplan's convention), data D
  (the data-size runs of ``experiment.data_size_cells``) and compute C (the lower envelope of every
  simple model's validation curve against training FLOPs, Kaplan's L(C)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.scaling import PowerLawFit, fit_power_law
from mini_lib.papers.simplified_vocab.data import VARIANTS


def model_accuracy(zero_shot: pd.DataFrame, own_task_set: dict[str, str], metric: str = "acc") -> pd.DataFrame:
    """Average accuracy over tasks per model, on the simple-tier tasks and on its own vocabulary's tasks.

    ``own_task_set`` maps a data variant to the task set in its training vocabulary
    (storyworld: simple -> "simple", unrestricted -> "rich").
    """
    per_set = zero_shot.groupby(["name", "data", "hidden", "layers", "parameters", "non_embedding", "task_set"],
                                as_index=False)[metric].mean()
    simple = per_set[per_set.task_set == "simple"].drop(columns="task_set").rename(columns={metric: "acc_simple_tasks"})
    own = per_set[per_set.task_set == per_set.data.map(own_task_set)][["name", metric]].rename(
        columns={metric: "acc_own_tasks"})
    return simple.merge(own, on="name").sort_values(["data", "parameters"]).reset_index(drop=True)


CHANCE_K = 2.0  # the chance band: chance +- 2 binomial standard errors over a task's items


def chance_band(chance: float, n_items: int) -> tuple[float, float]:
    """Where a model that only guesses lands on ``n_items`` items (about 95% of the time)."""
    half = CHANCE_K * math.sqrt(chance * (1 - chance) / n_items)
    return chance - half, chance + half


def against_chance(zero_shot: pd.DataFrame) -> pd.DataFrame:
    """Per task and data type: how many models score above, inside and below the chance band. A task whose
    models all sit below it was not learnt backwards: small models share their preferences (one option's
    words over the other's), so one shared set of items can put them all on the same side of chance."""
    rows = []
    for (task, data), models in zero_shot.groupby(["task", "data"], sort=False):
        low, high = chance_band(float(models.chance.iloc[0]), int(models.n.min()))
        rows.append({"task": task, "data": data, "items": int(models.n.min()), "band": f"{low:.2f}-{high:.2f}",
                     "mean_acc": float(models.acc.mean()), "above": int((models.acc > high).sum()),
                     "inside": int(models.acc.between(low, high).sum()), "below": int((models.acc < low).sum())})
    return pd.DataFrame(rows)


# --- "comparable to models Nx larger" ------------------------------------------------------------


@dataclass(frozen=True)
class SizeMatch:
    """The best model of one data type, and the smallest model of the other that is at least as accurate."""

    column: str
    best_of: str  # the data type whose best model is the target
    best: str
    best_params: int
    best_acc: float
    match: str | None  # None: no model of the other type reaches it
    match_params: int | None
    match_acc: float | None
    largest_other: str
    largest_other_params: int
    largest_other_acc: float

    @property
    def other(self) -> str:
        return "unrestricted" if self.best_of == "simple" else "simple"

    @property
    def ratio(self) -> float | None:
        """Unrestricted parameters / simple parameters of the matched pair (>1: simple data saves parameters)."""
        if self.match_params is None:
            return None
        return (self.match_params / self.best_params if self.best_of == "simple"
                else self.best_params / self.match_params)

    def statement(self) -> str:
        head = f"best {self.best_of} model {self.best} ({millions(self.best_params)}): {self.best_acc:.3f}"
        if self.match is None:
            bound = self.largest_other_params / self.best_params
            if self.best_of == "unrestricted":
                bound = 1 / bound
            return (f"{head}; no {self.other} model reaches it (the largest, {self.largest_other} "
                    f"({millions(self.largest_other_params)}), scores {self.largest_other_acc:.3f}): "
                    f"unrestricted/simple size ratio {'>' if self.best_of == 'simple' else '<'} {bound:.2f}x")
        return (f"{head}; smallest {self.other} model at least as accurate: {self.match} "
                f"({millions(self.match_params)}, {self.match_acc:.3f}): "
                f"unrestricted/simple size ratio {self.ratio:.2f}x")


def size_ratio_to_match(accuracy: pd.DataFrame, column: str = "acc_own_tasks", tolerance: float = 0.0,
                        best_of: str = "simple") -> SizeMatch:
    """The paper's comparison: the best ``best_of`` model, then the smallest model of the other data type
    within ``tolerance`` of its accuracy.

    ``best_of="simple"`` is the paper's direction (simple-165M against larger unrestricted models); when
    no unrestricted model in the grid gets there, ``best_of="unrestricted"`` still measures a ratio:
    the smallest simple model that matches the best unrestricted one. Sizes are total parameters, as
    the paper counts Pythia-1B or OPT-350M; ties go to the smaller model.
    """
    choose("best_of", best_of, VARIANTS)
    frames = {name: accuracy[accuracy.data == name].sort_values("parameters") for name in VARIANTS}
    if any(frame.empty for frame in frames.values()):
        raise ConfigError("size_ratio_to_match needs models of both data types")
    own, other = frames[best_of], frames["unrestricted" if best_of == "simple" else "simple"]
    best = own.loc[own[column].idxmax()]  # the first maximum: the smallest model reaching it
    matching = other[other[column] >= best[column] - tolerance]
    largest = other.iloc[-1]
    match = matching.iloc[0] if len(matching) else None
    return SizeMatch(
        column=column, best_of=best_of, best=best["name"], best_params=int(best["parameters"]),
        best_acc=float(best[column]),
        match=None if match is None else match["name"],
        match_params=None if match is None else int(match["parameters"]),
        match_acc=None if match is None else float(match[column]),
        largest_other=largest["name"], largest_other_params=int(largest["parameters"]),
        largest_other_acc=float(largest[column]),
    )


@dataclass(frozen=True)
class SizePair:
    """A simple model and an unrestricted one about ``ratio`` times its size: where "comparable to models Nx
    larger" is checked, so that the check is made at the size ratio the claim names (or the grid's nearest)."""

    column: str
    simple: str
    simple_params: int
    simple_acc: float
    unrestricted: str
    unrestricted_params: int
    unrestricted_acc: float

    @property
    def ratio(self) -> float:
        return self.unrestricted_params / self.simple_params

    def statement(self) -> str:
        return (f"{self.simple} ({millions(self.simple_params)}) {self.simple_acc:.3f} vs {self.unrestricted} "
                f"({millions(self.unrestricted_params)}, {self.ratio:.1f}x) {self.unrestricted_acc:.3f}: "
                f"{self.simple_acc - self.unrestricted_acc:+.3f}")


def pair_at_ratio(accuracy: pd.DataFrame, column: str, ratio: float) -> SizePair | None:
    """The simple and the unrestricted model whose size ratio (unrestricted / simple parameters) is the
    nearest to ``ratio`` from above (ties: the larger simple model); None when no pair is that far apart.

    The paper's "comparable to models ~6x larger" compares models about 6x apart (165M against Pythia-1B);
    a grid has few exact ratios, and a pair farther apart than the nearest would check another claim."""
    simple, other = (accuracy[accuracy.data == name] for name in VARIANTS)
    pairs = simple.merge(other, how="cross", suffixes=("_s", "_u"))
    pairs = pairs[pairs.parameters_u >= ratio * pairs.parameters_s]
    if pairs.empty:
        return None
    best = pairs.assign(r=pairs.parameters_u / pairs.parameters_s).sort_values(
        ["r", "parameters_s"], ascending=[True, False]).iloc[0]
    return SizePair(column, best["name_s"], int(best.parameters_s), float(best[f"{column}_s"]),
                    best["name_u"], int(best.parameters_u), float(best[f"{column}_u"]))


def loss_steps(summary: pd.DataFrame) -> pd.DataFrame:
    """Per data type, what one step to a wider (same depth) or a deeper (same width) model does to the final
    validation loss: how many such steps lower it, and the mean change. The prose asks "does loss fall with
    width and depth?"; this answers it from the run instead of from expectation."""
    rows = []
    for data, grid in summary.groupby("data", sort=False):
        for step, axis, other in (("wider", "hidden", "layers"), ("deeper", "layers", "hidden")):
            values = sorted(grid[axis].unique())
            table = grid.pivot_table(index=other, columns=axis, values="val_loss")
            changes = [float(table.at[o, b] - table.at[o, a]) for a, b in zip(values, values[1:]) for o in table.index
                       if not (math.isnan(table.at[o, a]) or math.isnan(table.at[o, b]))]
            rows.append({"data": data, "step": f"{step} ({axis} up one grid value, same {other})",
                         "pairs": len(changes), "loss_fell": sum(c < 0 for c in changes),
                         "mean_change": float(np.mean(changes)) if changes else math.nan})
    return pd.DataFrame(rows)


def millions(n: int) -> str:
    """A parameter count as the tables print it: ``1.23M``."""
    return f"{n / 1e6:.2f}M"


# --- power laws -------------------------------------------------------------------------------------


@dataclass
class ScalingFits:
    """Loss against model size N, data D and compute C, with the points each law was fitted to."""

    n: PowerLawFit | None
    d: PowerLawFit | None
    c: PowerLawFit | None
    n_points: pd.DataFrame  # non_embedding, val_loss
    d_points: pd.DataFrame  # tokens, val_loss
    c_points: pd.DataFrame  # flops, val_loss (all), frontier (bool)

    def table(self) -> pd.DataFrame:
        """Exponent, its standard error and R^2 of each law (NaN where there were too few points)."""
        rows = []
        for law, x, fit in (("N", "non-embedding parameters", self.n), ("D", "training tokens", self.d),
                            ("C", "training FLOPs", self.c)):
            rows.append({"law": f"L({law})", "x": x, "exponent": fit.exponent if fit else math.nan,
                         "exponent_err": fit.exponent_err if fit else math.nan, "r2": fit.r2 if fit else math.nan,
                         "points": fit.n_points if fit else 0})
        return pd.DataFrame(rows)


def compute_frontier(points: pd.DataFrame) -> pd.Series:
    """True for the points no cheaper-or-equal point beats: the lower envelope of loss against FLOPs."""
    order = points.sort_values(["flops", "val_loss"]).index
    best, flags = math.inf, pd.Series(False, index=points.index)
    for i in order:
        if points.at[i, "val_loss"] < best:
            best = points.at[i, "val_loss"]
            flags[i] = True
    return flags


def scaling_fits(summary: pd.DataFrame, curves: pd.DataFrame, data_sweep: pd.DataFrame | None,
                 variant: str = "simple") -> ScalingFits:
    """Fit the three power laws on ``variant``'s models (the paper fitted its simple models).

    N: final validation loss of every grid model (all trained on the same budget). D: the data-size
    runs plus the full-budget grid run of the same shape. C: the frontier of all validation curves.
    """
    grid = summary[summary.data == variant]
    n_points = grid[["name", "non_embedding", "val_loss"]].reset_index(drop=True)
    d_points = pd.DataFrame(columns=["name", "tokens", "val_loss"])
    if data_sweep is not None and len(data_sweep):
        sweep = data_sweep[data_sweep.data == variant]
        shape = sweep.iloc[0]
        full = grid[(grid.hidden == shape["hidden"]) & (grid.layers == shape["layers"])]
        d_points = pd.concat([sweep, full])[["name", "tokens", "val_loss"]].sort_values("tokens").reset_index(drop=True)
    c_points = curves[(curves.data == variant) & (curves.step > 0)]
    c_points = c_points[["name", "step", "flops", "val_loss"]].reset_index(drop=True)
    c_points["frontier"] = compute_frontier(c_points)
    frontier = c_points[c_points.frontier]
    return ScalingFits(
        n=_fit_or_none(n_points["non_embedding"], n_points["val_loss"]),
        d=_fit_or_none(d_points["tokens"], d_points["val_loss"]),
        c=_fit_or_none(frontier["flops"], frontier["val_loss"]),
        n_points=n_points, d_points=d_points, c_points=c_points,
    )


def _fit_or_none(x, y) -> PowerLawFit | None:
    """A power-law fit, or None with fewer than 3 distinct x (no uncertainty without a spare point)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(np.unique(x)) < 3:
        return None
    return fit_power_law(x, y)
