"""The paper's first setting: a perceptron learning a teacher's linear labels (arXiv 2402.17759, Sec. 4).

Choices (the official data file is not generated in code, so the generator is ours):
- inputs in R^D (D = 128); a random teacher w* ~ N(0, I_D); labels y = 1[w* . x > 0];
- training inputs x ~ N(0, I_D) (N = 4,096); desired inputs from a shifted distribution
  x ~ N(shift * u, I_D) with u a random unit vector (K = 512), so the best use of the training data
  depends on the desired set;
- a held-out test set of K more inputs from the desired distribution (as many as desired examples,
  like the official ``base_trainer.get_data``, which cuts test to ``dev_num``), drawn last so the
  other draws do not depend on it; it only measures the speed-up on unseen examples;
- optionally a fraction ``label_noise`` of training labels is flipped (planted noise whose weight the
  learned policy should drive to zero; ``flipped`` marks them);
- the model is the official one: logit = theta . x (no bias), loss = logistic / binary cross-entropy
  with logits, ``F.binary_cross_entropy_with_logits``; theta_0 ~ U(-1/sqrt(D), 1/sqrt(D)) like
  ``nn.Linear``'s default initialisation. The loss is in nats, so the compression ratio uses log 2.

Its derivatives are short enough to write out (``LogisticDerivatives``): with z = X theta and s = sigmoid(z),
the gradient is X^T (w (s - y)) and the Hessian along v is X^T (w s (1 - s) X v). The problem carries them, so
a GD step costs a few matrix products instead of ``torch.func``'s transforms (``benchmarks/bench_policy.py``).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from mini_lib.core.errors import ConfigError, check_fraction
from mini_lib.papers.optimal_learning.problem import PolicyProblem


@dataclass(frozen=True)
class PerceptronSetup:
    """Sizes and data knobs of the perceptron setting (defaults: the paper's scale)."""

    dim: int = 128
    n_train: int = 4096
    n_desired: int = 512
    shift: float = 1.0
    label_noise: float = 0.0
    seed: int = 0


@dataclass
class PerceptronTask:
    """The policy problem plus the ground truth behind it (teacher, which labels were flipped)."""

    problem: PolicyProblem
    teacher: Tensor
    flipped: Tensor
    setup: PerceptronSetup


def perceptron_losses(theta: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """Per-example logistic loss of the linear logit theta . x against labels y in {0, 1}."""
    return F.binary_cross_entropy_with_logits(x @ theta, y, reduction="none")


class LogisticDerivatives:
    """``perceptron_losses``' derivatives in closed form (``problem.ClosedFormDerivatives``). They take the whole
    data at once, whatever ``chunk_size`` says: beside the N x D inputs themselves, they hold only vectors of N."""

    def weighted_train_grad(self, problem: PolicyProblem, theta: Tensor, weights: Tensor) -> Tensor:
        x, y = problem.train
        return x.T @ (weights * (torch.sigmoid(x @ theta) - y))

    def desired_grad(self, problem: PolicyProblem, theta: Tensor) -> Tensor:
        x, y = problem.desired
        return x.T @ (torch.sigmoid(x @ theta) - y) / y.shape[0]

    def hvp_and_directional(self, problem: PolicyProblem, theta: Tensor, weights: Tensor,
                            v: Tensor) -> tuple[Tensor, Tensor]:
        x, y = problem.train
        s, along_v = torch.sigmoid(x @ theta), x @ v
        return x.T @ (weights * s * (1 - s) * along_v), (s - y) * along_v

    def directional_derivatives(self, problem: PolicyProblem, theta: Tensor, v: Tensor) -> Tensor:
        x, y = problem.train
        return (torch.sigmoid(x @ theta) - y) * (x @ v)


def make_perceptron_task(setup: PerceptronSetup = PerceptronSetup(), *, dtype: torch.dtype = torch.float32,
                         chunk_size: int | None = None) -> PerceptronTask:
    """Draw teacher, data and theta_0 from ``setup.seed`` and wrap them as a ``PolicyProblem``."""
    for name in ("dim", "n_train", "n_desired"):
        if getattr(setup, name) < 1:
            raise ConfigError(f"{name} must be a positive integer, got {getattr(setup, name)}")
    check_fraction("label_noise", setup.label_noise, allow_one=False)
    gen = torch.Generator().manual_seed(setup.seed)
    d = setup.dim
    teacher = torch.randn(d, generator=gen, dtype=torch.float64)
    direction = torch.randn(d, generator=gen, dtype=torch.float64)
    direction = direction / direction.norm()
    x_train = torch.randn(setup.n_train, d, generator=gen, dtype=torch.float64)
    x_desired = torch.randn(setup.n_desired, d, generator=gen, dtype=torch.float64) + setup.shift * direction
    y_train = (x_train @ teacher > 0).double()
    y_desired = (x_desired @ teacher > 0).double()
    n_flip = round(setup.label_noise * setup.n_train)
    flipped = torch.zeros(setup.n_train, dtype=torch.bool)
    flipped[torch.randperm(setup.n_train, generator=gen)[:n_flip]] = True
    y_train = torch.where(flipped, 1 - y_train, y_train)
    bound = d ** -0.5
    theta0 = (torch.rand(d, generator=gen, dtype=torch.float64) * 2 - 1) * bound
    x_test = torch.randn(setup.n_desired, d, generator=gen, dtype=torch.float64) + setup.shift * direction
    y_test = (x_test @ teacher > 0).double()
    problem = PolicyProblem(
        example_losses=perceptron_losses,
        train=(x_train.to(dtype), y_train.to(dtype)),
        desired=(x_desired.to(dtype), y_desired.to(dtype)),
        theta0=theta0.to(dtype),
        chunk_size=chunk_size,
        test=(x_test.to(dtype), y_test.to(dtype)),
        closed_form=LogisticDerivatives(),
    )
    return PerceptronTask(problem=problem, teacher=teacher.to(dtype), flipped=flipped, setup=setup)
