"""Numbers the paper reports about a loss curve (arXiv 2402.17759, Sec. 4-5).

Conventions (curves hold L_dsr(theta_t) for t = 0..T, T = len(curve) - 1):

- area under the curve (normalised): AUC = (1/T) sum_{t=1..T} L_t, the policy objective J;
- compression ratio: CR = T log|V| / sum_{t=1..T} L_t = log|V| / AUC, with losses in nats. For the
  Transformer |V| is the vocabulary size; for the binary perceptron |V| = 2 (log 2 = the loss of a
  coin flip), so CR = 1 means "no better than guessing over the whole run";
- acceleration (speed-up) at the end of training (arXiv 2402.17759, Sec. 4: 5.50x Perceptron, 2.41x
  Transformer): AR = T_conv / T, where T_conv is the number of conventional steps needed to reach the
  loss L(theta_T) that the optimised policy reaches at its last step T. The official evaluation
  (github.com/microsoft/LMOps, ``learning_law/src/eval_policy_trainer.py`` and ``base_trainer.py``
  ``train``) trains with the constant policy and with each learned policy and saves, per step, the
  loss on the desired (dev) set AND on a held-out test set (``all_loss.pt``); the repository has no
  function for the ratio, which is read off those curves, so we compute it on both sets. T_conv is the
  first crossing of the conventional curve, linearly interpolated between steps. A conventional run
  of T_long steps that never reaches the target gives NO number: the ratio is reported as the lower
  bound T_long / T with ``lower_bound=True`` (never extrapolated, never infinite);
- learning-law fit L(t) = L0 + (B / t)^beta for t > t0: for each candidate t0 and offset L0 the
  inner fit is closed-form least squares of log(L - L0) = beta log B - beta log t; L0 is searched
  on a grid in [0, min L) and refined by bounded scalar minimisation (the L0 with the smallest RMS
  relative error of the fitted loss on the window wins), t0 over a geometric grid up to
  ``max_t0_fraction * T``: t0 is the EARLIEST candidate whose fit has RMS relative error <= ``tolerance``
  (the law holds from there on, and the fit uses the most data); if none does, the best-fitting one.
  Coefficient changes are |B_opt - B_conv| / B_conv and |beta_opt - beta_conv| / beta_conv;
- is the fit identifiable? A loss curve is deterministic, so its "noise" is how much B and beta move
  when the fit window moves: ``fit_interval`` refits with every start t0 of the grid at or after the
  chosen one and every end in ``WINDOW_ENDS`` (fractions of T), and reports the range of B and beta over
  those windows. Every window (t0, end], the main fit's included, must hold ``min_points`` points AND
  span a factor ``MIN_WINDOW_SPAN`` in t (end >= 2 t0): a power law is a straight line in log t, and over
  less than a factor 2 (say 0.5T to 0.75T) L0 and beta trade off freely, so such a window would widen the
  range without saying anything about the curve. The windows must end at two or more of those ends: on a
  short curve only the start can move (by a step or two), and windows that share nearly all their points
  agree without testing anything. The fit is identifiable (``IDENTIFIABILITY_RULE``) when
  beta moves by at most 25% across windows (``IDENTIFIABLE_EXPONENT_RATIO``, max / min) and ln B by at most
  25% of |ln B|. Why ln B and why the same 25%: what a window pins is its log excess loss beta ln(B / t)
  at the t inside it; at a fixed excess, ln(B / t) moves relatively as much as beta does, so ln B moves by
  |ln(B / t)| x (d beta / beta), at most |ln B| x (d beta / beta) for windows with 1 < t < B (for the
  paper's B 3e8 and t <= 4000 nearly that much). A factor of B, the old rule, is the wrong scale: at the
  paper's beta 0.12 and ln B 19.6 a 3.5% change of beta moves B by a factor 2. Where ln B is near 0 (B ~ 1,
  e.g. a perceptron's B ~ 3) a tolerance relative to ln B would demand an exact B, so B may always move by
  a factor ``IDENTIFIABLE_SCALE_RATIO_FLOOR``. Two runs' coefficients differ only where both fits are
  identifiable and their ranges do not overlap (``interval_verdict``).
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from torch import Tensor

from mini_lib.core.errors import ConfigError, check_fraction

WINDOW_ENDS = (0.5, 0.75, 1.0)  # fit windows end at these fractions of T (fit_interval)
MIN_WINDOW_SPAN = 2.0  # a fit window (t0, end] must reach end >= 2 t0: less cannot pin a power law
IDENTIFIABLE_EXPONENT_RATIO = 1.25  # beta may move by at most 25% (max / min) across fit windows, ln B as much
IDENTIFIABLE_SCALE_RATIO_FLOOR = 2.0  # ... but B may always move by a factor 2 (ln B ~ 0 where B ~ 1)
IDENTIFIABILITY_RULE = (f"identifiable: across fit windows that each span >= {MIN_WINDOW_SPAN:g}x in t and end at two "
                        f"or more of {', '.join(f'{end:g}T' for end in WINDOW_ENDS)}, beta varies "
                        f"by at most {IDENTIFIABLE_EXPONENT_RATIO - 1:.0%} (max / min) and ln B by at most "
                        f"{IDENTIFIABLE_EXPONENT_RATIO - 1:.0%} of |ln B| (B always by a factor "
                        f"{IDENTIFIABLE_SCALE_RATIO_FLOOR:g})")
_MAX_LOG_SCALE = math.log(np.finfo(float).max)  # B beyond the float range: inf (the offset is rejected)
_LARGEST_SCALE = 1e100  # a window fitted with a larger B is a flat segment, not a law (the paper's B: 3e8); no fit
_REJECTED = 1e30  # score of an offset that gives no decaying power law (finite keeps the line search quiet)


@dataclass(frozen=True)
class LearningLawFit:
    """L(t) = offset + (scale / t) ** exponent, fitted on t > t0 (B = scale, beta = exponent, L0 = offset)."""

    scale: float
    exponent: float
    offset: float
    t0: int
    r2: float
    rms_relative_error: float

    def predict(self, t: "np.ndarray | float") -> np.ndarray:
        """Fitted loss at step(s) t."""
        return self.offset + (self.scale / np.asarray(t, dtype=float)) ** self.exponent


@dataclass(frozen=True)
class FitInterval:
    """Range of B and beta over the fit windows of one curve (``fit_interval``)."""

    scale: tuple[float, float]
    exponent: tuple[float, float]
    n_windows: int
    n_ends: int  # distinct window ends among them: windows that only start later barely move on a short curve

    @property
    def identifiable(self) -> bool:
        """B and beta both stable across windows whose END moves too (``IDENTIFIABILITY_RULE``)."""
        return (self.n_ends >= 2 and self.exponent[1] <= IDENTIFIABLE_EXPONENT_RATIO * self.exponent[0]
                and math.log(self.scale[1] / self.scale[0]) <= self.log_scale_tolerance)

    def columns(self) -> dict[str, Any]:
        """The interval as table columns (one row per fitted curve)."""
        return {"B_low": self.scale[0], "B_high": self.scale[1], "beta_low": self.exponent[0],
                "beta_high": self.exponent[1], "windows": self.n_windows, "window_ends": self.n_ends,
                "identifiable": self.identifiable}

    @property
    def log_scale_tolerance(self) -> float:
        """Largest ln-range of B that counts as stable: beta's relative tolerance applied to ln B (measured from
        the end of B's ln-range nearer 0, as beta's from its smaller end), at least ln of the floor ratio."""
        low, high = math.log(self.scale[0]), math.log(self.scale[1])
        nearest_zero = 0.0 if low <= 0 <= high else min(abs(low), abs(high))
        return max(math.log(IDENTIFIABLE_SCALE_RATIO_FLOOR), (IDENTIFIABLE_EXPONENT_RATIO - 1) * nearest_zero)


@dataclass(frozen=True)
class Acceleration:
    """Speed-up at the end of training, ``ratio = conventional_steps / optimised_steps``.

    ``lower_bound`` True: the conventional run never reached ``target_loss`` in its
    ``conventional_steps`` steps, so the true speed-up is at least ``ratio`` (report it as ">= ratio")."""

    target_loss: float
    optimised_steps: int
    conventional_steps: float
    ratio: float
    lower_bound: bool


@dataclass(frozen=True)
class FitComparison:
    """Relative changes of the learning-law coefficients, conventional -> optimised."""

    scale_change: float
    exponent_change: float


def area_under_curve(curve: Tensor) -> float:
    """AUC = (1/T) sum_{t=1..T} L_t (the objective J; theta_0's loss is excluded)."""
    values = _as_curve(curve)
    return float(values[1:].mean())


def compression_ratio(curve: Tensor, vocab_size: int) -> float:
    """CR = T log|V| / sum_{t=1..T} L_t (losses in nats; |V| = 2 for the binary perceptron)."""
    if vocab_size < 2:
        raise ConfigError(f"vocab_size must be >= 2 (|V| = 2 for binary labels), got {vocab_size}")
    return math.log(vocab_size) / area_under_curve(curve)


def acceleration_ratio(conventional_curve: Tensor, optimised_curve: Tensor) -> Acceleration:
    """Conventional steps to reach the optimised policy's final loss, over the optimised run length T.

    Both curves hold L_0..L_T on the same examples (desired or test set). Never infinite: when the
    conventional curve does not get there, the ratio is its length over T, flagged ``lower_bound``."""
    conventional = _as_curve(conventional_curve)
    optimised = _as_curve(optimised_curve)
    target = float(optimised[-1])
    steps = len(optimised) - 1
    reached = np.nonzero(conventional <= target)[0]
    if not reached.size:
        horizon = len(conventional) - 1
        return Acceleration(target, steps, float(horizon), horizon / steps, lower_bound=True)
    t = int(reached[0])
    crossing = float(t) if t == 0 else t - 1 + (conventional[t - 1] - target) / (conventional[t - 1] - conventional[t])
    return Acceleration(target, steps, float(crossing), float(crossing) / steps, lower_bound=False)


def fit_learning_law_curve(curve: Tensor, *, tolerance: float = 0.01, max_t0_fraction: float = 0.5, n_t0: int = 12,
                           n_offsets: int = 64, min_points: int = 8) -> LearningLawFit:
    """Fit L = L0 + (B/t)^beta on t > t0, searching t0 and L0 (see the module docstring)."""
    values = _as_curve(curve)
    check_fraction("max_t0_fraction", max_t0_fraction, allow_zero=False, allow_one=False)
    steps = np.arange(len(values), dtype=float)
    last = len(values) - 1
    fits = [_fit_window(steps[t0 + 1 :], values[t0 + 1 :], t0, n_offsets)
            for t0 in _t0_candidates(last, max_t0_fraction, n_t0) if _window_can_test_a_law(t0, last, min_points)]
    fits = [fit for fit in fits if fit is not None]
    if not fits:
        raise ConfigError(f"no decreasing power-law segment with >= {min_points} points (and a factor "
                          f"{MIN_WINDOW_SPAN:g} in t) found; "
                          f"give a longer curve (got {len(values)} points)")
    good = [fit for fit in fits if fit.rms_relative_error <= tolerance]
    return good[0] if good else min(fits, key=lambda fit: fit.rms_relative_error)


def fit_interval(curve: Tensor, fit: LearningLawFit | None = None, *, max_t0_fraction: float = 0.5, n_t0: int = 12,
                 n_offsets: int = 64, min_points: int = 8) -> FitInterval:
    """B and beta over every window (t0, end] with t0 a grid start >= the fit's t0 and end in ``WINDOW_ENDS``
    (at least ``min_points`` points and a factor ``MIN_WINDOW_SPAN`` in t each); see the module docstring."""
    values = _as_curve(curve)
    fit = fit or fit_learning_law_curve(values, max_t0_fraction=max_t0_fraction, n_t0=n_t0, n_offsets=n_offsets,
                                        min_points=min_points)
    last = len(values) - 1
    starts = [t0 for t0 in _t0_candidates(last, max_t0_fraction, n_t0) if t0 >= fit.t0]
    fits = []
    for end in sorted({int(round(fraction * last)) for fraction in WINDOW_ENDS}):
        for t0 in starts:
            if _window_can_test_a_law(t0, end, min_points):
                t = np.arange(t0 + 1, end + 1, dtype=float)
                fits.append((end, _fit_window(t, values[t0 + 1 : end + 1], t0, n_offsets)))
    fits = [(end, f) for end, f in fits if f is not None and math.isfinite(f.scale)] or [(last, fit)]
    scales, exponents = [f.scale for _, f in fits], [f.exponent for _, f in fits]
    return FitInterval((min(scales), max(scales)), (min(exponents), max(exponents)), len(fits),
                       len({end for end, _ in fits}))


def interval_verdict(conventional: tuple[float, float], optimised: tuple[float, float], direction: int) -> str:
    """"holds" when the optimised interval lies wholly on the ``direction`` side (+1 above, -1 below) of the
    conventional one, "reversed" when wholly on the other side, "within noise" when they overlap."""
    if direction not in (1, -1):
        raise ConfigError(f"direction must be 1 or -1, got {direction}")
    above, below = optimised[0] > conventional[1], optimised[1] < conventional[0]
    if (above and direction == 1) or (below and direction == -1):
        return "holds"
    return "reversed" if above or below else "within noise"


def identifiability_by_steps(curve: Tensor, steps: "list[int] | tuple[int, ...]") -> list[dict]:
    """Fit and interval of the first T steps of ``curve`` for each T in ``steps`` (those the curve covers):
    the shortest T whose fit is identifiable is how long a run must be to measure B and beta at all."""
    values = _as_curve(curve)
    rows = []
    for t in steps:
        if t >= len(values):
            continue
        try:
            fit = fit_learning_law_curve(values[: t + 1])
        except ConfigError:
            rows.append({"T": t, "fitted": False, "identifiable": False})
            continue
        interval = fit_interval(values[: t + 1], fit)
        rows.append({"T": t, "fitted": True, "B": fit.scale, "beta": fit.exponent, "t0": fit.t0} | interval.columns())
    return rows


def curve_shape(curve: "Tensor | np.ndarray") -> dict[str, float]:
    """Where a loss curve bottoms out (fraction of its T) and how much higher it ends (relative to that
    minimum). A policy optimised for the loss at T leaves its last steps nearly uniform (their weight
    gradients shrink with the steps left), so its curve can turn up before T: no monotone law fits that."""
    loss = _as_curve(curve)
    lowest = int(np.argmin(loss))
    return {"argmin_fraction": lowest / max(len(loss) - 1, 1), "end_rise": float(loss[-1] / loss[lowest] - 1)}


def compare_fits(conventional: LearningLawFit, optimised: LearningLawFit) -> FitComparison:
    """|dB|/B and |dbeta|/beta relative to the conventional fit."""
    return FitComparison(
        scale_change=abs(optimised.scale - conventional.scale) / conventional.scale,
        exponent_change=abs(optimised.exponent - conventional.exponent) / conventional.exponent,
    )


def _t0_candidates(last: int, max_t0_fraction: float, n_t0: int) -> list[int]:
    """Fit starts: a geometric grid from 1 to ``max_t0_fraction * last``."""
    last_t0 = int(max_t0_fraction * last)
    return sorted({int(round(t)) for t in np.geomspace(1, max(last_t0, 1), n_t0)})


def _window_can_test_a_law(t0: int, end: int, min_points: int) -> bool:
    """The window (t0, end] holds ``min_points`` points and spans a factor ``MIN_WINDOW_SPAN`` in t."""
    return end - t0 >= min_points and end >= MIN_WINDOW_SPAN * t0


def _fit_window(t: np.ndarray, loss: np.ndarray, t0: int, n_offsets: int) -> LearningLawFit | None:
    """Best L0 for one window: grid over [0, min L), then bounded refinement around the best point; None when
    no offset gives a decaying law or the best one needs B > ``_LARGEST_SCALE``."""
    floor = float(loss.min())
    if floor <= 0:
        return None
    grid = floor * (1 - np.geomspace(1e-6, 1, n_offsets))[::-1]
    scores = [_offset_score(offset, t, loss) for offset in grid]
    best = int(np.argmin(scores))
    if scores[best] >= _REJECTED:
        return None
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    if high > low:
        refined = minimize_scalar(_offset_score, bounds=(low, high), args=(t, loss), method="bounded",
                                  options={"xatol": floor * 1e-10})
        offset = float(refined.x) if refined.fun <= scores[best] else float(grid[best])
    else:
        offset = float(grid[best])
    exponent, scale = _log_linear_fit(offset, t, loss)
    if not scale <= _LARGEST_SCALE:
        return None
    predicted = offset + (scale / t) ** exponent
    residual = loss - predicted
    spread = float(((loss - loss.mean()) ** 2).sum())
    r2 = 1 - float((residual ** 2).sum()) / spread if spread > 0 else math.nan
    return LearningLawFit(scale=scale, exponent=exponent, offset=offset, t0=t0, r2=r2,
                          rms_relative_error=float(np.sqrt(np.mean((residual / loss) ** 2))))


def _log_linear_fit(offset: float, t: np.ndarray, loss: np.ndarray) -> tuple[float, float]:
    """Closed-form least squares of log(L - L0) = beta log B - beta log t; returns (beta, B), B NaN when
    beta <= 0 and inf when it overflows (both rejected by the callers)."""
    x = np.log(t)
    y = np.log(loss - offset)
    x_c = x - x.mean()
    slope = float((x_c * (y - y.mean())).sum() / (x_c ** 2).sum())
    intercept = float(y.mean() - slope * x.mean())
    exponent = -slope
    if exponent <= 0:
        return exponent, math.nan
    log_scale = intercept / exponent  # a nearly flat segment (beta -> 0) sends B past the float range
    return exponent, math.exp(log_scale) if log_scale < _MAX_LOG_SCALE else math.inf


def _offset_score(offset: float, t: np.ndarray, loss: np.ndarray) -> float:
    """RMS relative error of the fitted curve for a fixed L0 (``_REJECTED`` if the fit is not a decay)."""
    if offset >= loss.min():
        return _REJECTED
    exponent, scale = _log_linear_fit(offset, t, loss)
    if not (exponent > 0 and math.isfinite(scale)):
        return _REJECTED
    predicted = offset + (scale / t) ** exponent
    return float(np.sqrt(np.mean(((loss - predicted) / loss) ** 2)))


def _as_curve(curve: "Tensor | np.ndarray") -> np.ndarray:
    values = np.asarray(curve.detach().cpu() if isinstance(curve, Tensor) else curve, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ConfigError(f"a loss curve must be 1-D with L_0..L_T (at least 2 values), got shape {values.shape}")
    return values
