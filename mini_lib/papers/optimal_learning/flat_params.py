"""Named parameter tensors <-> one flat vector.

The adjoint method of "Towards Optimal Learning of Language Models" (arXiv 2402.17759) works on a
single parameter vector theta: the trajectory, the adjoint a_t and Hessian-vector products all live in
R^P. Models in this package are therefore written as pure functions of a flat vector; this layout
turns the vector back into named, shaped views (slices, no copies), which keeps ``torch.func``
transforms (grad, jvp, vmap) clean.
"""

from dataclasses import dataclass
from math import prod

import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError


@dataclass(frozen=True)
class ParamLayout:
    """Ordered names and shapes of a model's parameters inside a flat vector."""

    shapes: tuple[tuple[str, tuple[int, ...]], ...]

    @property
    def numel(self) -> int:
        """Total number of scalars (the length of the flat vector)."""
        return sum(prod(shape) for _, shape in self.shapes)

    def unflatten(self, theta: Tensor) -> dict[str, Tensor]:
        """Named views into ``theta`` (1-D, length ``numel``), in layout order."""
        if theta.dim() != 1 or theta.numel() != self.numel:
            raise ConfigError(f"theta must be a 1-D tensor of {self.numel} values, got shape {tuple(theta.shape)}")
        sizes = [prod(shape) for _, shape in self.shapes]
        pieces = torch.split(theta, sizes)
        return {name: piece.view(shape) for (name, shape), piece in zip(self.shapes, pieces)}

    def flatten(self, params: dict[str, Tensor]) -> Tensor:
        """Concatenate ``params`` (every name of the layout, matching shapes) into one vector."""
        missing = [name for name, _ in self.shapes if name not in params]
        if missing:
            raise ConfigError(f"params lack {', '.join(missing)}; the layout needs: {', '.join(n for n, _ in self.shapes)}")
        for name, shape in self.shapes:
            if tuple(params[name].shape) != shape:
                raise ConfigError(f"parameter {name} has shape {tuple(params[name].shape)}, layout expects {shape}")
        return torch.cat([params[name].reshape(-1) for name, _ in self.shapes])
