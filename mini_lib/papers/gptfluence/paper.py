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

The claims are notebook 04's headline claims as ``mini_lib.core.claims.Claim`` rows, each decided by a rule fixed here.

Every rule is ``claims.compare_seeds`` with k = 2 on values paired by their noise unit: a held-out run
for simulation errors (log10 of its MSE, as a run's error scales the errors of every method on it: the
runs differ in which examples they sampled and in what order), a run split
for detection areas (which run stops the simulator early, and the seeds). Retraining is one
fine-tuning run per training set, so its noise is the sampling error of an accuracy on the test
examples: the margin is 2 binomial standard errors of a difference of two accuracies at p = 0.5.
Notes are rendered from the evidence (``signal_study``), never typed in.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, compare_seeds, paper_vs_ours_table
from mini_lib.papers.gptfluence.experiment import MethodResult

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


# ---- the claims --------------------------------------------------------------------------------

PAPER_ID = "2404.07840"
K = 2.0
PER_RUN = (f"paired by held-out run, difference of mean log10 per-run MSE beyond {K:g} seed spreads (claims.compare_seeds; "
           "log because errors of runs differ by orders of magnitude)")


def _per_run(results: Mapping[str, Mapping[tuple[str, str], MethodResult]], method: str, metric: str = "loss") -> list[float]:
    """Per-held-out-run MSE of ``method`` over every task that has it, in task then run order."""
    return [v for task in results.values() if (method, metric) in task for v in task[method, metric].run_mse.values()]


def _explained(signal: pd.DataFrame, setting: str) -> str:
    """What the signal study says on ``setting``: how much of the loss movement differs between runs at all
    (all any simulator could explain), then the share of that run-to-run variance each source explains."""
    rows = signal[signal["setting"] == setting]
    if rows.empty:
        return ""
    by_source = rows.groupby("source", sort=False)["explained"].mean()
    shown = ", ".join(f"{source} {value:.0%}" for source, value in by_source.items() if source != "mean trajectory")
    differs = rows.groupby("task")["run_to_run_share"].first().mean()
    return (f"runs differ by {differs:.2%} of the test loss movement (run_to_run_share, {setting}, task mean); "
            f"share of that run-to-run variance explained: {shown}")


def simulator_claims(results: Mapping[str, Mapping[tuple[str, str], MethodResult]], signal: pd.DataFrame | None = None) -> list[Claim]:
    """GPTfluence vs Simfluence and vs TracIn-CP on the held-out runs' test loss."""
    gpt = _per_run(results, "gptfluence")
    note = _explained(signal, "held-out runs") if signal is not None else ""
    fine, instr = PAPER["fine_tuning_410m"], PAPER["instruction_tuning_410m"]
    rows = []
    for rival, claim, paper_value in (
        ("simfluence", "GPTfluence simulates held-out runs' test loss better than Simfluence",
         f"MSE {fine['gptfluence'][0]} vs {fine['simfluence'][0]} (fine-tuning); {instr['gptfluence'][0]} vs {instr['simfluence'][0]} (instruction tuning)"),
        ("tracin-cp", "GPTfluence simulates the test loss better than TracIn-CP",
         f"MSE {instr['gptfluence'][0]} vs {instr['tracin-cp'][0]} (instruction tuning)"),
    ):
        other = _per_run(results, rival)
        if len(other) != len(gpt) or not gpt:
            rows.append(Claim(PAPER_ID, claim, "Sec. 4, method comparison (Pythia-410M)", paper_value, "", PER_RUN, "not run"))
            continue
        c = compare_seeds(np.log10(gpt), np.log10(other), direction=-1, k=K)
        ours = f"MSE {np.mean(gpt):.3f} vs {np.mean(other):.3f} over {len(gpt)} held-out runs; log10 gptfluence - log10 {rival} {c.describe()}"
        rows.append(Claim(PAPER_ID, claim, "Sec. 4, method comparison (Pythia-410M)", paper_value, ours, PER_RUN, c.verdict,
                          "" if c.verdict == "holds" else note))
    return rows


def unseen_claim(table: pd.DataFrame, *, where: str, note: str = "") -> Claim:
    """GPTfluence vs Simfluence (average factors) on runs with unseen training examples. ``table`` has
    rows (setting, method, spearman, mse_by_run): ``unseen_study`` or ``planted.PlantedStudy.table``."""
    rows = table[table["setting"] == "unseen training examples"].set_index("method")
    gpt, table_mse = rows.loc["gptfluence", "mse_by_run"], rows.loc["simfluence", "mse_by_run"]
    c = compare_seeds(np.log10(gpt), np.log10(table_mse), direction=-1, k=K)
    paper = PAPER["unseen_rte_loss"]["unseen training examples"]
    ours = (f"MSE {np.mean(gpt):.4f} vs Simfluence (average factors) {np.mean(table_mse):.4f}, rho {rows.loc['gptfluence', 'spearman']:.3f}"
            f" over {len(gpt)} runs; log10 difference {c.describe()}")
    return Claim(PAPER_ID, f"GPTfluence generalises to unseen training examples ({where})", "Sec. 4, unseen data (RTE loss)",
                 f"MSE {paper['mse']}, rho {paper['spearman']}", ours,
                 PER_RUN.replace("MSE", "MSE, GPTfluence vs Simfluence with average factors,"), c.verdict,
                 "" if c.verdict == "holds" else note)


