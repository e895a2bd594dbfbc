"""Power-law fits with uncertainties: scaling laws of loss in model size, data and compute.

Two forms, both common in the papers this package reproduces:

* ``fit_power_law``: y = (scale / x) ** exponent, the Kaplan et al. (2020) form used for the
  simplified-vocabulary paper's loss-vs-N, -D and -C laws (arXiv 2404.02204). It is a straight
  line in log-log space, fitted by linear least squares.
* ``fit_saturating_power_law``: y = offset + (scale / x) ** exponent, with an irreducible part;
  the optimal-learning paper's law L(t) = L0 + (B / t) ** beta (arXiv 2402.17759). Fitted with
  ``scipy.optimize.curve_fit`` over (offset, log scale, exponent) -- the log keeps a scale of
  1e8 on the same footing as an exponent of 0.1 -- from several starting offsets, with
  0 <= offset < min(y).

Both minimise squared errors of log y (relative errors, the natural noise model for losses), and
``r2`` is measured on log y. Standard errors come from the covariance matrix of the fit (scale's
by the delta method from log scale); ``bootstrap_exponent`` resamples points for a second opinion.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from mini_lib.core.errors import ConfigError, choose


@dataclass(frozen=True)
class PowerLawFit:
    """y = offset + (scale / x) ** exponent, with standard errors (nan when no degrees of freedom)."""

    offset: float
    scale: float
    exponent: float
    offset_err: float
    scale_err: float
    exponent_err: float
    r2: float
    n_points: int
    offset_fixed: bool = True  # the pure power law fixes offset = 0

    def predict(self, x) -> np.ndarray:
        """The fitted law at ``x``."""
        return self.offset + (self.scale / np.asarray(x, dtype=np.float64)) ** self.exponent

    def formula(self, x_name: str = "x", y_name: str = "y") -> str:
        """Readable formula with uncertainties, e.g. ``L = 1.7 ± 0.1 + (3.2e+08 ± 1e+08 / t)^(0.12 ± 0.01)``."""
        offset = "" if self.offset == 0 and self.offset_fixed else (
            f"{_num(self.offset)}{'' if self.offset_fixed else ' ± ' + _num(self.offset_err)} + "
        )
        return (
            f"{y_name} = {offset}({_num(self.scale)} ± {_num(self.scale_err)} / {x_name})"
            f"^({_num(self.exponent)} ± {_num(self.exponent_err)}),  R² = {self.r2:.4f} (log y, {self.n_points} points)"
        )

    def __str__(self) -> str:
        return self.formula()


def fit_power_law(x, y) -> PowerLawFit:
    """Fit y = (scale / x) ** exponent by least squares on log y = exponent log scale - exponent log x."""
    x, y = _check_xy(x, y, n_params=2)
    design = np.column_stack([np.ones_like(x), np.log(x)])
    coef, *_ = np.linalg.lstsq(design, np.log(y), rcond=None)
    intercept, slope = coef
    if slope == 0:
        raise ConfigError("y does not change with x: a power law has no defined scale")
    residuals = np.log(y) - design @ coef
    dof = len(x) - 2
    cov = residuals @ residuals / dof * np.linalg.inv(design.T @ design) if dof else np.full((2, 2), np.nan)
    exponent, log_scale = -slope, -intercept / slope
    grad = np.array([-1 / slope, intercept / slope**2])  # d log_scale / d (intercept, slope)
    return PowerLawFit(
        offset=0.0,
        scale=math.exp(log_scale),
        exponent=float(exponent),
        offset_err=0.0,
        scale_err=math.exp(log_scale) * math.sqrt(grad @ cov @ grad),
        exponent_err=math.sqrt(cov[1, 1]),
        r2=_r2(np.log(y), design @ coef),
        n_points=len(x),
    )


def fit_saturating_power_law(x, y, offset: float | None = None) -> PowerLawFit:
    """Fit y = offset + (scale / x) ** exponent (offset fitted in [0, min y), or fixed if given)."""
    x, y = _check_xy(x, y, n_params=2 if offset is not None else 3)
    if offset is not None and not 0 <= offset < y.min():
        raise ConfigError(f"offset must be in [0, min(y) = {y.min():g}), got {offset!r}")
    log_x, log_y = np.log(x), np.log(y)

    def model(lx, off, log_scale, exponent):
        return np.log(off + np.exp(exponent * (log_scale - lx)))

    def model_fixed_offset(lx, log_scale, exponent):
        return model(lx, offset, log_scale, exponent)

    best = None
    starts = [offset] if offset is not None else [f * y.min() for f in (0.0, 0.5, 0.8, 0.95)]
    for off0 in starts:
        guess = fit_power_law(x, y - off0) if np.ptp(y - off0) > 0 else None
        exponent0 = max(guess.exponent, 1e-3) if guess else 0.5
        log_scale0 = math.log(guess.scale) if guess and guess.exponent > 0 else float(log_x.max())
        if offset is not None:
            f = model_fixed_offset
            p0, bounds = [log_scale0, exponent0], ([-np.inf, 0.0], [np.inf, 20.0])
        else:
            f = model
            p0 = [min(off0, y.min() * (1 - 1e-6)), log_scale0, exponent0]
            bounds = ([0.0, -np.inf, 0.0], [y.min() * (1 - 1e-9), np.inf, 20.0])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                params, cov = curve_fit(f, log_x, log_y, p0=p0, bounds=bounds, maxfev=20000)
        except RuntimeError:  # this start did not converge; another may
            continue
        sse = float(np.sum((log_y - f(log_x, *params)) ** 2))
        if best is None or sse < best[0]:
            best = (sse, params, cov, f)
    if best is None:
        raise ConfigError("the saturating power law did not converge: check that y decreases with x")
    _, params, cov, f = best
    if len(x) == len(params):
        cov = np.full_like(cov, np.nan)
    if offset is None:
        (off, log_scale, exponent), off_err = params, math.sqrt(cov[0, 0])
        log_scale_var, exponent_var = cov[1, 1], cov[2, 2]
    else:
        (log_scale, exponent), off, off_err = params, offset, 0.0
        log_scale_var, exponent_var = cov[0, 0], cov[1, 1]
    return PowerLawFit(
        offset=float(off),
        scale=math.exp(log_scale),
        exponent=float(exponent),
        offset_err=off_err,
        scale_err=math.exp(log_scale) * math.sqrt(log_scale_var),
        exponent_err=math.sqrt(exponent_var),
        r2=_r2(log_y, f(log_x, *params)),
        n_points=len(x),
        offset_fixed=offset is not None,
    )


def bootstrap_exponent(x, y, n: int = 200, seed: int = 0, form: str = "power", offset: float | None = None) -> np.ndarray:
    """Exponents refitted on ``n`` resamples of the points (with replacement), for a spread estimate.

    ``form`` is ``"power"`` or ``"saturating"``; resamples with too few distinct points are redrawn.
    """
    choose("form", form, ("power", "saturating"))
    n_params = 2 if form == "power" or offset is not None else 3
    x, y = _check_xy(x, y, n_params)
    rng = np.random.default_rng(seed)
    exponents = []
    while len(exponents) < n:
        pick = rng.integers(len(x), size=len(x))
        if len(np.unique(x[pick])) < n_params + 1:
            continue
        fit = fit_power_law(x[pick], y[pick]) if form == "power" else fit_saturating_power_law(x[pick], y[pick], offset)
        exponents.append(fit.exponent)
    return np.asarray(exponents)


def _check_xy(x, y, n_params: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ConfigError(f"x and y must be 1-D sequences of the same length, got shapes {x.shape} and {y.shape}")
    if len(x) < n_params:
        raise ConfigError(f"a fit with {n_params} parameters needs at least {n_params} points, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ConfigError("x and y must be finite numbers")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ConfigError("power-law fits need positive x and y (they are fitted in log space)")
    if len(np.unique(x)) < 2:
        raise ConfigError("x needs at least two distinct values")
    return x, y


def _r2(observed: np.ndarray, fitted: np.ndarray) -> float:
    total = np.sum((observed - observed.mean()) ** 2)
    return float(1 - np.sum((observed - fitted) ** 2) / total) if total > 0 else 1.0


def _num(value: float) -> str:
    return f"{value:.3g}" if np.isfinite(value) else "nan"
