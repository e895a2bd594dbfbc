"""The numbers "Towards Optimal Learning of Language Models" (arXiv 2402.17759) reports, beside ours.

``PAPER_RESULTS`` holds the paper's numbers (arXiv 2402.17759, Sec. 4 "Experiments"): the speed-up at the
end of training of the near-optimal policy over conventional training (Perceptron 5.50x, Transformer
2.41x; ``analysis`` states the definition), and the learning-law fits L = L0 + (B/t)^beta of its Transformer runs (T = 4K steps): conventional
B = 3.16e8, beta = 0.12; near-optimal B = 1.99e7, beta = 0.14. The relative changes are reported
twice in the paper and we keep both: the text states |dB|/B = 96.6% and |dbeta|/beta = 21.2%, its
Table 2 gives 93.7% / 18.7% for T = 4K. (From the coefficients above, |dB|/B = 93.7% and
|dbeta|/beta = 16.7%: the rounded betas do not pin the exponent change down.)

``scaling_law_claims`` states the coefficient claim (B down, beta up under the near-optimal policy) as
``mini_lib.core.claims.Claim`` rows, decided by whether the two runs' ranges of B and beta over fit windows
(``analysis.fit_interval``) are disjoint: a fit that moves more across windows than between the runs
says nothing about the runs. Each row's rule states when a fit counts as identifiable
(``analysis.IDENTIFIABILITY_RULE``).

``paper_vs_ours`` takes two ``experiment.headline`` dicts (plain numbers, so it needs no run) and
returns the comparison table (``mini_lib.core.claims.PaperRow`` rows), with a note wherever our run differs from the paper's setting. The
speed-up is shown twice: on the desired set the policy was optimised on, and on held-out test examples
(the official evaluation logs both, ``learning_law/src/base_trainer.py``); a lower bound is marked ">=".

``setup_table`` puts the official runs' set-up (``OFFICIAL_SETUP``: sizes, inner step size, outer epochs and
outer learning rate) beside a profile's, and ``takeaway`` says in sentences what a run shows, every number and
direction read from the ``headline`` dicts, so that a notebook's conclusions cannot drift from its run.
"""

import math
from typing import Any

import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, paper_vs_ours_table
from mini_lib.papers.optimal_learning.analysis import IDENTIFIABILITY_RULE, interval_verdict
from mini_lib.papers.optimal_learning.settings import OptimalLearningSettings

PAPER_RESULTS: dict[str, Any] = {
    "speedup": {"perceptron": 5.50, "tiny_lm": 2.41},
    "steps": {"perceptron": 2000, "tiny_lm": 4000},
    "n_train": {"perceptron": 4096, "tiny_lm": 16384},
    "fit_conventional": {"B": 3.16e8, "beta": 0.12},
    "fit_near_optimal": {"B": 1.99e7, "beta": 0.14},
    "scale_change": {"stated": 0.966, "table2_T4K": 0.937},
    "exponent_change": {"stated": 0.212, "table2_T4K": 0.187},
}
# the official runs' set-up (arXiv 2402.17759, Sec. 4 and microsoft/LMOps learning_law): full-batch inner GD and
# projected gradient descent on the policy, the outer step size decaying linearly over the outer epochs
OFFICIAL_SETUP: dict[str, dict[str, Any]] = {
    "perceptron": {"model": "D 128", "N": 4096, "K": 512, "T": 2000, "eta": 0.1, "outer epochs": 500,
                   "outer lr": 0.001},
    "tiny_lm": {"model": "2 layers, d 128, 8 heads, |V| 5K (TinyStories)", "N": 16384, "K": 512, "T": 4000,
                "eta": 0.1, "outer epochs": 20, "outer lr": 0.4},
}

PAPER_ID = "2402.17759"
SPEEDUP_SOURCE, FIT_SOURCE = f"arXiv {PAPER_ID}, Sec. 4", f"arXiv {PAPER_ID}, Sec. 4, Table 2"
_SETTING_NAMES = {"perceptron": "Perceptron", "tiny_lm": "Transformer LM"}
_COEFFICIENTS = (("B", "B", -1, "smaller B"), ("beta", "beta", 1, "larger beta"))