def detection_claim(areas: pd.DataFrame, method: str = "gptfluence", note: str = "") -> Claim:
    """Self-influence ranking vs a random order, paired by run split (``mislabel.detection_over_splits``)."""
    by = areas.pivot(index="split", columns="method", values="area")
    c = compare_seeds(by[method].to_numpy(), by["random"].to_numpy(), direction=1, k=K)
    ours = f"detection area {by[method].mean():.3f} vs random {by['random'].mean():.3f} over {len(by)} run splits; difference {c.describe()}"
    return Claim(PAPER_ID, f"{method} self-influence finds flipped labels better than a random order",
                 "Sec. 5, mislabelled data (SST-2, 40% flipped)", "detection curve above the baselines (figure)", ours,
                 f"paired by run split (validation run and seeds), area difference beyond {K:g} split spreads", c.verdict,
                 "" if c.verdict == "holds" else note)


def retrain_claim(retrain: pd.DataFrame, n_test: int, method: str = "gptfluence", note: str = "") -> Claim:
    """Accuracy after removing ``method``'s top-ranked examples vs the noisy pool, one run each."""
    acc = retrain.set_index("training data")["accuracy"]
    removed = acc[[name for name in acc.index if name.startswith(f"{method} (")]].iloc[0]
    noisy, oracle = acc["none (noisy pool)"], acc["oracle (flipped removed)"]
    floor = K * math.sqrt(2 * 0.25 / n_test)
    c = compare_seeds([removed], [noisy], direction=1, floor=floor)
    ours = f"accuracy {removed:.3f} vs noisy pool {noisy:.3f} (oracle {oracle:.3f}) on {n_test} test examples; difference {c.describe()}"
    return Claim(PAPER_ID, "Removing the examples self-influence ranks first improves test accuracy", "Sec. 5, mislabelled data",
                 "accuracy up after removal (figure)", ours,
                 f"one run each: difference beyond {K:g} binomial standard errors of a difference of accuracies on {n_test} examples",
                 c.verdict, note)


def mislabel_note(retrain: pd.DataFrame) -> str:
    """Whether the noisy pool taught the task at all (if not, nothing separates flipped examples)."""
    acc = retrain.set_index("training data")["accuracy"]
    return (f"base model {acc['base model, no fine-tuning']:.3f}, noisy pool {acc['none (noisy pool)']:.3f}, "
            f"oracle {acc['oracle (flipped removed)']:.3f}: self-influence can only separate flipped labels the model has begun to learn against")


def notebook_claims(results: Mapping[str, Mapping[tuple[str, str], MethodResult]], planted: pd.DataFrame, unseen: pd.DataFrame | None,
                    signal: pd.DataFrame, areas: pd.DataFrame | None, retrain: pd.DataFrame | None, n_test: int) -> list[Claim]:
    """All of notebook 04's rows, in the order the notebook discusses them."""
    rows = simulator_claims(results, signal)
    rows.append(unseen_claim(planted, where="planted influences, known by construction"))
    if unseen is not None:
        rows.append(unseen_claim(unseen, where="our fine-tuning runs", note=_explained(signal, "runs with unseen training examples")))
    note = mislabel_note(retrain) if retrain is not None else ""
    if areas is not None:
        rows.append(detection_claim(areas, note=note))
    if retrain is not None:
        rows.append(retrain_claim(retrain, n_test, note=note))
    return rows




# ---- what the run shows, in sentences ------------------------------------------------------------

def findings(claims: pd.DataFrame, average: pd.DataFrame, planted: pd.DataFrame, unseen: pd.DataFrame | None,
             signal: pd.DataFrame, retrain: pd.DataFrame | None, n_test: int) -> list[str]:
    """The notebook's takeaway, one sentence (or two) per topic, read from this run's tables: the prose
    around it says how to read them and never predicts them. ``claims``: ``claims_table`` of
    ``notebook_claims``; the other tables as the notebook shows them."""
    verdicts = claims.set_index("claim")
    out = [_planted_finding(planted), _signal_finding(signal, "held-out runs")]
    for _, row in claims.iterrows():
        if row["claim"].startswith("GPTfluence simulates"):
            out.append(f"{row['claim']}: {row['verdict']}. {row['in_short']} ({row['ours'].split(';')[0]}.)")
    if unseen is not None:
        out.append(_unseen_finding(unseen, verdicts))
        out.append(_signal_finding(signal, "runs with unseen training examples"))
    if retrain is not None:
        out.append(_mislabel_finding(retrain, n_test, claims))
    out.append(_cost_finding(average))
    return [sentence for sentence in out if sentence]


