"""The GPTfluence evaluation metrics, computed exactly as the paper reports them.

GPTfluence (arXiv 2404.07840, Sec. 4) scores a simulator by
* all-steps MSE and MAE: for each test trajectory, the mean squared (absolute) error over the
  simulated steps; reported as mean (std) over all test trajectories of the held-out runs. The
  given starting value(s) of the rollout are not counted (``skip``), as in the official
  ``utils/eval.py``; std is the population std (``np.std``) as there.
* final-step Spearman rho: within one held-out run, the rank correlation across test examples of the
  predicted and true values at the last step; averaged over runs. (The official ``test.py`` pools
  all runs into one correlation instead; the paper's text describes the per-run average.)
  A rank correlation is undefined where either side is constant (every test example ends at the same
  value, as ROUGE-L 0 of a tiny model does): that run's rho is NaN, and so is their average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import spearmanr

from mini_lib.core.errors import ConfigError


@dataclass(frozen=True)
class MeanStd:
    """A figure reported as ``mean (std)``."""

    mean: float
    std: float

    def __str__(self) -> str:
        return f"{self.mean:.4g} ({self.std:.4g})"


@dataclass(frozen=True)
class SimulatorScores:
    """What the paper's tables report for one simulator on one set of held-out runs."""

    mse: MeanStd
    mae: MeanStd
    spearman: float
    n_trajectories: int
    n_runs: int


def all_steps_errors(pred: np.ndarray, true: np.ndarray, *, skip: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Per-trajectory all-steps MSE and MAE over columns ``skip:`` of (n_test, n_cols) arrays."""
    pred, true = _same_shape(pred, true)
    if not 0 <= skip < pred.shape[1]:
        raise ConfigError(f"skip must be in [0, {pred.shape[1] - 1}] for {pred.shape[1]} columns, got {skip}")
    diff = pred[:, skip:] - true[:, skip:]
    return (diff**2).mean(axis=1), np.abs(diff).mean(axis=1)


def final_step_spearman(preds: Sequence[np.ndarray], trues: Sequence[np.ndarray]) -> float:
    """Spearman rho across test examples of the last-step values, one per run, averaged over runs; NaN
    where a run's last values are all equal on one side (no ranking to correlate)."""
    if len(preds) != len(trues) or not preds:
        raise ConfigError(f"need the same non-zero number of predicted and true runs, got {len(preds)} and {len(trues)}")
    rhos = []
    for pred, true in zip(preds, trues):
        pred, true = _same_shape(pred, true)
        if pred.shape[0] < 2:
            raise ConfigError("final-step Spearman needs at least 2 test examples per run")
        ends = pred[:, -1], true[:, -1]
        rhos.append(math.nan if any(np.ptp(e) == 0 for e in ends) else spearmanr(*ends).statistic)
    return float(np.mean(rhos))


def score_simulator(preds: Sequence[np.ndarray], trues: Sequence[np.ndarray], *, skip: int = 1) -> SimulatorScores:
    """All three paper metrics for simulated vs true trajectories of several runs (one array per run)."""
    if len(preds) != len(trues) or not preds:
        raise ConfigError(f"need the same non-zero number of predicted and true runs, got {len(preds)} and {len(trues)}")
    errors = [all_steps_errors(p, t, skip=skip) for p, t in zip(preds, trues)]
    mse = np.concatenate([e[0] for e in errors])
    mae = np.concatenate([e[1] for e in errors])
    return SimulatorScores(
        mse=MeanStd(float(mse.mean()), float(mse.std())),
        mae=MeanStd(float(mae.mean()), float(mae.std())),
        spearman=final_step_spearman(preds, trues),
        n_trajectories=len(mse),
        n_runs=len(preds),
    )


def _same_shape(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, true = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    if pred.shape != true.shape or pred.ndim != 2:
        raise ConfigError(f"predicted and true trajectories must be (n_test, n_steps) arrays of one shape, got {pred.shape} and {true.shape}")
    return pred, true
