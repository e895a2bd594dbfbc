"""Claims: one row schema for every paper's headline claims, and one rule for calling them.

A reproduction's verdict is only worth the rule behind it. Every notebook states each claim as a
``Claim`` row (the paper's words and number, with its source; our number; the rule, fixed before the
run; the verdict) and shows them with ``claims_table``; ``python -m mini_lib report`` reads the same rows
from ``results.json`` (key ``claims``).

``compare_seeds`` is the rule for "A beats B": the difference of the means must exceed a margin of
``k`` times the seed-to-seed spread (the standard deviation of the per-seed differences when the runs are
paired by seed, else the pooled standard deviation of the two groups), never less than ``floor``. Three
outcomes, because "not measurable at this size" is a result too:

* ``"holds"``: the difference is in the claimed direction and larger than the margin;
* ``"reversed"``: it is in the other direction and larger than the margin;
* ``"within noise"``: smaller than the margin (or a single seed, whose spread is unknown, with no floor).

Where a run has no seeds to compare, ``compare_with_error`` applies the same rule to one difference with
the noise measured another way (k standard errors of a binomial accuracy or of a fit; 0 for exact counts).

Beside the claims, every notebook has one paper-vs-ours table: a ``PaperRow`` per number (or fact) the
paper reports, ours next to it, built by ``paper_vs_ours_table`` so that every paper's table has the same
columns (``PAPER_VS_OURS_COLUMNS``) and ``python -m mini_lib report`` can show any of them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from mini_lib.core.errors import ConfigError

VERDICTS = ("holds", "reversed", "within noise", "not run")
IN_SHORT = {
    "holds": "Our run shows it too, beyond its noise.",
    "reversed": "Our run shows the opposite of the paper.",
    "within noise": "Our run cannot tell: the difference is smaller than its noise.",
    "not run": "This profile does not test it.",
}
IN_SHORT_NO_DIFFERENCE = {
    "holds": "Our run cannot tell them apart either, as the paper says.",
    "reversed": "Our run finds a difference where the paper finds none.",
    "within noise": "Our run is too noisy to tell no difference from a small one.",
    "not run": "This profile does not test it.",
}
# A tutorial's own check has an expectation, not a paper: its sentences say so.
WITHOUT_A_PAPER = {"as the paper says": "as expected", "where the paper finds none": "where none was expected",
                   "the opposite of the paper": "the opposite of what was expected"}


@dataclass(frozen=True)
class Claim:
    """One headline claim checked on our run."""

    paper: str  # arXiv id, e.g. "2411.15821"; empty for a tutorial's own check (``paper_value``: its reference)
    claim: str  # the claim in the paper's words, short
    source: str  # where the paper states it: "Table 2", "Sec. 4.1", "abstract (v1)"
    paper_value: str  # the paper's evidence, as the paper reports it
    ours: str  # our evidence, formatted
    rule: str  # the rule deciding the verdict, fixed before the run (with its margin)
    verdict: str  # one of VERDICTS
    note: str = ""  # why, when it is not "holds": the evidence for the mechanism or the scale
    no_difference: bool = False  # the paper claims that something makes no difference ("as good as", "neutral")

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ConfigError(f"verdict must be one of {', '.join(VERDICTS)}, got {self.verdict!r}")

    @property
    def in_short(self) -> str:
        """The verdict as one plain sentence, which reads the right way for a claim of a difference and for a
        claim of none (where "holds" means our run sees no difference either), and for a tutorial's own check,
        which has an expectation rather than a paper."""
        sentence = (IN_SHORT_NO_DIFFERENCE if self.no_difference else IN_SHORT)[self.verdict]
        for words, instead in ({} if self.paper else WITHOUT_A_PAPER).items():
            sentence = sentence.replace(words, instead)
        return sentence

    @property
    def holds(self) -> bool | None:
        """True / False where the run decides it; None when the difference is within noise or not run."""
        return {"holds": True, "reversed": False}.get(self.verdict)


@dataclass(frozen=True)
class SeedComparison:
    """``a - b`` over seeds, and what the rule says about it."""

    difference: float  # mean(a) - mean(b)
    spread: float  # seed-to-seed standard deviation (NaN with one seed), or the error given to compare_with_error
    margin: float  # the difference must exceed this to count
    verdict: str

    def describe(self, unit: str = "", digits: int = 3) -> str:
        spread = "one seed" if math.isnan(self.spread) else f"seed spread {self.spread:.{digits}f}{unit}"
        return f"{self.difference:+.{digits}f}{unit} ({spread}; margin {self.margin:.{digits}f}{unit})"


def compare_seeds(a: Sequence[float], b: Sequence[float], *, direction: int = 1, k: float = 2.0,
                  floor: float = 0.0, paired: bool = True) -> SeedComparison:
    """Is ``mean(a) - mean(b)`` clearly ``> 0`` (``direction=1``) or ``< 0`` (``direction=-1``)? See the
    module docstring for the rule. ``paired``: ``a[i]`` and ``b[i]`` share seed ``i`` (same data order and
    initial weights), so the spread of their differences is the noise that matters."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or len(b) == 0:
        raise ConfigError("compare_seeds needs at least one value on each side")
    if paired and len(a) != len(b):
        raise ConfigError(f"paired comparison needs as many values on each side, got {len(a)} and {len(b)}")
    if paired and len(a) > 1:
        spread = float(np.std(a - b, ddof=1))
    elif not paired and len(a) > 1 and len(b) > 1:
        spread = float(math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2))
    else:
        spread = math.nan
    return compare_with_error(float(a.mean() - b.mean()), spread, direction=direction, k=k, floor=floor)


