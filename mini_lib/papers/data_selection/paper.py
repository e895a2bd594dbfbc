"""The numbers and claims of "How to Train Data-Efficient LLMs" (arXiv 2402.09668), and ours beside them.

``PAPER_OVER_SCALING_20PCT`` holds the paper's over-scaling of T5-Large trained on 20% samples of C4 with
the same token budget; ``paper_vs_ours`` puts ours at the nearest keep fraction next to it, with the
paper's three qualitative claims, every row in the unit its ``quantity`` names (over-scaling and speed-up in
%). ``selection_claims`` decides the headline claims as ``claims.Claim`` rows on the scorer sweep's seeds, by a
rule (``CLAIM_K``, ``CLAIM_FLOOR``, ``NO_DIFFERENCE_TOLERANCE``) fixed before any run, at the keep fraction
the sweep measures, which the claim's text names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from mini_lib.core.claims import Claim, PaperRow, compare_seeds, paper_vs_ours_table
from mini_lib.papers.data_selection.analysis import per_seed, first_auroc_that_beats, sweep_verdicts
from mini_lib.papers.data_selection.experiment import FULL

# arXiv 2402.09668: T5-Large trained on 20% samples of C4, same token budget.
PAPER_OVER_SCALING_20PCT: dict[str, float] = {"askllm": 33.0, "density": 2.8, "random": -6.5, "perplexity": -32.7}
PAPER_CLAIMS: dict[str, str] = {  # in the paper's words (abstract)
    "askllm_beats_full_at_10pct": "Ask-LLM beats full-data training even when 90% of the data is rejected",
    "askllm_faster_convergence": "Ask-LLM converges up to 70% faster than full-data training",
    "density_recovers_full": "Density sampling recovers full-data quality",
}
PAPER_MAX_SPEEDUP = 0.70
PAPER_SOURCE = "arXiv 2402.09668, T5-Large results"
PAPER_ABSTRACT = "arXiv 2402.09668, abstract"


# ---- the paper's numbers next to ours -------------------------------------------------------------


def _nearest(frame: pd.DataFrame, fraction: float) -> pd.DataFrame:
    fractions = frame["keep_fraction"].unique()
    best = fractions[np.argmin(np.abs(fractions - fraction))]
    return frame[frame["keep_fraction"] == best]


def paper_vs_ours(summary: pd.DataFrame, samplers: Sequence[str]) -> pd.DataFrame:
    """The paper's over-scaling at 20% (T5-Large) next to ours at the fraction nearest 20%, one ``PaperRow`` per
    sampler, then the paper's three qualitative claims with what we measured; ``setting`` names the keep
    fraction our number is at. Each row's ``quantity`` names its unit, the same in both columns: over-scaling
    and speed-up in %; where the paper gives words, not a number, its column says what the words mean in
    that unit ("> 0": beats full data)."""
    large = summary[(summary["model"] == "large") & (summary["sampler"] != FULL)]
    full = summary[(summary["model"] == "large") & (summary["sampler"] == FULL)].iloc[0]
    rows = []
    for sampler in samplers:
        mine = _nearest(large[large["sampler"] == sampler], 0.2)
        rows.append(PaperRow(
            f"over-scaling (%) at 20%: {sampler}",
            _at_fraction(float(mine["keep_fraction"].iloc[0])) if len(mine) else "large model, sampler not in this run",
            PAPER_OVER_SCALING_20PCT.get(sampler, float("nan")),
            float(mine["over_scaling"].iloc[0]) if len(mine) else float("nan"),
            "" if sampler in PAPER_OVER_SCALING_20PCT else "the paper reports no number for this sampler here",
            PAPER_SOURCE))
    ask = large[large["sampler"] == "askllm"]
    if len(ask):
        low = ask[ask["keep_fraction"] == ask["keep_fraction"].min()].iloc[0]
        rows.append(PaperRow(f"over-scaling (%) of Ask-LLM at {low['keep_fraction']:.0%} kept",
                             _at_fraction(float(low["keep_fraction"])),
                             "> 0 (" + PAPER_CLAIMS["askllm_beats_full_at_10pct"] + ")",
                             float(low["over_scaling"]),
                             f"> 0: beats full data; clean val loss {low['val_loss']:.3f} vs full data "
                             f"{full['val_loss']:.3f} nats (one seed)", PAPER_ABSTRACT))
        rows.append(PaperRow("speed-up (%) of Ask-LLM to the full-data loss", "large model, best over keep fractions",
                             100 * PAPER_MAX_SPEEDUP,
                             100 * float(np.nanmax(ask["speedup"])) if ask["speedup"].notna().any() else float("nan"),
                             "up to: the largest over keep fractions; NaN: never reached the full-data loss",
                             PAPER_ABSTRACT))
    dens = large[large["sampler"] == "density"]
    if len(dens):
        best = dens.loc[dens["val_loss"].idxmin()]
        rows.append(PaperRow("over-scaling (%) of Density at its best keep fraction", _at_fraction(float(best["keep_fraction"])),
                             "about 0 (" + PAPER_CLAIMS["density_recovers_full"] + f"; "
                             f"{PAPER_OVER_SCALING_20PCT['density']:+g} at 20%)",
                             float(best["over_scaling"]),
                             f"about 0: recovers full data; clean val loss {best['val_loss']:.3f} vs full data "
                             f"{full['val_loss']:.3f} nats (one seed)", PAPER_ABSTRACT))
    return paper_vs_ours_table(rows)


def _at_fraction(keep_fraction: float) -> str:
    """Where our number of a ``paper_vs_ours`` row is measured."""
    return f"large model, keep fraction {keep_fraction:g}"


# ---- the paper's claims, decided on the sweep's seeds --------------------------------------------


CLAIM_K, CLAIM_FLOOR = 2.0, 0.01  # the rule, fixed before any run: 2 paired seed spreads, at least 0.01 nats
# "Recovers full-data quality" holds when Density's loss is within this share of the small-to-large model gain
# of full data's, noise included: 10% of what the larger model buys, an over-scaling within +-10%.
NO_DIFFERENCE_TOLERANCE = 0.10


@dataclass(frozen=True)
class NoDifference:
    """``a - b`` over paired seeds against a tolerance: is it clearly inside, clearly outside, or unknown?"""

    difference: float  # mean(a) - mean(b)
    spread: float  # standard deviation of the per-seed differences (NaN with one seed)
    tolerance: float  # no difference means |difference| within this
    verdict: str  # "holds": inside by more than k spreads; "reversed": outside by more; else "within noise"

    def describe(self, unit: str = "", digits: int = 3) -> str:
        spread = "one seed" if math.isnan(self.spread) else f"seed spread {self.spread:.{digits}f}{unit}"
        return f"{self.difference:+.{digits}f}{unit} ({spread}; tolerance +-{self.tolerance:.{digits}f}{unit})"


def no_difference(a: Sequence[float], b: Sequence[float], *, tolerance: float, k: float = CLAIM_K) -> NoDifference:
    """The rule for a claim that two things do not differ: with ``d`` the mean of the paired differences and
    ``s`` their seed-to-seed spread, "holds" when ``|d| + k s <= tolerance`` (no difference beyond the
    tolerance, noise included), "reversed" when ``|d| - k s > tolerance`` (a difference beyond it), else
    "within noise" (and always with one seed, whose spread is unknown)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diffs = a - b
    d = float(diffs.mean())
    s = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else math.nan
    if math.isnan(s):
        verdict = "within noise"
    elif abs(d) + k * s <= tolerance:
        verdict = "holds"
    elif abs(d) - k * s > tolerance:
        verdict = "reversed"
    else:
        verdict = "within noise"
    return NoDifference(d, s, float(tolerance), verdict)


