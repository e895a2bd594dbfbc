"""One call from a ``PolicyResult`` to the numbers of the paper's tables (arXiv 2402.17759, Sec. 4-5).

Gathers, for conventional and optimised training on the same problem: the normalised area under the
desired-loss curve (J), the compression ratio, the learning-law fits L = L0 + (B/t)^beta with the
relative coefficient changes |dB|/B and |dbeta|/beta, and the speed-up at the end of training (see
``analysis`` for every definition) on the desired set the policy was optimised on and, when test
curves are given, on held-out test examples. The speed-up is read off the longest conventional run
given (a longer run than the optimised one when there is one); when that run never reaches the
optimised final loss, the speed-up is the lower bound T_long / T, flagged (never extrapolated).

A curve too short for a fit (fewer than ``min_points`` steps after t0) or one that is no decaying power
law (e.g. a desired loss that turns back up as conventional training overfits) has no learning-law
fit: its ``fit_*`` is None and the coefficient changes are NaN.
"""

import math
from dataclasses import dataclass

from torch import Tensor

from mini_lib.core.errors import ConfigError
from mini_lib.papers.optimal_learning.analysis import (
    Acceleration,
    FitComparison,
    LearningLawFit,
    acceleration_ratio,
    area_under_curve,
    compare_fits,
    compression_ratio,
    fit_learning_law_curve,
)
from mini_lib.papers.optimal_learning.optimise import PolicyResult


@dataclass(frozen=True)
class PolicySummary:
    """Conventional vs optimised: AUC (J), CR, learning-law fits and their changes, speed-up."""

    auc_conventional: float
    auc_optimised: float
    cr_conventional: float
    cr_optimised: float
    fit_conventional: LearningLawFit | None
    fit_optimised: LearningLawFit | None
    fit_change: FitComparison
    acceleration: Acceleration  # on the desired set
    acceleration_test: Acceleration | None  # on held-out test examples, when test curves were given


def summarise_policy(result: PolicyResult, vocab_size: int, *, long_conventional_curve: Tensor | None = None,
                     test_curves: tuple[Tensor, Tensor] | None = None) -> PolicySummary:
    """The paper's numbers for ``result``; |V| = ``vocab_size`` (2 for the perceptron).

    ``test_curves``: (conventional, optimised) test-loss curves; the conventional one as long as the
    reference run (``long_conventional_curve`` when given)."""
    conventional, optimised = result.conventional_curve, result.optimised_curve
    fit_conventional = _fit_or_none(conventional)
    fit_optimised = _fit_or_none(optimised)
    reference = conventional if long_conventional_curve is None else long_conventional_curve
    acceleration = acceleration_ratio(reference, optimised)
    acceleration_test = None
    if test_curves is not None:
        if len(test_curves[0]) != len(reference):
            raise ConfigError(f"the conventional test curve has {len(test_curves[0])} points, the reference "
                              f"desired curve {len(reference)}: give both from the same run")
        acceleration_test = acceleration_ratio(*test_curves)
    if fit_conventional is None or fit_optimised is None:
        fit_change = FitComparison(scale_change=math.nan, exponent_change=math.nan)
    else:
        fit_change = compare_fits(fit_conventional, fit_optimised)
    return PolicySummary(
        auc_conventional=area_under_curve(conventional), auc_optimised=area_under_curve(optimised),
        cr_conventional=compression_ratio(conventional, vocab_size),
        cr_optimised=compression_ratio(optimised, vocab_size),
        fit_conventional=fit_conventional, fit_optimised=fit_optimised,
        fit_change=fit_change, acceleration=acceleration, acceleration_test=acceleration_test,
    )


def _fit_or_none(curve: Tensor) -> LearningLawFit | None:
    """The learning-law fit of ``curve``, or None when it has no decaying power-law segment to fit."""
    try:
        return fit_learning_law_curve(curve)
    except ConfigError:
        return None
