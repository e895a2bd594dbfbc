"""The paper's own numbers (arXiv 2404.02204), ours beside them, and its claims decided by fixed rules.

``PAPER`` holds the paper's figures (its data, model grid and zero-shot results); ``paper_vs_ours`` puts our
set-up and results beside them as ``mini_lib.core.claims.PaperRow`` rows. ``claims`` states the abstract's
three claims as ``mini_lib.core.claims.Claim`` rows, each decided by a rule fixed here. The grid has one
seed, so the noise a difference must beat is the binomial standard error over task items (for
accuracies) or the fit's standard error (for exponents): ``claims.compare_with_error``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, compare_with_error, paper_vs_ours_table
from mini_lib.core.scaling import PowerLawFit
from mini_lib.papers.simplified_vocab.analysis import ScalingFits, SizeMatch, millions, pair_at_ratio
from mini_lib.papers.simplified_vocab.data import EqualBudgetData
from mini_lib.papers.simplified_vocab.experiment import HIDDEN_SIZES, LAYER_COUNTS

PAPER_ID = "2404.02204"

# The paper's figures (arXiv 2404.02204: its data, model and zero-shot evaluation; code text-machine-lab/mini_gpt).
PAPER = {
    "vocabulary_words": 21_037,  # AO-CHILDES
    "tokenizer_vocab": 15_000,  # BPE per corpus
    "train_tokens_per_set": 2.1e9,
    "context": 128,
    "batch_size": 512,
    "hidden_sizes": HIDDEN_SIZES,
    "layer_counts": LAYER_COUNTS,
    "n_shapes": 18,  # per data set: 36 models in all
    "params_range": (1e6, 165e6),
    "simple_165m_average": 0.64,  # zero-shot average on the simplified tasks
    "pythia_1b_average": 0.61,
    "opt_350m_average": 0.60,
    "size_ratio": 6,  # "matches unrestricted models ~6x larger"
}


# --- paper vs ours ----------------------------------------------------------------------------------


def paper_vs_ours(data: EqualBudgetData, summary: pd.DataFrame, matches: dict[str, SizeMatch],
                  fits: ScalingFits, simplified_fraction: float, vocabulary_note: str) -> pd.DataFrame:
    """The paper's set-up and claims beside ours, one ``PaperRow`` each; ``setting``: which models or data the
    row is about."""
    n_models = summary.groupby("data").size()
    params = summary["parameters"]
    fit_rows = fits.table()
    laws = "; ".join(
        f"{r.law}: {r.exponent:.3f} ± {r.exponent_err:.3f} (R² {r.r2:.2f}, {r.points} pts)" if r.points
        else f"{r.law}: too few points" for r in fit_rows.itertuples())
    best_simple = summary[summary.data == "simple"]["parameters"].max()
    rows = [
        ("training sets of equal size", "both training sets", f"~{PAPER['train_tokens_per_set'] / 1e9:.1f}B tokens each",
         f"{data.budget_tokens:,} tokens each ({data.corpus}), counted with each set's own tokenizer"),
        ("one BPE tokenizer per corpus", "both training sets", f"vocabulary {PAPER['tokenizer_vocab']:,} each",
         f"simple {len(data.simple.tokenizer):,}, unrestricted {len(data.unrestricted.tokenizer):,}"),
        ("model grid (8 heads, FFN 4x, untied)", "both training sets",
         f"{PAPER['n_shapes']} shapes per set ({2 * PAPER['n_shapes']} models), {PAPER['params_range'][0] / 1e6:.0f}M-"
         f"{PAPER['params_range'][1] / 1e6:.0f}M parameters, Llama blocks",
         f"{int(n_models.get('simple', 0))} shapes per set ({len(summary)} models), {params.min() / 1e6:.2f}M-"
         f"{params.max() / 1e6:.2f}M parameters, GPT-NeoX blocks"),
        ("vocabulary", "simple-data set", f"AO-CHILDES, {PAPER['vocabulary_words']:,} words", vocabulary_note),
        ("tasks simplified to 0% OOV words", "zero-shot tasks", "BLiMP, COPA, SST-2, ... filtered",
         f"storyworld tasks (BLiMP/BoolQ/SST-2/COPA-like); {simplified_fraction:.0%} of simple-tier items "
         "pass the filter"),
        ("best simple model, average zero-shot accuracy", "best simple-data model",
         f"{PAPER['simple_165m_average']:.2f} (165M); Pythia-1B {PAPER['pythia_1b_average']:.2f}, "
         f"OPT-350M {PAPER['opt_350m_average']:.2f}",
         "; ".join(f"{k}: {m.best_acc:.3f} ({millions(m.best_params)})" for k, m in matches.items()
                   if m.best_of == "simple")),
        (f"simple model matches unrestricted models ~{PAPER['size_ratio']}x larger", "simple vs unrestricted models",
         f"~{PAPER['size_ratio']}x (165M vs Pythia-1B, on simplified tasks)",
         " | ".join(f"{k}: {m.statement()}" for k, m in matches.items())),
        ("evaluation loss of simple models follows power laws in N, D, C", "simple-data models",
         "yes (plots; exponents not transcribed)", laws),
        ("largest simple model", "simple-data models", f"{PAPER['params_range'][1] / 1e6:.0f}M parameters",
         millions(int(best_simple))),
    ]
    return paper_vs_ours_table([PaperRow(*row, source=f"arXiv {PAPER_ID}") for row in rows])


# --- the claims -------------------------------------------------------------------------------------

MARGIN_K = 2.0  # a difference counts beyond 2 standard errors
COMPARABLE_TOLERANCE = 0.03  # "comparable": at most 3 accuracy points below (the paper's 0.64 vs 0.61, 0.60)
POWER_LAW_MIN_R2 = 0.9  # a power law must explain 90% of log-loss variance
PROTOCOLS = {"own-vocabulary tasks": "acc_own_tasks", "simple-tier tasks, the paper's protocol": "acc_simple_tasks"}
LAWS = {"n": "model size N (non-embedding parameters)", "d": "data D (training tokens)", "c": "compute C (FLOPs)"}


def claims(accuracy: pd.DataFrame, zero_shot: pd.DataFrame, own_task_set: dict[str, str],
           fits: ScalingFits) -> list[Claim]:
    """The abstract's claims as ``Claim`` rows: enhanced zero-shot accuracy at equal size and "comparable to
    models six times larger" (per evaluation protocol; one protocol when both data types are scored on
    the same tasks), and power laws in N, D and C for the simple models."""
    rows = []
    for protocol, column in PROTOCOLS.items():
        if column == "acc_simple_tasks" and set(own_task_set.values()) == {"simple"}:
            continue  # both data types are scored on the simple tasks: the two protocols are one
        task_set = (lambda data: own_task_set[data]) if column == "acc_own_tasks" else (lambda data: "simple")
        scored = accuracy.assign(se=[_accuracy_se(zero_shot, r.name, task_set(r.data)) for r in accuracy.itertuples()])
        rows += [_equal_size_claim(scored, column, protocol), _larger_model_claim(scored, column, protocol)]
    return rows + [_power_law_claim(getattr(fits, law), what) for law, what in LAWS.items()]


def _accuracy_se(zero_shot: pd.DataFrame, name: str, task_set: str) -> float:
    """Binomial standard error of a model's task-averaged accuracy (tasks independent)."""
    se = zero_shot.loc[(zero_shot.name == name) & (zero_shot.task_set == task_set), "acc_se"]
    return float(np.sqrt((se ** 2).sum()) / len(se))


