"""A lesson's from-scratch code checked against the library: the numbers must agree within a stated tolerance.

Each notebook writes its paper's mechanism out in plain PyTorch or NumPy, in cells tagged ``from-scratch``,
and runs it on the notebook's own data beside the tested implementation. ``agree`` compares the two, fails
the cell when they differ, and returns the row that ``results.json`` keeps under ``from_scratch``: every
smoke run in CI then proves that what the lesson shows is what the library computes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class Disagreement(AssertionError):
    """The lesson's code and the library computed different numbers."""


def _array(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().double().numpy()
    elif hasattr(values, "to_numpy"):  # a pandas Series or frame
        values = values.to_numpy()
    return np.asarray(values, dtype=np.float64)


def agree(what: str, from_scratch: Any, library: Any, tolerance: float) -> dict:
    """``{what, max_abs_difference, tolerance, matches}`` when every value of ``from_scratch`` is within
    ``tolerance`` of the same value of ``library`` (same shape); otherwise a ``Disagreement`` naming ``what``."""
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    ours, theirs = _array(from_scratch), _array(library)
    if ours.shape != theirs.shape:
        raise Disagreement(f"{what}: from scratch gives shape {ours.shape}, the library {theirs.shape}")
    if ours.size and not (np.isfinite(ours).all() and np.isfinite(theirs).all()):
        raise Disagreement(f"{what}: a value is not finite (from scratch {ours.ravel()[:4]}, library {theirs.ravel()[:4]})")
    difference = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    if difference > tolerance:
        raise Disagreement(f"{what}: from scratch and the library differ by {difference:.3g}, more than {tolerance:g}")
    return {"what": what, "max_abs_difference": difference, "tolerance": tolerance, "matches": True}
