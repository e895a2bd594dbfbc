"""What policy optimisation needs from a model and its data, in one small object.

arXiv 2402.17759 trains with full-batch gradient descent on N training examples while a learning
policy gamma re-weights them, and scores the run on K "desired" examples. Everything the unrolled
trainer and its adjoint need is the per-example loss l_n(theta) of a flat parameter vector, the two
data sets and the starting point theta_0. An optional held-out ``test`` set (drawn like the desired
set, never used by the optimisation) is only evaluated, as the official evaluation does. Both settings of the paper (perceptron, tiny Transformer)
build a ``PolicyProblem``; nothing downstream knows which model it is.

Large data sets are processed in chunks of ``chunk_size`` examples (sums over chunks are exact), so
memory scales with the chunk, not with N.

A model whose derivatives have a short closed form (the perceptron's) may also hand over ``closed_form``:
``derivatives`` then uses it instead of ``torch.func``. Same numbers, a fraction of the operations per
step, which is what makes the paper's 500 outer epochs affordable.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError

ExampleLosses = Callable[..., Tensor]
"""``example_losses(theta, *batch) -> (B,)``: the loss of each example in a batch at flat ``theta``."""


class ClosedFormDerivatives(Protocol):
    """The derivatives ``derivatives`` needs, written out by hand for one model (same meaning and shapes)."""

    def weighted_train_grad(self, problem: "PolicyProblem", theta: Tensor, weights: Tensor) -> Tensor: ...

    def desired_grad(self, problem: "PolicyProblem", theta: Tensor) -> Tensor: ...

    def hvp_and_directional(self, problem: "PolicyProblem", theta: Tensor, weights: Tensor,
                            v: Tensor) -> tuple[Tensor, Tensor]: ...

    def directional_derivatives(self, problem: "PolicyProblem", theta: Tensor, v: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class PolicyProblem:
    """A model as per-example losses of a flat vector, its training and desired data, and theta_0."""

    example_losses: ExampleLosses
    train: tuple[Tensor, ...]
    desired: tuple[Tensor, ...]
    theta0: Tensor
    chunk_size: int | None = None
    test: tuple[Tensor, ...] | None = None
    closed_form: ClosedFormDerivatives | None = None

    def __post_init__(self) -> None:
        if self.theta0.dim() != 1:
            raise ConfigError(f"theta0 must be a flat 1-D parameter vector, got shape {tuple(self.theta0.shape)}")
        sets = [("train", self.train), ("desired", self.desired)] + ([("test", self.test)] if self.test is not None else [])
        for name, data in sets:
            if not data or any(t.shape[0] != data[0].shape[0] for t in data) or data[0].shape[0] == 0:
                raise ConfigError(f"{name} must be a non-empty tuple of tensors sharing their first (example) dimension")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ConfigError(f"chunk_size must be a positive number of examples or None, got {self.chunk_size}")

    @property
    def n_train(self) -> int:
        """N, the number of training examples (the width of a policy row)."""
        return self.train[0].shape[0]

    @property
    def n_desired(self) -> int:
        """K, the number of desired examples."""
        return self.desired[0].shape[0]

    def to(self, device: "str | torch.device") -> "PolicyProblem":
        """The same problem with theta_0 and all data on ``device`` (e.g. "cuda")."""
        return replace(self, train=tuple(t.to(device) for t in self.train),
                       desired=tuple(t.to(device) for t in self.desired), theta0=self.theta0.to(device),
                       test=None if self.test is None else tuple(t.to(device) for t in self.test))

    def chunks(self, data: tuple[Tensor, ...]) -> Iterator[tuple[slice, tuple[Tensor, ...]]]:
        """Consecutive (slice, batch) pieces of ``data`` of at most ``chunk_size`` examples."""
        n = data[0].shape[0]
        size = n if self.chunk_size is None else self.chunk_size
        for start in range(0, n, size):
            rows = slice(start, min(start + size, n))
            yield rows, tuple(t[rows] for t in data)
