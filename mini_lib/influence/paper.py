"""The GPTfluence paper's reported numbers, and the table that puts ours beside them.

Numbers from "On Training Data Influence of GPT Models" (arXiv 2404.07840), as summarised in
/work/shared/PAPERS.md, section 1. All are for Pythia-410M and the test loss:
* instruction tuning, average over its tasks: TracIn-CP (all steps), Grad-Dot, Simfluence, GPTfluence;
* fine-tuning (the setting our runs follow), average: Simfluence and GPTfluence;
* unseen data (fine-tuning, RTE): unseen training examples, unseen test examples (rho about 0);
* cost per simulated sample in seconds.
"""

from __future__ import annotations

import math

import pandas as pd

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
QUANTITIES = ("mse", "mae", "spearman")


def paper_vs_ours(average: pd.DataFrame, unseen: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per reported number: what, method, the paper's value and setting, ours.

    ``average``: ``experiment.average_over_tasks`` (method, mse, mae, spearman, seconds_per_sample);
    ``unseen``: ``experiment.unseen_study`` (setting, method, mse, spearman)."""
    ours = average.set_index("method")
    rows = []
    for method in ours.index:
        for setting, table in (("fine-tuning 410M", PAPER["fine_tuning_410m"]), ("instruction tuning 410M", PAPER["instruction_tuning_410m"])):
            if method in table:
                for k, quantity in enumerate(QUANTITIES):
                    rows.append({"section": "method comparison (test loss, task average)", "method": method, "quantity": quantity,
                                 "paper": table[method][k], "paper_setting": setting, "ours": float(ours.loc[method, quantity])})
    if unseen is not None:
        gpt = unseen[unseen["method"] == "gptfluence"].set_index("setting")
        for setting, values in PAPER["unseen_rte_loss"].items():
            for quantity, value in values.items():
                rows.append({"section": "unseen data (GPTfluence)", "method": "gptfluence", "quantity": f"{setting}: {quantity}",
                             "paper": value, "paper_setting": "fine-tuning 410M, RTE", "ours": float(gpt.loc[setting, quantity])})
    for method, seconds in PAPER["seconds_per_sample"].items():
        value = float(ours.loc[method, "seconds_per_sample"]) if method in ours.index else math.nan
        rows.append({"section": "cost", "method": method, "quantity": "seconds per simulated sample", "paper": seconds,
                     "paper_setting": "Pythia-410M", "ours": value})
    return pd.DataFrame(rows)
