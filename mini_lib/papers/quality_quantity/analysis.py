"""The quality-vs-quantity grid's raw results (arXiv 2411.15821) turned into numbers and tables.

``add_paper_metrics`` adds the paper's accuracy (correct tokens per 128-token window) and the epochs to
each cell, ``summarise`` averages the cells over seeds, and ``paired_changes`` gives each cell's change
from the clean cell of the same size and seed. The paper's models never see a story twice;
``duplication_by_epochs`` reads the 25% duplication effect as a function of epochs over the clean data.
``duplication_as_lost_steps`` reads the 25% cell's loss off the clean learning curve of the budget cells,
beside the share of the tokens the copied story fills (the paper's rate counts story slots, not tokens).
``training_losses`` reads every cell's training loss per step, and ``train_vs_validation`` puts what a
model learns (its training loss) beside what it generalises (its validation loss, and whether it climbs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mini_lib.core.checkpoints import read_frame
from mini_lib.core.claims import SeedComparison, compare_seeds
from mini_lib.papers.quality_quantity.duplication import paper_accuracy_per_window

# Two of the claims' rules (``paper.claims``), here because ``duplication_by_epochs`` applies the "neutral"
# rule too. Every difference must also exceed SEED_MARGIN_K seed standard deviations
# (``mini_lib.core.claims.compare_seeds``).
SEED_MARGIN_K = 2.0
NEUTRAL_TOLERANCE_PCT = 1.0  # "neutral": 25% duplication costs at most 1% accuracy


# ---- the budget control: duplication priced in clean training steps ----------------------------

def clean_curves(results: pd.DataFrame, budget: pd.DataFrame) -> pd.DataFrame:
    """Each seed's clean learning curve on all the stories: the ``budget`` cells and the grid's clean cell,
    one row per (seed, steps), in order of steps."""
    clean = pd.concat([frame[(frame.rate == 0) & np.isclose(frame["size"], 1.0)] for frame in (results, budget)])
    return clean.sort_values(["seed", "steps"], ignore_index=True)


def duplication_as_lost_steps(results: pd.DataFrame, budget: pd.DataFrame, rate: float = 0.25) -> pd.DataFrame:
    """Per seed, the training steps a clean run needs to reach the validation loss of the ``rate`` cell
    (all the stories, the grid's steps): read off that seed's clean learning curve, i.e. the ``budget``
    cells and the grid's clean cell, linearly between them.

    ``equivalent_fraction`` = those steps / the grid's steps. A loss outside the curve is clipped to its
    end and flagged in ``outside``: "below" (worse than the shortest clean run), "above" (better than the
    full clean run). ``repeated_token_share``: the share of the training tokens the copied story fills.
    """
    columns = ["seed", "steps", "repeated_token_share", "val_loss", "clean_val_loss", "equivalent_steps",
               "equivalent_fraction", "outside"]
    full = results[np.isclose(results["size"], 1.0)]
    copied = full[np.isclose(full.rate, rate)].set_index("seed")
    rows = []
    for seed, curve in clean_curves(results, budget).groupby("seed"):
        if seed not in copied.index or len(curve) < 2:
            continue
        cell = copied.loc[seed]
        steps, outside = _steps_at_loss(curve.steps.to_numpy(float), curve.val_loss.to_numpy(float), cell.val_loss)
        rows.append({"seed": seed, "steps": cell.steps, "repeated_token_share": cell.repeated_token_share,
                     "val_loss": cell.val_loss, "clean_val_loss": curve.val_loss.iloc[-1], "equivalent_steps": steps,
                     "equivalent_fraction": steps / cell.steps, "outside": outside})
    return pd.DataFrame(rows, columns=columns)


def _steps_at_loss(steps: np.ndarray, losses: np.ndarray, loss: float) -> tuple[float, str]:
    """Where a learning curve (``losses`` at increasing ``steps``) first comes down to ``loss``, linearly
    between its points; clipped to its ends and flagged "below" / "above" outside it."""
    if loss > losses[0]:
        return float(steps[0]), "below"
    for (s0, l0), (s1, l1) in zip(zip(steps, losses), zip(steps[1:], losses[1:])):
        if l1 <= loss <= l0:
            return float(s0 + (s1 - s0) * (l0 - loss) / (l0 - l1) if l0 > l1 else s0), ""
    return float(steps[-1]), "above"


def lost_steps_note(lost: pd.DataFrame, rate: float = 0.25) -> str:
    """``duplication_as_lost_steps`` in one sentence for the claim's note."""
    marks = {"below": "<=", "above": ">=", "": ""}
    per_seed = ", ".join(f"{marks[row.outside]}{row.equivalent_fraction:.0%}" for row in lost.itertuples())
    clipped = "; <=, >=: outside the clean curve, clipped to its end" if (lost.outside != "").any() else ""
    shares = ", ".join(f"{share:.0%}" for share in lost.repeated_token_share)
    return (f"{rate:.0%} duplication trains like a clean run of {lost.equivalent_fraction.mean():.0%} of the steps "
            f"(per seed {per_seed}{clipped}); the copied story fills {lost.repeated_token_share.mean():.0%} of the "
            f"tokens (per seed {shares})")


# ---- metrics and summaries -------------------------------------------------------------------

def add_paper_metrics(summary: pd.DataFrame) -> pd.DataFrame:
    """Grid summary + accuracy in %, the paper's correct tokens per 128-token window, and epochs
    (training tokens / the variant's tokens)."""
    out = summary.copy()
    out["val_accuracy_pct"] = 100 * out["val_accuracy"]
    out["val_correct_per_128"] = [paper_accuracy_per_window(a) for a in out["val_accuracy"]]
    out["epochs"] = out["tokens"] / out["variant_tokens"]
    return out


SUMMARY_METRICS = ("val_loss", "val_perplexity", "val_perplexity_batch_mean", "val_accuracy_pct",
                   "val_correct_per_128", "final_train_loss")


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (over seeds, ddof 1) of every metric per (size, rate)."""
    grouped = results.groupby(["size", "rate"])
    out = grouped[list(SUMMARY_METRICS)].agg(["mean", "std"])
    out.columns = [f"{metric}_{stat}" for metric, stat in out.columns]
    out["n_seeds"] = grouped.size()
    out["epochs"] = grouped["epochs"].mean()
    return out.reset_index()


def training_losses(grid_dir: str | Path, results: pd.DataFrame) -> pd.DataFrame:
    """Each cell's training loss at every step, from ``records.jsonl`` in its folder under ``grid_dir``:
    the loss on the cell's own batches (at 100% duplication, one story over and over). A step recorded
    twice (a resumed run) counts once, as its last record."""
    frames = []
    for cell in results.itertuples():
        records = read_frame(Path(grid_dir) / cell.name / "records.jsonl").drop_duplicates("step", keep="last")
        frames.append(pd.DataFrame({"name": cell.name, "size": cell.size, "rate": cell.rate, "seed": cell.seed,
                                    "step": records["step"].to_numpy(), "train_loss": records["loss"].to_numpy()}))
    columns = ["name", "size", "rate", "seed", "step", "train_loss"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def train_vs_validation(results: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per (size, rate), over seeds: the training loss at the end (``final_train_loss``, the mean of the last
    steps) beside the validation loss at the end, its lowest evaluation and the step of it (on the curve
    averaged over seeds), and ``climb_after_lowest`` = end - lowest (0 when it ends at its lowest). A model
    that memorises its training data shows a low training loss and a validation loss that climbs. The end is
    the averaged curve's last point (the final evaluation), so the climb is never negative."""
    mean_curve = curves.groupby(["size", "rate", "step"]).val_loss.mean().reset_index()  # in order of steps
    rows = []
    for (size, rate), cells in results.groupby(["size", "rate"]):
        curve = mean_curve[np.isclose(mean_curve["size"], size) & np.isclose(mean_curve.rate, rate)]
        lowest = curve.loc[curve.val_loss.idxmin()] if len(curve) else None
        final = curve.val_loss.iloc[-1] if len(curve) else cells.val_loss.mean()
        rows.append({"size": size, "rate": rate, "final_train_loss": cells.final_train_loss.mean(),
                     "val_loss_final": final,
                     "val_loss_lowest": np.nan if lowest is None else lowest.val_loss,
                     "lowest_at_step": np.nan if lowest is None else int(lowest.step),
                     "climb_after_lowest": np.nan if lowest is None else final - lowest.val_loss})
    return pd.DataFrame(rows)


def paired_changes(results: pd.DataFrame) -> pd.DataFrame:
    """Each cell's change relative to the clean (0%) cell of the same size AND seed, in %:
    ``loss_change_pct`` and ``acc_change_pct`` (paired, so seed-to-seed noise partly cancels)."""
    clean = results[results.rate == 0].set_index(["size", "seed"])
    keys = pd.MultiIndex.from_frame(results[["size", "seed"]])
    out = results.copy()
    out["loss_change_pct"] = 100 * (results["val_loss"].to_numpy() / clean["val_loss"].reindex(keys).to_numpy() - 1)
    out["acc_change_pct"] = 100 * (results["val_accuracy"].to_numpy() / clean["val_accuracy"].reindex(keys).to_numpy() - 1)
    if "epochs" in results:
        out["clean_epochs"] = clean["epochs"].reindex(keys).to_numpy()
    return out


def duplication_by_epochs(results: pd.DataFrame, rate: float = 0.25) -> pd.DataFrame:
    """The accuracy change at ``rate`` (paired with the clean cell of the same size and seed) per size,
    with the epochs of its clean data and the verdict of the "neutral" rule (``neutral_comparison``)."""
    changes = paired_changes(results)
    rows = []
    for size, group in changes[np.isclose(changes.rate, rate)].dropna(subset=["acc_change_pct"]).groupby("size"):
        comparison, verdict = neutral_comparison(group["acc_change_pct"].to_numpy(), NEUTRAL_TOLERANCE_PCT)
        rows.append({"size": size, "clean_epochs": group["clean_epochs"].mean(), "n_seeds": len(group),
                     "acc_change_pct_mean": comparison.difference, "acc_change_pct_std": comparison.spread,
                     "margin_pct": comparison.margin, "verdict": verdict})
    columns = ["size", "clean_epochs", "n_seeds", "acc_change_pct_mean", "acc_change_pct_std", "margin_pct", "verdict"]
    return pd.DataFrame(rows, columns=columns).sort_values("clean_epochs", ignore_index=True)


def neutral_comparison(changes_pct: np.ndarray, tolerance: float, two_sided: bool = False) -> tuple[SeedComparison, str]:
    """"No (harmful) effect" over seeds: ``reversed`` when the mean change is below zero (or, ``two_sided``,
    away from zero) by more than max(``tolerance``, k seed sd); ``holds`` when it is not and the margin is
    the tolerance itself (seed noise below it; a single seed counts at face value); else ``within noise``
    (the seeds are too noisy to tell a neutral effect from a harmful one)."""
    changes_pct = np.asarray(changes_pct, dtype=float)
    comparison = compare_seeds(changes_pct, np.zeros_like(changes_pct), direction=1, k=SEED_MARGIN_K,
                               floor=tolerance)
    harmful = comparison.verdict == "reversed" or (two_sided and comparison.verdict == "holds")
    if harmful:
        return comparison, "reversed"
    return comparison, "holds" if comparison.margin <= tolerance else "within noise"