def compare_with_error(difference: float, error: float, *, direction: int = 1, k: float = 2.0,
                       floor: float = 0.0) -> SeedComparison:
    """The same rule for one measured difference whose noise is known another way: a binomial standard
    error over task items, a fit's standard error, or 0 for an exact count. ``error`` NaN (unknown)
    decides only with a ``floor``, as a single seed does in ``compare_seeds``."""
    if direction not in (1, -1):
        raise ConfigError(f"direction must be 1 or -1, got {direction}")
    margin = max(floor, k * error) if not math.isnan(error) else (floor if floor > 0 else math.inf)
    if direction * difference > margin:
        verdict = "holds"
    elif -direction * difference > margin:
        verdict = "reversed"
    else:
        verdict = "within noise"
    return SeedComparison(float(difference), float(error), margin, verdict)


@dataclass(frozen=True)
class PaperRow:
    """One number the paper reports, or one fact of its set-up, beside ours."""

    quantity: str  # what is compared: "gptfluence spearman", "speed-up at the end of training"
    setting: str  # where it is measured: "fine-tuning 410M", "Perceptron", "25% of the stories, 50% duplication"
    paper: float | str  # the paper's value: a number, or its words where it gives no number
    ours: float | str  # ours, in the same form (NaN or text such as "not measured" where we have none)
    note: str = ""  # what differs between the two settings, or how to read the row
    source: str = ""  # where the paper states it: "Table 2", "Sec. 4", "arXiv 2411.15821 results table"


PAPER_VS_OURS_COLUMNS = tuple(PaperRow.__dataclass_fields__)


def paper_vs_ours_table(rows: Sequence[PaperRow]) -> pd.DataFrame:
    """The rows as every notebook's paper-vs-ours table: ``PAPER_VS_OURS_COLUMNS``, in that order."""
    return pd.DataFrame([asdict(row) for row in rows], columns=list(PAPER_VS_OURS_COLUMNS))


CLAIMS_COLUMNS = ("paper", "claim", "source", "paper_value", "ours", "verdict", "in_short", "rule", "note")


def claims_table(claims: Sequence[Claim]) -> pd.DataFrame:
    """The rows as a table (what a notebook shows and ``results.json`` stores under ``claims``): the verdict
    and its plain sentence before the rule, which is there for those who want it."""
    return pd.DataFrame([{**asdict(c), "in_short": c.in_short} for c in claims], columns=list(CLAIMS_COLUMNS))
