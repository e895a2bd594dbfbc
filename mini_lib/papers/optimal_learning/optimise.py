"""Policy optimisation: projected gradient descent on the area under the desired-loss curve.

arXiv 2402.17759, Sec. 3: starting from conventional training (gamma = 1/N), each outer epoch runs
the T inner GD steps, back-propagates J = (1/T) sum_{t=1..T} L_dsr(theta_t) to every gamma_{n,t}
with the adjoint method (``unrolled.policy_gradient``), takes a plain gradient step on gamma and
projects each row back onto the simplex. As in the official code the outer step size decays
linearly to zero over the outer epochs (``lr_schedule="linear"``; ``"constant"`` keeps it fixed).
The official runs use outer_lr = 0.001 with 500 epochs for the perceptron and 0.4 with 20 epochs
for the Transformer; the right value depends on the scale of dJ/dgamma, so watch
``PolicyResult.objective_history`` (it should fall from the first entry, conventional J).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from mini_lib.core.errors import ConfigError, choose
from mini_lib.papers.optimal_learning.problem import PolicyProblem
from mini_lib.papers.optimal_learning.simplex import project_to_simplex
from mini_lib.papers.optimal_learning.unrolled import policy_gradient, simulate, uniform_policy


@dataclass(frozen=True)
class PolicyConfig:
    """Inner run (T steps of GD at eta) and outer PGD settings; defaults follow the paper's perceptron."""

    steps: int = 2000
    eta: float = 0.1
    outer_epochs: int = 500
    outer_lr: float = 0.001
    lr_schedule: str = "linear"
    checkpoint_every: int | None = None

    def __post_init__(self) -> None:
        if self.steps < 1 or self.outer_epochs < 0:
            raise ConfigError(f"steps must be >= 1 and outer_epochs >= 0, got {self.steps}, {self.outer_epochs}")
        if not (self.eta > 0 and self.outer_lr > 0):
            raise ConfigError(f"eta and outer_lr must be positive, got {self.eta}, {self.outer_lr}")
        choose("lr_schedule", self.lr_schedule, ("linear", "constant"))

    def outer_lr_at(self, epoch: int) -> float:
        """Outer step size of epoch ``epoch`` (0-based)."""
        if self.lr_schedule == "constant":
            return self.outer_lr
        return self.outer_lr * (self.outer_epochs - epoch) / self.outer_epochs


@dataclass
class PolicyResult:
    """The optimised policy and what it did, next to conventional training on the same problem.

    ``objective_history[e]`` is J of the policy before outer epoch ``e`` (entry 0 = conventional J) and
    the last entry is J of the returned ``gamma``. Curves hold L_dsr(theta_t) for t = 0..T.
    """

    gamma: Tensor
    objective_history: list[float]
    conventional_curve: Tensor
    optimised_curve: Tensor
    config: PolicyConfig
    wall_seconds: float


def pgd_step(gamma: Tensor, grad: Tensor, lr: float) -> Tensor:
    """One projected gradient step: rows of gamma - lr * grad, projected onto the simplex."""
    return project_to_simplex(gamma - lr * grad)


def optimise_policy(problem: PolicyProblem, config: PolicyConfig = PolicyConfig(), *,
                    gamma_init: Tensor | None = None,
                    on_epoch: Callable[[int, float], None] | None = None) -> PolicyResult:
    """Run ``config.outer_epochs`` of PGD on gamma; ``on_epoch(epoch, J)`` reports progress."""
    start = time.perf_counter()
    conventional = simulate(problem, config.eta, steps=config.steps)
    gamma = uniform_policy(config.steps, problem.n_train, dtype=problem.theta0.dtype, device=problem.theta0.device)
    if gamma_init is not None:
        if gamma_init.shape != gamma.shape:
            raise ConfigError(f"gamma_init must have shape {tuple(gamma.shape)}, got {tuple(gamma_init.shape)}")
        gamma = project_to_simplex(gamma_init.to(gamma))
    history = []
    for epoch in range(config.outer_epochs):
        result = policy_gradient(problem, gamma, config.eta, checkpoint_every=config.checkpoint_every)
        history.append(result.objective)
        if on_epoch is not None:
            on_epoch(epoch, result.objective)
        gamma = pgd_step(gamma, result.grad, config.outer_lr_at(epoch))
    final = simulate(problem, config.eta, gamma)
    history.append(final.objective)
    return PolicyResult(gamma=gamma, objective_history=history, conventional_curve=conventional.desired_losses,
                        optimised_curve=final.desired_losses, config=config,
                        wall_seconds=time.perf_counter() - start)
