"""Checking the Learning Law (arXiv 2402.17759, Theorem 1) on a trained policy.

The theorem: in the optimal learning process every example with non-zero weight contributes equally,
where the contribution of example n at step t is

    CT_n(t) = grad L_dsr(theta_t) . grad l_n(theta_t)

(how much one small step on example n lowers the desired loss). Examples that hurt (CT <= 0: noisy,
perturbed) or no longer help (learned, redundant) get weight zero.

Statistic of "equal contributions" (arXiv 2402.17759, Sec. 4, scores it with a similarity it calls SIM;
we use one definite form): at each recorded step, over the ACTIVE examples A_t = {n : gamma_{n,t} > active_threshold / N},

    SNR_t = mean_{n in A_t} CT_n(t) / std_{n in A_t} CT_n(t)

the signal-to-noise ratio of contributions (the inverse coefficient of variation; population std).
Equal contributions give a large SNR; conventional training (every example active) gives a small one.

Which examples end up switched off is read from the time-averaged weight N * mean_t gamma_{n,t}
(1 = the uniform weight): examples below ``threshold`` count as (near-)zero weight, and precision /
recall are computed against a known mask (flipped labels, perturbed sequences).
"""

from dataclasses import dataclass

import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError
from mini_lib.papers.optimal_learning.derivatives import desired_grad, directional_derivatives
from mini_lib.papers.optimal_learning.problem import PolicyProblem
from mini_lib.papers.optimal_learning.unrolled import simulate


@dataclass
class ContributionTrace:
    """CT_n(t) and gamma_{n,t} at the recorded steps (rows), for every training example (columns)."""

    steps: Tensor
    contributions: Tensor
    weights: Tensor


@dataclass
class ContributionSimilarity:
    """Per recorded step: SNR of contributions over active examples, their mean, std and count."""

    steps: Tensor
    snr: Tensor
    mean: Tensor
    std: Tensor
    n_active: Tensor


@dataclass
class ZeroWeightReport:
    """Which examples the policy switched off, scored against a mask of known-bad examples."""

    threshold: float
    zero_weight: Tensor
    precision: float
    recall: float
    mean_weight_marked: float
    mean_weight_unmarked: float


def contributions(problem: PolicyProblem, theta: Tensor) -> Tensor:
    """CT_n = grad L_dsr(theta) . grad l_n(theta) for every training example, shape (N,)."""
    return directional_derivatives(problem, theta, desired_grad(problem, theta))


def trace_contributions(problem: PolicyProblem, eta: float, gamma: Tensor | None = None, *,
                        steps: int | None = None, every: int = 1) -> ContributionTrace:
    """Re-run training under ``gamma`` (uniform if None) and record CT at every ``every``-th step."""
    if every < 1:
        raise ConfigError(f"every must be a positive number of steps, got {every}")
    run = simulate(problem, eta, gamma, steps=steps, keep_every=every)
    recorded = sorted(run.checkpoints)
    ct = torch.stack([contributions(problem, run.checkpoints[t]) for t in recorded])
    if gamma is None:
        weights = torch.full_like(ct, 1.0 / problem.n_train)
    else:
        weights = gamma[recorded]
    return ContributionTrace(steps=torch.tensor(recorded), contributions=ct, weights=weights)


def contribution_similarity(trace: ContributionTrace, *, active_threshold: float = 0.1) -> ContributionSimilarity:
    """SNR_t = mean/std of CT over examples with weight > active_threshold / N (NaN if < 2 active)."""
    if active_threshold < 0:
        raise ConfigError(f"active_threshold must be >= 0 (in units of the uniform weight 1/N), got {active_threshold}")
    n = trace.weights.shape[1]
    active = trace.weights * n > active_threshold
    count = active.sum(dim=1)
    ct = torch.where(active, trace.contributions, torch.zeros_like(trace.contributions))
    mean = ct.sum(dim=1) / count.clamp(min=1)
    var = (torch.where(active, (trace.contributions - mean[:, None]) ** 2, torch.zeros_like(ct))).sum(dim=1)
    std = (var / count.clamp(min=1)).sqrt()
    snr = torch.where(count >= 2, mean / std, torch.full_like(mean, float("nan")))
    return ContributionSimilarity(steps=trace.steps, snr=snr, mean=mean, std=std, n_active=count)


def zero_weight_report(gamma: Tensor, marked: Tensor, *, threshold: float = 0.1) -> ZeroWeightReport:
    """Examples whose time-averaged weight N * mean_t gamma_{n,t} < threshold, vs the ``marked`` mask."""
    if marked.dtype != torch.bool or marked.shape != (gamma.shape[1],):
        raise ConfigError(f"marked must be a boolean mask of length N={gamma.shape[1]}, got {marked.dtype} {tuple(marked.shape)}")
    average = gamma.mean(dim=0) * gamma.shape[1]
    zero = (average < threshold).cpu()
    hits = int((zero & marked).sum())
    precision = hits / int(zero.sum()) if zero.any() else float("nan")
    recall = hits / int(marked.sum()) if marked.any() else float("nan")
    return ZeroWeightReport(
        threshold=threshold, zero_weight=zero, precision=precision, recall=recall,
        mean_weight_marked=float(average.cpu()[marked].mean()) if marked.any() else float("nan"),
        mean_weight_unmarked=float(average.cpu()[~marked].mean()) if (~marked).any() else float("nan"),
    )