def scaling_law_claims(perceptron: dict[str, Any], lm: dict[str, Any]) -> list[Claim]:
    """One row per setting and coefficient: does the optimised fit's range of B (beta) over fit windows lie
    wholly below (above) the conventional one's? Overlap, a fit that is not identifiable
    (``analysis.FitInterval``) or a curve with no fit is "within noise"."""
    rows = []
    for ours in (perceptron, lm):
        setting = ours["setting"]
        fits = ours.get("fit_conventional"), ours.get("fit_optimised")
        for key, name, direction, wording in _COEFFICIENTS:
            conventional, near_optimal = PAPER_RESULTS["fit_conventional"][key], PAPER_RESULTS["fit_near_optimal"][key]
            paper = (f"{name} {conventional:.3g} -> {near_optimal:.3g} (Transformer, T=4K)" if setting == "tiny_lm"
                     else "not given (the paper fits its Transformer)")
            rule = (f"holds: both fits identifiable and the optimised run's range of {name} over fit windows lies "
                    f"wholly on the {'low' if direction < 0 else 'high'} side of the conventional one's; reversed: "
                    f"wholly on the other side; overlapping ranges, a fit not identifiable, or no fit: within noise; "
                    f"{IDENTIFIABILITY_RULE}")
            claim = f"{_SETTING_NAMES[setting]}: the near-optimal policy gives a {wording}"
            if None in fits:
                rows.append(Claim(PAPER_ID, claim, "Sec. 4, Table 2", paper, "no fit (curve too short or no power law)",
                                  rule, "within noise", _scale_note(ours)))
                continue
            ranges = [fit[f"{key}_range"] for fit in fits]
            text = "; ".join(f"{run} {fit[key]:.3g} [{low:.3g}, {high:.3g}] ({fit['windows']} windows, "
                             f"{'identifiable' if fit['identifiable'] else 'NOT identifiable'})"
                             for run, fit, (low, high) in zip(("conventional", "optimised"), fits, ranges))
            identifiable = all(fit["identifiable"] for fit in fits)
            verdict = interval_verdict(ranges[0], ranges[1], direction) if identifiable else "within noise"
            rows.append(Claim(PAPER_ID, claim, "Sec. 4, Table 2", paper, text, rule, verdict,
                              "; ".join([_scale_note(ours), *_why_not_identifiable(ours)])))
    return rows


END_RISE_TOLERANCE = 0.005  # a curve ending more than 0.5% above its minimum has turned up before T


def _why_not_identifiable(ours: dict[str, Any]) -> list[str]:
    """The evidence, per run whose fit is not identifiable: an upturn before T (the optimised policy's
    near-uniform last steps), else how far B moves across fit windows (the curve is not one power law)."""
    reasons = []
    for run in ("conventional", "optimised"):
        fit, shape = ours.get(f"fit_{run}"), ours.get(f"curve_{run}")
        if fit is None or fit["identifiable"]:
            continue
        if shape is not None and shape["end_rise"] > END_RISE_TOLERANCE:
            reasons.append(f"the {run} curve bottoms out at {shape['argmin_fraction']:.0%} of T and ends "
                           f"{shape['end_rise']:.1%} higher, which no decreasing law fits")
        elif fit["window_ends"] < 2:
            reasons.append(f"only {fit['windows']} fit window(s) of the {run} curve, all ending at T, fit a decaying law: "
                           "too few to test one")
        else:
            (low, high), (beta_low, beta_high) = fit["B_range"], fit["beta_range"]
            reasons.append(f"over {fit['windows']} fit windows the {run} fit's B spans "
                           f"{math.log10(high / low):.1f} decades and beta {beta_high / beta_low:.2g}x: "
                           "not one power law at this T")
    return reasons