def _planted_finding(planted: pd.DataFrame) -> str:
    rows = planted[planted["setting"] == "unseen training examples"].set_index("method")
    gpt, table = rows.loc["gptfluence"], rows.loc["simfluence"]
    return (f"Planted influences, training examples no fitting run saw: GPTfluence's MSE {gpt['mse']:.4f} against the "
            f"lookup table's {table['mse']:.4f} (average factors), final-step rho {gpt['spearman']:.3f} against "
            f"{table['spearman']:.3f}; the mean trajectory, which ignores the batches, gets rho "
            f"{rows.loc['mean trajectory', 'spearman']:.3f}.")


def _share(explained: float) -> str:
    """An explained share as a percentage; far below zero, as how many times the mean trajectory's error it is."""
    return f"{explained:.0%}" if explained >= -1 else f"below -100% (MSE {1 - explained:.3g} times the mean trajectory's)"


def _signal_finding(signal: pd.DataFrame, setting: str) -> str:
    rows = signal[signal["setting"] == setting]
    if rows.empty:
        return ""
    share = rows.groupby("task")["run_to_run_share"].first().mean()
    explained = rows.groupby("source", sort=False)["explained"].mean()
    shown = ", ".join(f"{source} {_share(value)}" for source, value in explained.items() if source != "mean trajectory")
    positive = [s for s in ("simfluence", "gptfluence", "gptfluence, shuffled features") if explained[s] > 0]
    beats = (f"Of the simulators that tell training examples apart, {' and '.join(positive)} explain part of it."
             if positive else "No simulator that tells training examples apart beats the mean trajectory.")
    true, shuffled = (np.log10(np.concatenate(rows.loc[rows["source"] == s, "mse_by_run"].tolist()))
                      for s in ("gptfluence", "gptfluence, shuffled features"))
    features = compare_seeds(true, shuffled, direction=-1, k=K)
    words = {"holds": "do better than shuffled ones", "reversed": "do worse than shuffled ones",
             "within noise": "cannot be told apart from shuffled ones"}[features.verdict]
    return (f"On {setting}, the runs differ by {share:.2%} of how far the test loss moves (run_to_run_share, mean over "
            f"tasks). Share of that run-to-run variance explained (mean over tasks): {shown}. {beats} GPTfluence's true "
            f"features {words} (log10 MSE per run, true minus shuffled: {features.describe()}).")


def _unseen_finding(unseen: pd.DataFrame, verdicts: pd.DataFrame) -> str:
    rows = unseen[unseen["setting"] == "unseen training examples"].set_index("method")
    gpt, table = rows.loc["gptfluence"], rows.loc["simfluence"]
    ranks = _better(gpt["spearman"], table["spearman"], "ranks the test examples better", "rank them alike")
    errs = _better(-gpt["mse"], -table["mse"], "errs less", "err alike")
    claim = next((row for name, row in verdicts.iterrows() if name.endswith("(our fine-tuning runs)")), None)
    verdict = f" The claim's verdict, on per-run MSE: {claim['verdict']}. {claim['in_short']}" if claim is not None else ""
    return (f"Runs with unseen training examples: final-step rho GPTfluence {gpt['spearman']:.3f}, Simfluence (average "
            f"factors) {table['spearman']:.3f} (the paper: GPTfluence {PAPER['unseen_rte_loss']['unseen training examples']['spearman']}), "
            f"so {ranks}; MSE {gpt['mse']:.4f} against {table['mse']:.4f}, so {errs}.{verdict}")


def _better(gpt: float, table: float, does: str, same: str) -> str:
    """Which of GPTfluence and the lookup table has the higher value, said as a verb phrase."""
    if gpt == table:
        return f"both {same}"
    return f"{'GPTfluence' if gpt > table else 'Simfluence, with average factors,'} {does}"


def _mislabel_finding(retrain: pd.DataFrame, n_test: int, claims: pd.DataFrame) -> str:
    acc = retrain.set_index("training data")["accuracy"]
    noisy, base, oracle = acc["none (noisy pool)"], acc["base model, no fine-tuning"], acc["oracle (flipped removed)"]
    error = math.sqrt(0.25 / n_test)  # binomial standard error of an accuracy near chance
    learnt = "above chance" if noisy - 0.5 > K * error else "not clearly above chance"
    rows = claims[claims["claim"].str.contains("self-influence")]
    said = " ".join(f"{row['claim']}: {row['verdict']}." for _, row in rows.iterrows())
    return (f"Mislabelled data: fine-tuned on the noisy pool the model scores {noisy:.3f} on {n_test} items with true labels "
            f"({learnt}: {K:g} standard errors are {K * error:.3f}), the base model {base:.3f}, the pool without exactly "
            f"the flipped examples {oracle:.3f}. {said}")


def _cost_finding(average: pd.DataFrame) -> str:
    cost = average.set_index("method")["seconds_per_sample"]
    order = " > ".join(cost.sort_values(ascending=False).index)
    paper = PAPER["seconds_per_sample"]
    ratio = (f"; TracIn-CP costs {cost['tracin-cp'] / cost['gptfluence']:.0f} times GPTfluence's (the paper: "
             f"{paper['tracin-cp'] / paper['gptfluence']:.0f} times)") if {"tracin-cp", "gptfluence"} <= set(cost.index) else ""
    return f"Cost per simulated sample: {order}{ratio}."
