"""Turning per-example scores into a kept subset: the one rule every score-based sampler shares.

A keep fraction ``f`` of ``n`` examples means ``round(f * n)`` examples (at least one); the kept
indices are returned sorted, so a subset preserves the corpus order (and its deterministic
training order) whatever sampler produced it.
"""

from __future__ import annotations

import numpy as np

from mini_lib.core.errors import ConfigError, check_fraction


def n_to_keep(n: int, keep_fraction: float) -> int:
    """How many of ``n`` examples ``keep_fraction`` in (0, 1] keeps: rounded, at least one."""
    keep_fraction = check_fraction("keep_fraction", keep_fraction, allow_zero=False)
    if n < 1:
        raise ConfigError(f"cannot select from an empty corpus (n={n})")
    return max(1, int(round(n * keep_fraction)))


def keep_top(scores: np.ndarray, keep_fraction: float, *, largest: bool = True) -> np.ndarray:
    """Sorted indices of the ``keep_fraction`` highest (or lowest) scores; ties go to the earlier index."""
    scores = as_scores(scores)
    k = n_to_keep(len(scores), keep_fraction)
    order = np.argsort(-scores if largest else scores, kind="stable")
    return np.sort(order[:k])


def as_scores(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    """A finite, non-empty 1-D float array, or a ConfigError saying what is wrong."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be finite (found NaN or inf)")
    return arr