def paper_vs_ours(perceptron: dict[str, Any], lm: dict[str, Any]) -> pd.DataFrame:
    """``PaperRow``s for the speed-ups and the learning-law fits (the paper fits only its Transformer)."""
    rows = []
    for ours in (perceptron, lm):
        setting = ours["setting"]
        paper_speedup = f"{PAPER_RESULTS['speedup'][setting]:.2f}x"
        rows.append(_row("speed-up at the end of training, desired set (optimised on)", setting, paper_speedup,
                         _speedup_text(ours), _scale_note(ours), SPEEDUP_SOURCE))
        rows.append(_row("speed-up at the end of training, held-out test set", setting, paper_speedup,
                         _speedup_text(ours, "speedup_test"), "test examples drawn like the desired ones, never optimised on",
                         SPEEDUP_SOURCE))
    for ours in (perceptron, lm):
        setting = ours["setting"]
        is_lm = setting == "tiny_lm"
        fit_source = FIT_SOURCE if is_lm else ""
        fits = {run: ours.get(f"fit_{run}") for run in ("conventional", "optimised")}
        paper_fit = PAPER_RESULTS["fit_conventional"], PAPER_RESULTS["fit_near_optimal"]
        for (run, fit), paper in zip(fits.items(), paper_fit):
            rows.append(_row(f"learning-law fit, {run} (B, beta)", setting,
                             f"B={paper['B']:.3g}, beta={paper['beta']:.2f}" if is_lm else "not given",
                             "no fit" if fit is None else f"B={fit['B']:.3g}, beta={fit['beta']:.2f}",
                             f"t0={fit['t0']}, L0={fit['L0']:.3g}" if fit is not None else "curve too short or no power law",
                             fit_source))
        change = ours.get("scale_change", math.nan)
        direction = "" if not math.isfinite(change) else (
            "B went DOWN, as in the paper" if fits["optimised"]["B"] < fits["conventional"]["B"]
            else "B went UP, unlike the paper")
        rows.append(_row("|dB|/B", setting, _change_text("scale_change") if is_lm else "not given",
                         _percent(change), direction, fit_source))
        exponent = ours.get("exponent_change", math.nan)
        beta_note = "" if not math.isfinite(exponent) else (
            "beta went UP, as in the paper" if fits["optimised"]["beta"] > fits["conventional"]["beta"]
            else "beta went DOWN, unlike the paper")
        rows.append(_row("|dbeta|/beta", setting, _change_text("exponent_change") if is_lm else "not given",
                         _percent(exponent), beta_note, fit_source))
    zero = lm.get("zero_weight")
    if zero is not None:
        rows.append(_row("perturbed examples switched off (Learning Law)", "tiny_lm",
                         "noisy examples get weight 0",
                         f"mean weight {zero['mean_weight_marked']:.2f} perturbed vs {zero['mean_weight_unmarked']:.2f} clean",
                         f"recall of weight < {zero['threshold']:g}: {_percent(zero['recall'])}"))
    return paper_vs_ours_table(rows)


def setup_table(settings: OptimalLearningSettings) -> pd.DataFrame:
    """The paper's official set-up beside this profile's, one row each per setting: sizes, inner step size and
    the outer schedule (outer epochs and outer learning rate), read from ``settings``."""
    s = settings
    ours = {
        "perceptron": {"model": f"D {s.perceptron_dim}", "N": s.perceptron_n_train, "K": s.perceptron_n_desired,
                       "T": s.perceptron_steps, "eta": s.perceptron_eta, "outer epochs": s.perceptron_epochs,
                       "outer lr": s.perceptron_outer_lr},
        "tiny_lm": {"model": f"{s.lm_n_layers} layers, d {s.lm_d_model}, {s.lm_n_heads} heads, |V| <= {s.vocab_size} "
                             f"({s.corpus})", "N": s.lm_n_train, "K": s.lm_n_desired, "T": s.lm_steps,
                    "eta": s.lm_eta, "outer epochs": s.lm_epochs, "outer lr": s.lm_outer_lr},
    }
    rows = [{"setting": _SETTING_NAMES[setting], "run": run, **values}
            for setting in ("perceptron", "tiny_lm")
            for run, values in (("paper (official)", OFFICIAL_SETUP[setting]), ("this profile", ours[setting]))]
    return pd.DataFrame(rows)


def takeaway(perceptron: dict[str, Any], lm: dict[str, Any], *, lr_schedule: str,
             retrain: dict[str, float] | None = None) -> str:
    """What the run shows, in sentences whose numbers and directions are read from the two ``headline`` dicts
    (and the retrained schemes' final desired loss, when given): each setting's outer schedule beside the paper's
    official one, J and CR, the speed-up on the desired and on the held-out test set, the contributions' SNR, and
    for the LM how much weight the perturbed rows keep."""
    lines = []
    for ours in (perceptron, lm):
        setting = ours["setting"]
        official = OFFICIAL_SETUP[setting]
        epochs = f"{ours['outer_epochs']} outer epoch{'s' * (ours['outer_epochs'] != 1)}"
        lines += [
            (f"{_SETTING_NAMES[setting]}: T {ours['steps']:,}, N {ours['n_train']:,}; outer lr {ours['outer_lr']:g} "
             f"for {epochs}, {_SCHEDULES[lr_schedule]} (the paper's official run: T {official['T']:,}, N "
             f"{official['N']:,}; outer lr {official['outer lr']:g} for {official['outer epochs']} full-batch outer "
             "epochs, decaying linearly)."),
            (f"  J {ours['auc_conventional']:.4f} -> {ours['auc_optimised']:.4f}, CR {ours['cr_conventional']:.3f} -> "
             f"{ours['cr_optimised']:.3f}: {_cr_words(ours)}."),
            (f"  speed-up at step T: {_pace(ours, 'speedup')} on the desired set it was optimised on, "
             f"{_pace(ours, 'speedup_test')} on the held-out test set it never saw; paper "
             f"{PAPER_RESULTS['speedup'][setting]:.2f}x."),
            ("  median SNR of the active examples' contributions over the second half of training: conventional "
             f"{ours['snr_conventional_median_late']:.2f}, optimised {ours['snr_optimised_median_late']:.2f} "
             f"({_snr_words(ours)})."),
        ]
    zero = lm.get("zero_weight")
    if zero is not None:
        lines.append(
            f"  perturbed rows: mean weight {zero['mean_weight_marked']:.2f} against {zero['mean_weight_unmarked']:.2f} "
            f"for clean rows, {zero['mean_weight_marked'] / zero['mean_weight_unmarked']:.2f} of a clean row's weight; "
            f"of the rows switched off (mean weight < {zero['threshold']:g}) {_percent_or_none(zero['precision'])} are "
            f"perturbed, and {_percent_or_none(zero['recall'])} of the perturbed rows are switched off.")
    if retrain:
        best = min(retrain, key=retrain.get)
        spread = (max(retrain.values()) - retrain[best]) / retrain[best]
        losses = ", ".join(f"{name} {loss:.3f}" for name, loss in retrain.items())
        lines.append(f"Reweighting in the package's training loop (ours, not the paper's): final desired loss {losses}; "
                     f"lowest: {best}, the highest {spread:.1%} above it.")
    return "\n".join(lines)


