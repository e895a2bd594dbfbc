"""The numbers and claims of "How to Train Data-Efficient LLMs" (arXiv 2402.09668), and ours beside them.

``PAPER_OVER_SCALING_20PCT`` holds the paper's over-scaling of T5-Large trained on 20% samples of C4 with
the same token budget; ``paper_vs_ours`` puts ours at the nearest keep fraction next to it, with the
paper's three qualitative claims. ``selection_claims`` decides the headline claims as
``claims.Claim`` rows on the scorer sweep's seeds, by a rule (``CLAIM_K``, ``CLAIM_FLOOR``) fixed
before any run.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, compare_seeds, paper_vs_ours_table
from mini_lib.papers.data_selection.analysis import per_seed, first_auroc_that_beats, sweep_verdicts
from mini_lib.papers.data_selection.experiment import FULL

# arXiv 2402.09668: T5-Large trained on 20% samples of C4, same token budget.
PAPER_OVER_SCALING_20PCT: dict[str, float] = {"askllm": 33.0, "density": 2.8, "random": -6.5, "perplexity": -32.7}
PAPER_CLAIMS: dict[str, str] = {
    "askllm_beats_full_at_10pct": "Ask-LLM beats full-data training even when 90% of the data is rejected",
    "askllm_faster_convergence": "Ask-LLM converges up to 70% faster than full-data training",
    "density_recovers_full": "Density sampling recovers full-data quality",
}
PAPER_MAX_SPEEDUP = 0.70
PAPER_SOURCE = "arXiv 2402.09668, T5-Large results"


# ---- the paper's numbers next to ours -------------------------------------------------------------


def _nearest(frame: pd.DataFrame, fraction: float) -> pd.DataFrame:
    fractions = frame["keep_fraction"].unique()
    best = fractions[np.argmin(np.abs(fractions - fraction))]
    return frame[frame["keep_fraction"] == best]


def paper_vs_ours(summary: pd.DataFrame, samplers: Sequence[str]) -> pd.DataFrame:
    """The paper's over-scaling at 20% (T5-Large) next to ours at the fraction nearest 20%, one ``PaperRow`` per
    sampler, then the paper's three qualitative claims with what we measured; ``setting`` names the keep
    fraction our number is at."""
    large = summary[(summary["model"] == "large") & (summary["sampler"] != FULL)]
    full = summary[(summary["model"] == "large") & (summary["sampler"] == FULL)].iloc[0]
    rows = []
    for sampler in samplers:
        mine = _nearest(large[large["sampler"] == sampler], 0.2)
        rows.append(PaperRow(
            f"over-scaling at 20%: {sampler}",
            _at_fraction(float(mine["keep_fraction"].iloc[0])) if len(mine) else "large model, sampler not in this run",
            PAPER_OVER_SCALING_20PCT.get(sampler, float("nan")),
            float(mine["over_scaling"].iloc[0]) if len(mine) else float("nan"),
            "" if sampler in PAPER_OVER_SCALING_20PCT else "the paper reports no number for this sampler here",
            PAPER_SOURCE))
    ask = large[large["sampler"] == "askllm"]
    if len(ask):
        low = ask[ask["keep_fraction"] == ask["keep_fraction"].min()].iloc[0]
        rows.append(PaperRow(PAPER_CLAIMS["askllm_beats_full_at_10pct"], _at_fraction(float(low["keep_fraction"])), 1.0,
                             float(low["val_loss"] < full["val_loss"]),
                             f"1 = yes; val loss {low['val_loss']:.3f} vs full {full['val_loss']:.3f}", PAPER_SOURCE))
        rows.append(PaperRow(PAPER_CLAIMS["askllm_faster_convergence"], "large model, best over keep fractions",
                             PAPER_MAX_SPEEDUP,
                             float(np.nanmax(ask["speedup"])) if ask["speedup"].notna().any() else float("nan"),
                             "largest speed-up over fractions; NaN: never reached the full-data loss", PAPER_SOURCE))
    dens = large[large["sampler"] == "density"]
    if len(dens):
        best = dens.loc[dens["val_loss"].idxmin()]
        rows.append(PaperRow(PAPER_CLAIMS["density_recovers_full"], _at_fraction(float(best["keep_fraction"])), 0.0,
                             float(best["val_loss"] - full["val_loss"]),
                             "best density val loss minus full-data val loss (<= 0: recovered)", PAPER_SOURCE))
    return paper_vs_ours_table(rows)


def _at_fraction(keep_fraction: float) -> str:
    """Where our number of a ``paper_vs_ours`` row is measured."""
    return f"large model, keep fraction {keep_fraction:g}"


# ---- the paper's claims, decided on the sweep's seeds --------------------------------------------


CLAIM_K, CLAIM_FLOOR = 2.0, 0.01  # the rule, fixed before any run: 2 paired seed spreads, at least 0.01 nats


def selection_claims(sweep: pd.DataFrame, *, keep_fraction: float, density_fraction: float) -> list[Claim]:
    """The paper's headline claims as ``claims.Claim`` rows, decided on the sweep's seeds by
    ``compare_seeds`` on clean validation loss (paired by seed, lower is better)."""
    rule = (f"val loss difference over {sweep['seed'].nunique()} paired seeds beyond max({CLAIM_K:g} seed spreads, "
            f"{CLAIM_FLOOR} nats)")
    verdicts = sweep_verdicts(sweep, k=CLAIM_K, floor=CLAIM_FLOOR)
    beats_full, beats_random = first_auroc_that_beats(verdicts, FULL), first_auroc_that_beats(verdicts, "random")
    mechanism = "; ".join(f"no synthetic scorer, a perfect one included, beats {what} beyond noise" if np.isnan(auroc)
                          else f"synthetic scorers beat {what} from AUROC {auroc:.2f}"
                          for what, auroc in (("full data", beats_full), ("random", beats_random)))
    full = per_seed(sweep, FULL)
    claims = []
    if "askllm" in set(sweep["sampler"]):
        ask = per_seed(sweep, "askllm")
        auroc = float(per_seed(sweep, "askllm", "scorer_auroc")[0])
        os_ask = float(np.mean(per_seed(sweep, "askllm", "over_scaling")))
        c = compare_seeds(full, ask, k=CLAIM_K, floor=CLAIM_FLOOR)
        claims.append(Claim("2402.09668", PAPER_CLAIMS["askllm_beats_full_at_10pct"], PAPER_SOURCE,
                            f"over-scaling +{PAPER_OVER_SCALING_20PCT['askllm']} at 20% (T5-Large)",
                            f"over-scaling {os_ask:+.1f} at {keep_fraction:.0%}; full - Ask-LLM loss "
                            f"{c.describe(' nats')}", rule + "; holds if full data's loss is higher", c.verdict,
                            f"scorer AUROC {auroc:.2f}; {mechanism}"))
        ppl = per_seed(sweep, "perplexity")
        c = compare_seeds(ppl, ask, k=CLAIM_K, floor=CLAIM_FLOOR)
        claims.append(Claim("2402.09668", "Ask-LLM ranks above Perplexity filtering", PAPER_SOURCE,
                            f"over-scaling +{PAPER_OVER_SCALING_20PCT['askllm']} vs "
                            f"{PAPER_OVER_SCALING_20PCT['perplexity']} at 20%",
                            f"perplexity - Ask-LLM loss {c.describe(' nats')} at {keep_fraction:.0%}",
                            rule + "; holds if perplexity's loss is higher", c.verdict,
                            f"AUROC Ask-LLM {auroc:.2f} vs perplexity "
                            f"{float(per_seed(sweep, 'perplexity', 'scorer_auroc')[0]):.2f}"))
    dens = per_seed(sweep, "density")
    c = compare_seeds(dens, full, direction=-1, k=CLAIM_K, floor=CLAIM_FLOOR)
    claims.append(Claim("2402.09668", PAPER_CLAIMS["density_recovers_full"], PAPER_SOURCE,
                        f"over-scaling +{PAPER_OVER_SCALING_20PCT['density']} at 20%",
                        f"density at {density_fraction:.0%} - full loss {c.describe(' nats')}",
                        rule + "; holds if density's loss is lower, reversed if higher", c.verdict,
                        "an equal-quality claim: 'within noise' means no difference this run can see"))
    return claims
