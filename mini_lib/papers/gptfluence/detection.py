"""Mislabelled-data detection by self-influence: inspect training examples from the most self-influential down.

GPTfluence (arXiv 2404.07840) applies its simulator to finding mislabelled training data (SST-2 with
40% of labels flipped): score each training example by its self-influence and check how many flipped
examples one finds after inspecting a given fraction of the ranked data. Scores come from
``GPTfluenceSimulator.self_influence`` or ``tracin.tracin_self_influence`` (higher = more suspicious).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mini_lib.core.errors import ConfigError, check_fraction


@dataclass(frozen=True)
class DetectionCurve:
    """Fraction of flipped examples found after inspecting each fraction of the ranked data."""

    inspected: np.ndarray  # (n + 1,) 0, 1/n, ..., 1
    found: np.ndarray  # (n + 1,) fraction of all flipped examples among the first k inspected

    def found_at(self, fraction: float) -> float:
        """Fraction found after inspecting ``fraction`` of the data (rounded down to whole examples)."""
        check_fraction("fraction", fraction)
        k = int(np.floor(fraction * (len(self.inspected) - 1) + 1e-9))
        return float(self.found[k])

    def area(self) -> float:
        """Area under the curve (0.5 for a random order, close to 1 when flipped examples come first)."""
        return float(np.sum((self.found[1:] + self.found[:-1]) / 2 * np.diff(self.inspected)))


def detection_curve(scores: np.ndarray, is_flipped: np.ndarray) -> DetectionCurve:
    """Rank by ``scores`` (highest first; ties in input order) and accumulate the flipped ones found."""
    scores, flipped = np.asarray(scores, dtype=np.float64), np.asarray(is_flipped, dtype=bool)
    if scores.shape != flipped.shape or scores.ndim != 1 or not flipped.any():
        raise ConfigError(
            f"scores and is_flipped must be 1-D of one length with at least one flipped example, got {scores.shape}, {flipped.shape}"
        )
    order = np.argsort(-scores, kind="stable")
    found = np.concatenate([[0], np.cumsum(flipped[order])]) / flipped.sum()
    return DetectionCurve(inspected=np.arange(len(scores) + 1) / len(scores), found=found)