_SCHEDULES = {"linear": "decaying linearly", "constant": "constant"}


def _cr_words(ours: dict[str, Any]) -> str:
    if ours["cr_optimised"] > ours["cr_conventional"]:
        return "the optimised policy's desired loss is lower on average over the run"
    return "the optimisation did not lower the area under the desired-loss curve"


def _pace(ours: dict[str, Any], key: str) -> str:
    """"3.66x (ahead)", "0.70x (behind: ...)": where the optimised run stands at step T against conventional training."""
    if key not in ours:
        return "not measured"
    text = _speedup_text(ours, key)
    if ours[key] > 1:
        return f"{text} (ahead)"
    if ours[key] < 1:
        return f"{text} (behind: conventional training had reached the optimised run's final loss before step T)"
    return f"{text} (level)"


def _snr_words(ours: dict[str, Any]) -> str:
    conventional, optimised = ours["snr_conventional_median_late"], ours["snr_optimised_median_late"]
    if not (math.isfinite(conventional) and math.isfinite(optimised)):
        return "not measured"
    if optimised > conventional:
        return "more equal under the optimised policy, the Learning Law's direction"
    return "not more equal under the optimised policy"


def _percent_or_none(value: float) -> str:
    return "none" if not math.isfinite(value) else f"{value:.0%}"


def speedup_summary(ours: dict[str, Any]) -> str:
    """One line for a notebook: our speed-up on the desired and on the test set, beside the paper's."""
    paper = PAPER_RESULTS["speedup"][ours["setting"]]
    return (f"speed-up at the end of training: desired set {_speedup_text(ours)}, held-out test set "
            f"{_speedup_text(ours, 'speedup_test')}; paper: {paper:.2f}x")


def _row(quantity: str, setting: str, paper: str, ours: str, note: str, source: str = "") -> PaperRow:
    return PaperRow(quantity, _SETTING_NAMES[setting], paper, ours, note, source)


def _speedup_text(ours: dict[str, Any], key: str = "speedup") -> str:
    """"2.50x", or ">= 10x (lower bound: ...)" when the long conventional run never reached the target."""
    if key not in ours:
        return "not measured"
    if ours[f"{key}_lower_bound"]:
        return f">= {ours[key]:g}x (lower bound: not reached in {ours['long_run_steps']} conventional steps)"
    return f"{ours[key]:.2f}x"


def _scale_note(ours: dict[str, Any]) -> str:
    setting = ours["setting"]
    paper_t, paper_n = PAPER_RESULTS["steps"][setting], PAPER_RESULTS["n_train"][setting]
    if (ours["steps"], ours["n_train"]) == (paper_t, paper_n):
        return f"paper's T and N; {ours['outer_epochs']} outer epochs"
    return (f"ours: T={ours['steps']}, N={ours['n_train']} (paper: T={paper_t}, N={paper_n}); "
            f"{ours['outer_epochs']} outer epochs")


def _change_text(key: str) -> str:
    values = PAPER_RESULTS[key]
    return f"{values['stated'] * 100:.1f}% (text) / {values['table2_T4K'] * 100:.1f}% (Table 2, T=4K)"


def _percent(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value * 100:.1f}%"
