"""What arXiv 2411.15821 reports, beside our grid.

``PAPER_RESULTS`` is the paper's results table (one seed per cell), ``PAPER_ABSTRACT`` the abstract's
percentages; ``abstract_vs_table`` shows where the abstract disagrees with the table. ``setup_table``
puts the paper's set-up beside this run's. ``paper_grid`` puts the table beside our numbers cell by cell,
and ``paper_vs_ours`` turns that grid into the paper-vs-ours rows every notebook shows
(``mini_lib.core.claims.PaperRow``). ``claims`` states the paper's four claims as
``mini_lib.core.claims.Claim`` rows, each decided over seeds by ``compare_seeds`` with a rule fixed here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, SeedComparison, compare_seeds, paper_vs_ours_table
from mini_lib.core.models import model_size
from mini_lib.papers.quality_quantity.analysis import (
    NEUTRAL_TOLERANCE_PCT,
    SEED_MARGIN_K,
    duplication_as_lost_steps,
    duplication_by_epochs,
    lost_steps_note,
    neutral_comparison,
    paired_changes,
)
from mini_lib.papers.quality_quantity.data import QualityQuantityData
from mini_lib.papers.quality_quantity.duplication import PAPER_WINDOW
from mini_lib.papers.quality_quantity.experiment import paper_model
from mini_lib.papers.quality_quantity.settings import QualityQuantitySettings

PAPER_ID = "2411.15821"

# The paper's results table (arXiv 2411.15821): (duplication rate, size fraction) ->
# (validation accuracy as correct tokens per 128-token window, validation loss). One seed each.
# The same numbers (to 4 decimals) are in the official repository,
# github.com/Aryan-Sajith/URV-Data_Quantity_VS_Data_Quality-Research-Summer-2024,
# data/tinyStories/outputs/graphing/graph.py (valuation_accuracy, valuation_loss).
PAPER_SOURCE = "arXiv 2411.15821 results table (= official repo data/tinyStories/outputs/graphing/graph.py)"
PAPER_RESULTS: dict[tuple[float, float], tuple[float, float]] = {
    (0.00, 0.25): (49.02, 3.184), (0.00, 0.50): (49.20, 3.185), (0.00, 1.00): (49.19, 3.186),
    (0.25, 0.25): (49.45, 3.184), (0.25, 0.50): (49.27, 3.190), (0.25, 1.00): (49.33, 3.189),
    (0.50, 0.25): (48.30, 3.252), (0.50, 0.50): (48.26, 3.256), (0.50, 1.00): (48.23, 3.252),
    (0.75, 0.25): (45.62, 3.453), (0.75, 0.50): (45.46, 3.468), (0.75, 1.00): (45.67, 3.457),
    (1.00, 0.25): (6.48, 12.29), (1.00, 0.50): (7.56, 12.26), (1.00, 1.00): (7.35, 12.02),
}

# The abstract's percentages, the same in v1 (24 Nov 2024), v3 and v4 (15 Jul 2025; v2 not checked):
# claim -> (abstract value in %, the duplication rate it is about, the quantity it is a change of).
# The table reproduces the first two (from its 25%- and 50%-size columns); no cell gives -40%: the
# table's 100% duplication cells are -85% to -87% of their clean accuracy.
PAPER_ABSTRACT: dict[str, tuple[float, float, str]] = {
    "25% duplication: accuracy change": (0.87, 0.25, "accuracy"),
    "25% duplication: perplexity change": (0.52, 0.25, "perplexity"),
    "100% duplication: accuracy change": (-40.0, 1.00, "accuracy"),
}
# The table's perplexities (official graph.py, valuation_perplexity), needed for the abstract's +0.52%.
PAPER_PERPLEXITY: dict[tuple[float, float], float] = {
    (0.00, 0.25): 24.2228, (0.00, 0.50): 24.2482, (0.00, 1.00): 24.2707,
    (0.25, 0.25): 24.2176, (0.25, 0.50): 24.3762, (0.25, 1.00): 24.3521,
}
ABSTRACT_SOURCE = "arXiv 2411.15821 abstract (v1, v3, v4)"

# The claims' rules, fixed before any run (``claims``). The paper's own single-seed table passes all four
# (spread 0.06%, +0.14..+0.88%, +8.4..+8.9%, -85..-88%). Every difference must also exceed
# SEED_MARGIN_K seed standard deviations (``mini_lib.core.claims.compare_seeds``). SEED_MARGIN_K and
# NEUTRAL_TOLERANCE_PCT are in ``analysis``, whose ``duplication_by_epochs`` applies the "neutral" rule too.
SIZE_TOLERANCE_PCT = 1.0  # "size barely matters": smallest vs largest size, clean loss within 1%
SHARP_LOSS_INCREASE_PCT = 5.0  # "degrades sharply": 75% duplication raises the loss by more than 5%
COLLAPSE_ACCURACY_DROP_PCT = 50.0  # "collapses": 100% duplication at least halves the accuracy
PAPER_REGIME_EPOCHS = 1.0  # the paper's regime: the clean data is seen at most once
NO_DIFFERENCE_CLAIMS = ("size", "neutral")  # claims that something makes no difference (Claim.no_difference)
PAPER_CLAIMS: dict[str, tuple[str, str, str]] = {  # key -> (claim, paper's evidence, where)
    "size": ("size barely matters at this budget (clean cells)", "0.06% loss spread (3.184 / 3.185 / 3.186)",
             "results table"),
    "neutral": ("25% duplication is neutral to slightly positive", "accuracy +0.14% .. +0.88% (one seed per size)",
                "results table; abstract: +0.87%"),
    "sharp": ("heavy (75%) duplication degrades sharply", "loss +8.4% .. +8.9% (50%: +2.1%)", "results table"),
    "collapse": ("100% duplication collapses", "accuracy -84.6% .. -86.8%", "results table"),
}


def setup_table(settings: QualityQuantitySettings, data: QualityQuantityData) -> pd.DataFrame:
    """The paper's set-up (arXiv 2411.15821, its experimental set-up section) beside this run's, so a
    reader sees at once how far a profile shrinks the model, the schedule and the corpus."""
    s, size = settings, model_size(paper_model(settings, len(data.tokenizer)), settings.seq_len)
    rows = [
        ("model (layers / heads / d / context)", "4 / 4 / 128 / 128 (GPT-2 BPE, 50257 tokens)",
         f"{s.n_layers} / {s.n_heads} / {s.d_model} / {s.seq_len} (our BPE, {len(data.tokenizer)} tokens)"),
        ("parameters", "~7.2M", f"{size.total:,}"),
        ("schedule", "batch 32, 1000 steps, lr 1e-3 -> 1e-4, 100 warmup",
         f"batch {s.batch_size}, {s.steps} steps, lr {s.lr:g} -> {s.lr * s.min_lr_ratio:g}, {s.warmup_steps} warmup"),
        ("tokens per model", "4.1M", f"{s.steps * s.batch_size * s.seq_len:,}"),
        ("corpus (train / validation stories)", "TinyStories 2.12M / 22K",
         f"{s.corpus} {len(data.train_docs):,} / {data.n_val_docs:,}"),
        ("seeds per cell", "1", str(s.n_seeds)),
    ]
    return pd.DataFrame(rows, columns=["setting", "paper", "this run"])


def paper_table() -> pd.DataFrame:
    """``PAPER_RESULTS`` as a frame, with the token accuracy each window count implies and its source."""
    return pd.DataFrame([
        {"size": size, "rate": rate, "correct_per_128": acc, "accuracy_pct": 100 * acc / PAPER_WINDOW, "val_loss": loss,
         "source": PAPER_SOURCE}
        for (rate, size), (acc, loss) in PAPER_RESULTS.items()
    ])


def abstract_vs_table() -> pd.DataFrame:
    """Each percentage of the abstract beside the change the results table gives, per size column, with sources."""
    rows = []
    for claim, (stated, rate, quantity) in PAPER_ABSTRACT.items():
        values = ({k: v[0] for k, v in PAPER_RESULTS.items()} if quantity == "accuracy" else PAPER_PERPLEXITY)
        changes = {size: 100 * (values[(rate, size)] / values[(0.0, size)] - 1) for size in (0.25, 0.50, 1.00)}
        rows.append({"claim": claim, "abstract_pct": stated, "abstract_source": ABSTRACT_SOURCE,
                     **{f"table_pct_size_{int(100 * size)}": change for size, change in changes.items()},
                     "table_source": PAPER_SOURCE})
    return pd.DataFrame(rows)


def paper_grid(summary: pd.DataFrame) -> pd.DataFrame:
    """Every cell of the paper's table and of ours (outer join), the paper's numbers beside ours.

    Absolute numbers differ by construction (GPT-2 BPE on TinyStories vs our tokenizer and corpus),
    so each side also gets its change relative to its own clean (0%) cell of the same size:
    ``*_loss_change_pct`` and ``*_acc_change_pct``.
    """
    paper = paper_table().rename(columns={"correct_per_128": "paper_correct_per_128",
                                          "val_loss": "paper_loss", "accuracy_pct": "paper_accuracy_pct"})
    ours = summary.rename(columns={
        "val_correct_per_128_mean": "ours_correct_per_128", "val_correct_per_128_std": "ours_correct_per_128_std",
        "val_loss_mean": "ours_loss", "val_loss_std": "ours_loss_std",
    })[["size", "rate", "ours_correct_per_128", "ours_correct_per_128_std", "ours_loss", "ours_loss_std", "n_seeds"]]
    table = paper.merge(ours, on=["size", "rate"], how="outer").sort_values(["size", "rate"], ignore_index=True)
    for side in ("paper", "ours"):
        clean = table[table.rate == 0].set_index("size")
        base_loss = table["size"].map(clean[f"{side}_loss"])
        base_acc = table["size"].map(clean[f"{side}_correct_per_128"])
        table[f"{side}_loss_change_pct"] = 100 * (table[f"{side}_loss"] / base_loss - 1)
        table[f"{side}_acc_change_pct"] = 100 * (table[f"{side}_correct_per_128"] / base_acc - 1)
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    return table[["size", "rate", "paper_correct_per_128", "ours_correct_per_128", "ours_correct_per_128_std",
                  "paper_loss", "ours_loss", "ours_loss_std", "paper_acc_change_pct", "ours_acc_change_pct",
                  "paper_loss_change_pct", "ours_loss_change_pct", "n_seeds"]]


GRID_QUANTITIES = {  # paper_grid column stem -> quantity; each side's change is against its own clean cell
    "correct_per_128": "correct next tokens per 128-token window",
    "loss": "validation loss",
    "acc_change_pct": "accuracy change vs own clean cell of the same size (%)",
    "loss_change_pct": "validation loss change vs own clean cell of the same size (%)",
}


def paper_vs_ours(grid: pd.DataFrame) -> pd.DataFrame:
    """``paper_grid`` as ``PaperRow``s: per cell (size, duplication rate), the four quantities of ``GRID_QUANTITIES``;
    a note gives our seed spread, or says which side did not run the cell. Absolute numbers differ by
    construction (GPT-2 BPE on TinyStories vs our tokenizer and corpus), the changes are comparable."""
    rows = []
    for cell in grid.itertuples():
        setting = f"{cell.size:.0%} of the stories, {cell.rate:.0%} duplication"
        for stem, quantity in GRID_QUANTITIES.items():
            paper, ours = getattr(cell, f"paper_{stem}"), getattr(cell, f"ours_{stem}")
            spread = getattr(cell, f"ours_{stem}_std", None)
            notes = ["not in this run" if cell.n_seeds == 0 else
                     "" if spread is None else f"ours: mean of {cell.n_seeds} seed(s), "
                     + ("one seed: no sd" if np.isnan(spread) else f"sd {spread:.3g}"),
                     "not in the paper's table" if np.isnan(paper) else ""]
            rows.append(PaperRow(quantity, setting, paper, ours, "; ".join(n for n in notes if n),
                                 "" if np.isnan(paper) else PAPER_SOURCE))
    return paper_vs_ours_table(rows)


def claims(results: pd.DataFrame, budget: pd.DataFrame | None = None) -> list[Claim]:
    """The paper's four claims as ``Claim`` rows, decided on per-seed values (rules: the constants above).

    ``results``: one row per trained cell (``add_paper_metrics``), with an ``epochs`` column. Every
    size's paired changes are pooled; the 25% claim uses only the cells in the paper's regime
    (clean data seen at most ``PAPER_REGIME_EPOCHS`` times). A claim whose cells were not run is "not run".
    ``budget``: the shorter clean runs (``budget_cells``); with them the 25% claim's note prices the
    duplication in clean steps (``duplication_as_lost_steps``). Notes never change a verdict.
    """
    changes = paired_changes(results)
    in_regime = changes[changes.clean_epochs <= PAPER_REGIME_EPOCHS]
    k = f"{SEED_MARGIN_K:g} seed sd"
    clean = in_regime[in_regime.rate == 0]
    sizes = sorted(clean["size"].unique())
    size_change = np.array([])
    if len(sizes) >= 2:
        by_seed = clean.pivot_table(index="seed", columns="size", values="val_loss").dropna()
        size_change = 100 * (by_seed[sizes[0]] / by_seed[sizes[-1]] - 1).to_numpy()
    rows = [
        _claim("size", size_change, f"clean loss of size {sizes[0]:g} vs {sizes[-1]:g}" if len(sizes) >= 2 else "",
               f"holds: |change| <= {SIZE_TOLERANCE_PCT:g}% with {k} <= {SIZE_TOLERANCE_PCT:g}%; "
               f"reversed: |change| > max({SIZE_TOLERANCE_PCT:g}%, {k})",
               lambda v: neutral_comparison(v, SIZE_TOLERANCE_PCT, two_sided=True)),
        _claim("neutral", _at_rate(in_regime, 0.25, "acc_change_pct"),
               f"accuracy change at 25% duplication, cells with clean data seen <= {PAPER_REGIME_EPOCHS:g} epoch",
               f"reversed: change < -max({NEUTRAL_TOLERANCE_PCT:g}%, {k}); holds: not, and {k} <= "
               f"{NEUTRAL_TOLERANCE_PCT:g}%", lambda v: neutral_comparison(v, NEUTRAL_TOLERANCE_PCT)),
        _claim("sharp", _at_rate(changes, 0.75, "loss_change_pct"), "loss change at 75% duplication",
               f"holds: change > max({SHARP_LOSS_INCREASE_PCT:g}%, {k})",
               lambda v: _verdict(compare_seeds(v, np.zeros_like(v), direction=1, k=SEED_MARGIN_K,
                                                floor=SHARP_LOSS_INCREASE_PCT))),
        _claim("collapse", _at_rate(changes, 1.0, "acc_change_pct"), "accuracy change at 100% duplication",
               f"holds: change < -max({COLLAPSE_ACCURACY_DROP_PCT:g}%, {k})",
               lambda v: _verdict(compare_seeds(v, np.zeros_like(v), direction=-1, k=SEED_MARGIN_K,
                                                floor=COLLAPSE_ACCURACY_DROP_PCT))),
    ]
    by_epochs = duplication_by_epochs(results)
    lost = duplication_as_lost_steps(results, budget) if budget is not None and len(budget) else pd.DataFrame()
    notes = []
    if len(by_epochs):
        notes.append("25% accuracy change by epochs over the clean data: " + "; ".join(
            f"{row.clean_epochs:.2g} ep {row.acc_change_pct_mean:+.2f}% ({row.verdict})" for row in by_epochs.itertuples()))
    if len(lost):
        notes.append(lost_steps_note(lost))
    if notes and rows[1].verdict != "not run":
        rows[1] = replace(rows[1], note="; ".join(notes))
    return rows


def _at_rate(changes: pd.DataFrame, rate: float, column: str) -> np.ndarray:
    """Per (size, seed) values of ``column`` at ``rate`` (pooled over sizes)."""
    return changes.loc[np.isclose(changes.rate, rate), column].dropna().to_numpy()


def _verdict(comparison: SeedComparison) -> tuple[SeedComparison, str]:
    return comparison, comparison.verdict


def _claim(key: str, values: np.ndarray, what: str, rule: str, decide) -> Claim:
    claim, paper_value, source = PAPER_CLAIMS[key]
    no_difference = key in NO_DIFFERENCE_CLAIMS
    if len(values) == 0:
        return Claim(PAPER_ID, claim, source, paper_value, "cells not in this run", rule, "not run",
                     no_difference=no_difference)
    comparison, verdict = decide(np.asarray(values, dtype=float))
    ours = f"{what}: {comparison.describe('%', 2)}, {len(values)} (size, seed) pairs"
    return Claim(PAPER_ID, claim, source, paper_value, ours, rule, verdict, no_difference=no_difference)