def kept_claim(keep_fraction: float) -> str:
    """The Ask-LLM-beats-full-data claim at the fraction our sweep keeps: the paper's words name 90%
    rejected (abstract) and its T5-Large over-scaling is at 20% kept."""
    return f"Ask-LLM beats full-data training with {keep_fraction:.0%} of the data kept ({1 - keep_fraction:.0%} rejected)"


def selection_claims(sweep: pd.DataFrame, *, keep_fraction: float, density_fraction: float) -> list[Claim]:
    """The paper's headline claims as ``claims.Claim`` rows, decided on the sweep's seeds on clean validation
    loss (paired by seed, lower is better): ``compare_seeds`` for a difference, ``no_difference`` for Density's
    "recovers full-data quality". Each claim names the keep fraction it is measured at."""
    rule = (f"val loss difference over {sweep['seed'].nunique()} paired seeds beyond max({CLAIM_K:g} seed spreads, "
            f"{CLAIM_FLOOR} nats)")
    verdicts = sweep_verdicts(sweep, k=CLAIM_K, floor=CLAIM_FLOOR)
    beats_full, beats_random = first_auroc_that_beats(verdicts, FULL), first_auroc_that_beats(verdicts, "random")
    mechanism = "; ".join(f"no synthetic scorer, a perfect one included, beats {what} beyond noise" if np.isnan(auroc)
                          else f"synthetic scorers beat {what} from AUROC {auroc:.2f}"
                          for what, auroc in (("full data", beats_full), ("random", beats_random)))
    full = per_seed(sweep, FULL)
    kept = f"{keep_fraction:.0%} kept ({1 - keep_fraction:.0%} rejected)"
    claims = []
    if "askllm" in set(sweep["sampler"]):
        ask = per_seed(sweep, "askllm")
        auroc = float(per_seed(sweep, "askllm", "scorer_auroc")[0])
        os_ask = float(np.mean(per_seed(sweep, "askllm", "over_scaling")))
        c = compare_seeds(full, ask, k=CLAIM_K, floor=CLAIM_FLOOR)
        claims.append(Claim("2402.09668", kept_claim(keep_fraction), f"{PAPER_SOURCE}; abstract",
                            f"over-scaling +{PAPER_OVER_SCALING_20PCT['askllm']} at 20% kept (T5-Large); the abstract: "
                            "even when 90% is rejected",
                            f"over-scaling {os_ask:+.1f} at {kept}; full - Ask-LLM loss {c.describe(' nats')}",
                            rule + "; holds if full data's loss is higher", c.verdict,
                            f"scorer AUROC {auroc:.2f}; {mechanism}"))
        ppl = per_seed(sweep, "perplexity")
        c = compare_seeds(ppl, ask, k=CLAIM_K, floor=CLAIM_FLOOR)
        claims.append(Claim("2402.09668", "Ask-LLM ranks above Perplexity filtering", PAPER_SOURCE,
                            f"over-scaling +{PAPER_OVER_SCALING_20PCT['askllm']} vs "
                            f"{PAPER_OVER_SCALING_20PCT['perplexity']} at 20% kept",
                            f"perplexity - Ask-LLM loss {c.describe(' nats')} at {kept}",
                            rule + "; holds if perplexity's loss is higher", c.verdict,
                            f"AUROC Ask-LLM {auroc:.2f} vs perplexity "
                            f"{float(per_seed(sweep, 'perplexity', 'scorer_auroc')[0]):.2f}"))
    dens = per_seed(sweep, "density")
    gain = float(np.mean(full - _small_full(sweep)))
    c = no_difference(dens, full, tolerance=NO_DIFFERENCE_TOLERANCE * abs(gain))
    claims.append(Claim("2402.09668", PAPER_CLAIMS["density_recovers_full"], PAPER_ABSTRACT,
                        f"over-scaling +{PAPER_OVER_SCALING_20PCT['density']} at 20% kept (T5-Large)",
                        f"density at {density_fraction:.0%} kept - full loss {c.describe(' nats')}",
                        f"no difference over {len(full)} paired seeds: |difference| + {CLAIM_K:g} seed spreads within "
                        f"the tolerance, {NO_DIFFERENCE_TOLERANCE:.0%} of the small-to-large model gain on full data "
                        f"({abs(gain):.3f} nats; an over-scaling within +-{100 * NO_DIFFERENCE_TOLERANCE:g}); reversed "
                        "if it exceeds the tolerance by more than that noise",
                        c.verdict, f"density over-scaling {float(np.mean(per_seed(sweep, 'density', 'over_scaling'))):+.1f}",
                        no_difference=True))
    return claims


def _small_full(sweep: pd.DataFrame) -> np.ndarray:
    """Clean val loss of the small model on full data, in seed order: over-scaling's unit."""
    rows = sweep[(sweep["model"] == "small") & (sweep["sampler"] == FULL)].sort_values("seed")
    return rows["val_loss"].to_numpy(dtype=float)
