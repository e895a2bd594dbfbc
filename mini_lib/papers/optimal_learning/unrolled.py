"""Full-batch gradient descent under a learning policy, and the exact gradient of its loss area.

arXiv 2402.17759, Sec. 2-3. A policy gamma (T x N, each row on the simplex) drives

    theta_{t+1} = theta_t - eta * grad sum_n gamma_{n,t} l_n(theta_t),   t = 0 .. T-1,

and is scored by the area under the desired-loss curve. Convention used everywhere in this package
(it matches the adjoint in the paper and makes CR = log|V| / J):

    J(gamma) = (1/T) * sum_{t=1..T} L_dsr(theta_t)

(theta_0 does not depend on gamma; the official code also adds L_dsr(theta_0)/T, a constant.)

The gradient comes from the adjoint (reverse) recursion through the unrolled run:

    a_T = grad L_dsr(theta_T) / T
    a_t = grad L_dsr(theta_t) / T + a_{t+1} - eta * H_{gamma_t}(theta_t) a_{t+1}     (t = T-1 .. 1)
    dJ/dgamma_{n,t} = -eta * grad l_n(theta_t) . a_{t+1}                               (t = T-1 .. 0)

Each backward step costs one jvp-of-grad over the training set (see ``derivatives``) and one desired
gradient. Memory: ``checkpoint_every=None`` keeps all T+1 parameter vectors; ``checkpoint_every=k``
keeps theta_t for t divisible by k and recomputes each k-step segment during the backward pass
(about T/k + k vectors held, one extra forward pass). Both give the same gradient.
"""

from dataclasses import dataclass, field

import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError
from mini_lib.papers.optimal_learning.derivatives import (
    desired_grad,
    desired_loss,
    hvp_and_directional,
    mean_loss,
    weighted_train_grad,
)
from mini_lib.papers.optimal_learning.problem import PolicyProblem


@dataclass
class Trajectory:
    """One training run: the desired-loss curve L_dsr(theta_t), t = 0..T, the parameters kept, and the
    held-out test-loss curve when it was asked for."""

    desired_losses: Tensor
    final_theta: Tensor
    checkpoints: dict[int, Tensor] = field(default_factory=dict)
    test_losses: Tensor | None = None

    @property
    def objective(self) -> float:
        """J = (1/T) sum_{t=1..T} L_dsr(theta_t), the normalised area under the curve."""
        return float(self.desired_losses[1:].mean())


@dataclass
class PolicyGradient:
    """J of a policy, dJ/dgamma (T x N) and the desired-loss curve of the run."""

    objective: float
    grad: Tensor
    desired_losses: Tensor


def uniform_policy(steps: int, n_train: int, *, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """Conventional training: gamma_{n,t} = 1/N for all t (shape T x N)."""
    if steps < 1 or n_train < 1:
        raise ConfigError(f"steps and n_train must be positive, got steps={steps}, n_train={n_train}")
    return torch.full((steps, n_train), 1.0 / n_train, dtype=dtype, device=device)


def simulate(problem: PolicyProblem, eta: float, gamma: Tensor | None = None, *, steps: int | None = None,
             keep_every: int | None = None, with_test: bool = False) -> Trajectory:
    """Run T GD steps under ``gamma`` (or uniform weights for ``steps`` steps when gamma is None).

    ``keep_every=k`` stores theta_t for every t < T divisible by k (the backward pass's checkpoints);
    ``with_test`` also records the loss on ``problem.test`` at every step.
    """
    steps = _check_run(problem, eta, gamma, steps)
    if with_test and problem.test is None:
        raise ConfigError("with_test=True needs a problem with a held-out test set (PolicyProblem.test)")
    if keep_every is not None and keep_every < 1:
        raise ConfigError(f"keep_every must be a positive number of steps or None, got {keep_every}")
    uniform = torch.full((problem.n_train,), 1.0 / problem.n_train, dtype=problem.theta0.dtype,
                         device=problem.theta0.device)
    theta = problem.theta0.detach().clone()
    losses = torch.empty(steps + 1, dtype=theta.dtype, device=theta.device)
    test_losses = torch.empty_like(losses) if with_test else None
    kept: dict[int, Tensor] = {}
    for t in range(steps):
        losses[t] = desired_loss(problem, theta)
        if test_losses is not None:
            test_losses[t] = mean_loss(problem, theta, problem.test)
        if keep_every is not None and t % keep_every == 0:
            kept[t] = theta
        weights = uniform if gamma is None else gamma[t]
        theta = theta - eta * weighted_train_grad(problem, theta, weights)
    losses[steps] = desired_loss(problem, theta)
    if test_losses is not None:
        test_losses[steps] = mean_loss(problem, theta, problem.test)
    return Trajectory(desired_losses=losses, final_theta=theta, checkpoints=kept, test_losses=test_losses)


def policy_gradient(problem: PolicyProblem, gamma: Tensor, eta: float, *,
                    checkpoint_every: int | None = None) -> PolicyGradient:
    """J(gamma) and dJ/dgamma by the adjoint recursion (see the module docstring)."""
    steps = _check_run(problem, eta, gamma, None)
    every = 1 if checkpoint_every is None else checkpoint_every
    if every < 1:
        raise ConfigError(f"checkpoint_every must be a positive number of steps or None, got {checkpoint_every}")
    run = simulate(problem, eta, gamma, keep_every=every)
    adjoint = desired_grad(problem, run.final_theta) / steps
    grad_gamma = torch.empty_like(gamma)
    for start in reversed(range(0, steps, every)):
        segment = _replay(problem, gamma, eta, run.checkpoints[start], start, min(start + every, steps))
        for t in reversed(range(start, start + len(segment))):
            theta = segment[t - start]
            hv, directional = hvp_and_directional(problem, theta, gamma[t], adjoint)
            grad_gamma[t] = -eta * directional
            if t > 0:
                adjoint = desired_grad(problem, theta) / steps + adjoint - eta * hv
    return PolicyGradient(objective=run.objective, grad=grad_gamma, desired_losses=run.desired_losses)


def _replay(problem: PolicyProblem, gamma: Tensor, eta: float, theta: Tensor, start: int, stop: int) -> list[Tensor]:
    """theta_start .. theta_{stop-1}, recomputed from the checkpoint theta_start."""
    thetas = [theta]
    for t in range(start, stop - 1):
        thetas.append(thetas[-1] - eta * weighted_train_grad(problem, thetas[-1], gamma[t]))
    return thetas


def _check_run(problem: PolicyProblem, eta: float, gamma: Tensor | None, steps: int | None) -> int:
    if not eta > 0:
        raise ConfigError(f"eta (the inner learning rate) must be positive, got {eta}")
    if gamma is None:
        if steps is None or steps < 1:
            raise ConfigError(f"steps must be a positive integer when gamma is None, got {steps}")
        return steps
    if gamma.dim() != 2 or gamma.shape[1] != problem.n_train:
        raise ConfigError(f"gamma must have shape (T, N={problem.n_train}), got {tuple(gamma.shape)}")
    if steps is not None and steps != gamma.shape[0]:
        raise ConfigError(f"steps={steps} disagrees with gamma's {gamma.shape[0]} rows; pass one or the other")
    return gamma.shape[0]
