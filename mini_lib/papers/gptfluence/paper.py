"""The GPTfluence paper's reported numbers, and the table that puts ours beside them.

Numbers from "On Training Data Influence of GPT Models" (arXiv 2404.07840, EMNLP 2024), Sec. 4
(experiments). All are for Pythia-410M and the test loss:
* instruction tuning, average over its tasks: TracIn-CP (all steps), Grad-Dot, Simfluence, GPTfluence
  (the method-comparison table of Sec. 4);
* fine-tuning (the setting our runs follow), average: Simfluence and GPTfluence (same table);
* unseen data (fine-tuning, RTE): unseen training examples, unseen test examples (rho about 0);
* cost per simulated sample in seconds.

TracIn-CP and Grad-Dot share the Spearman 0.421 here. We could not re-read the paper's table text to
confirm it (no copy of the table was retrievable while checking), so the table flags both cells in its
``note`` column instead of silently trusting or changing them. It is plausible: rho is taken at the
final step across test examples, both methods roll out from the same true step-1 values, and when the
predicted changes are small next to the spread of those starting values both rankings are the ranking
of the starting values.
"""

from __future__ import annotations

import math

import pandas as pd

from mini_lib.core.claims import PaperRow, paper_vs_ours_table

PAPER = {
    "instruction_tuning_410m": {  # (MSE, MAE, Spearman), test loss, task average
        "tracin-cp": (0.413, 0.426, 0.421),
        "grad-dot": (6.479, 1.608, 0.421),
        "simfluence": (0.770, 0.361, 0.779),
        "gptfluence": (0.093, 0.175, 0.860),
    },
    "fine_tuning_410m": {
        "simfluence": (0.026, 0.116, 0.931),
        "gptfluence": (0.015, 0.084, 0.933),
    },
    "unseen_rte_loss": {  # GPTfluence
        "unseen training examples": {"mse": 0.346, "spearman": 0.913},
        "unseen test examples": {"spearman": 0.0},  # "rho ~ 0"
    },
    "seconds_per_sample": {"tracin-cp": 153.0, "simfluence": 0.1, "gptfluence": 0.2},
}
UNVERIFIED = {("instruction_tuning_410m", "tracin-cp", "spearman"), ("instruction_tuning_410m", "grad-dot", "spearman")}
UNVERIFIED_NOTE = "TracIn-CP and Grad-Dot share rho 0.421 in our transcription; not re-checked against the paper"
QUANTITIES = ("mse", "mae", "spearman")
SOURCE = "arXiv 2404.07840, Sec. 4"
COMPARISON, UNSEEN, COST = "method comparison (test loss, task average)", "unseen data (GPTfluence)", "cost"


def paper_vs_ours(average: pd.DataFrame, unseen: pd.DataFrame | None = None) -> pd.DataFrame:
    """One ``PaperRow`` per reported number: the method and quantity, the paper's setting, both values, a note;
    ``source`` names the part of Sec. 4 (method comparison, unseen data, cost).

    ``average``: ``experiment.average_over_tasks`` (method, mse, mae, spearman, seconds_per_sample);
    ``unseen``: ``experiment.unseen_study`` (setting, method, mse, spearman)."""
    ours = average.set_index("method")
    rows = []
    for method in ours.index:
        for setting, key in (("fine-tuning 410M", "fine_tuning_410m"), ("instruction tuning 410M", "instruction_tuning_410m")):
            if method in PAPER[key]:
                for k, quantity in enumerate(QUANTITIES):
                    note = UNVERIFIED_NOTE if (key, method, quantity) in UNVERIFIED else ""
                    rows.append(PaperRow(f"{method} {quantity}", setting, PAPER[key][method][k],
                                         float(ours.loc[method, quantity]), note, f"{SOURCE}, {COMPARISON}"))
    if unseen is not None:
        gpt = unseen[unseen["method"] == "gptfluence"].set_index("setting")
        for setting, values in PAPER["unseen_rte_loss"].items():
            for quantity, value in values.items():
                rows.append(PaperRow(f"gptfluence {quantity}", f"fine-tuning 410M, RTE, {setting}", value,
                                     float(gpt.loc[setting, quantity]), source=f"{SOURCE}, {UNSEEN}"))
    for method, seconds in PAPER["seconds_per_sample"].items():
        value = float(ours.loc[method, "seconds_per_sample"]) if method in ours.index else math.nan
        rows.append(PaperRow(f"{method} seconds per simulated sample", "Pythia-410M", seconds, value,
                             source=f"{SOURCE}, {COST}"))
    return paper_vs_ours_table(rows)