def _equal_size_claim(scored: pd.DataFrame, column: str, protocol: str) -> Claim:
    pairs = scored[scored.data == "simple"].merge(scored[scored.data == "unrestricted"], on=["hidden", "layers"],
                                                  suffixes=("_s", "_u"))
    difference = float((pairs[f"{column}_s"] - pairs[f"{column}_u"]).mean())
    error = float(np.sqrt((pairs.se_s ** 2 + pairs.se_u ** 2).sum()) / len(pairs))
    decided = compare_with_error(difference, error, k=MARGIN_K)
    return Claim(PAPER_ID, f"simple-data models show enhanced zero-shot accuracy ({protocol})", "abstract (v1)",
                 "enhanced zero-shot capabilities across tasks in simplified language",
                 f"simple - unrestricted, same shape, mean of {len(pairs)} shapes: {difference:+.3f} (SE {error:.3f})",
                 f"holds: mean accuracy difference > {MARGIN_K:g} binomial SE over task items; reversed: < -{MARGIN_K:g} "
                 "SE; within noise otherwise", decided.verdict)


def _larger_model_claim(scored: pd.DataFrame, column: str, protocol: str) -> Claim:
    """The simple and unrestricted models nearest to ``PAPER['size_ratio']`` x apart (``analysis.pair_at_ratio``,
    which section 6 of the notebook prints too): the simple one at most ``COMPARABLE_TOLERANCE`` below, beyond
    the noise. A claim of no real difference: "holds" means our run cannot tell the two apart either."""
    ratio = PAPER["size_ratio"]
    claim = f"simple-data models are comparable to unrestricted models {ratio}x larger ({protocol})"
    paper = (f"simple-165M {PAPER['simple_165m_average']:.2f} vs Pythia-1B {PAPER['pythia_1b_average']:.2f}, "
             f"OPT-350M {PAPER['opt_350m_average']:.2f} (average zero-shot accuracy, simplified tasks)")
    rule = (f"the simple and the unrestricted model nearest to {ratio}x apart (at least {ratio}x): holds: accuracy "
            f"difference > -{COMPARABLE_TOLERANCE:g} by more than {MARGIN_K:g} binomial SE; reversed: < "
            f"-{COMPARABLE_TOLERANCE:g} by more; within noise otherwise; not run: no pair that far apart in the grid")
    pair = pair_at_ratio(scored, column, ratio)
    if pair is None:
        simple, other = scored[scored.data == "simple"], scored[scored.data == "unrestricted"]
        spanned = other.parameters.max() / simple.parameters.min()
        return Claim(PAPER_ID, claim, "abstract (v1); zero-shot results", paper,
                     f"the grid spans at most {spanned:.1f}x between a simple and an unrestricted model", rule, "not run",
                     no_difference=True)
    se = scored.set_index("name").se
    difference, error = pair.simple_acc - pair.unrestricted_acc, math.hypot(se[pair.simple], se[pair.unrestricted])
    decided = compare_with_error(difference + COMPARABLE_TOLERANCE, error, k=MARGIN_K)
    ours = f"at {pair.ratio:.1f}x, the grid's pair nearest {ratio}x: {pair.statement()} (SE {error:.3f})"
    return Claim(PAPER_ID, claim, "abstract (v1); zero-shot results", paper, ours, rule, decided.verdict,
                 no_difference=True)


def _power_law_claim(fit: PowerLawFit | None, what: str) -> Claim:
    claim = f"the simple models' evaluation loss follows a power law in {what}"
    paper = "a power law (scaling figures; exponents not transcribed here)"
    rule = (f"holds: loss falls with the exponent > {MARGIN_K:g} fit SE and R² >= {POWER_LAW_MIN_R2:g} (log loss); "
            f"reversed: exponent < -{MARGIN_K:g} SE (loss rises); within noise otherwise; not run: fewer than 3 points")
    if fit is None:
        return Claim(PAPER_ID, claim, "abstract (v1)", paper, "too few points to fit", rule, "not run")
    decided = compare_with_error(fit.exponent, fit.exponent_err, k=MARGIN_K)
    verdict = "within noise" if decided.verdict == "holds" and fit.r2 < POWER_LAW_MIN_R2 else decided.verdict
    note = "loss falls, but not as a straight line on log-log axes" if verdict != decided.verdict else ""
    return Claim(PAPER_ID, claim, "abstract (v1)", paper,
                 f"exponent {fit.exponent:.3f} ± {fit.exponent_err:.3f}, R² {fit.r2:.2f}, {fit.n_points} points",
                 rule, verdict, note)
