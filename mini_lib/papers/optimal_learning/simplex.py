"""Euclidean projection onto the probability simplex, row by row.

A learning policy gamma_t must stay a distribution over the N training examples; projected gradient
descent (as in arXiv 2402.17759) takes a gradient step and projects each row back. The official code
solves a small QP per row with cvxpy; the same projection has a closed form found by sorting
(Held, Wolfe & Crowder 1974; Duchi et al. 2008), which runs on every row at once on any device:

    sort v descending into u, rho = max{k : u_k - (sum_{j<=k} u_j - 1) / k > 0},
    tau = (sum_{j<=rho} u_j - 1) / rho,   projection = max(v - tau, 0).
"""

import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError


def project_to_simplex(v: Tensor) -> Tensor:
    """Project each row (last dimension) of ``v`` onto {x >= 0, sum x = 1} in Euclidean distance."""
    if v.dim() == 0 or v.shape[-1] == 0:
        raise ConfigError(f"project_to_simplex needs a tensor with a non-empty last dimension, got shape {tuple(v.shape)}")
    if not torch.isfinite(v).all():
        raise ConfigError("project_to_simplex got non-finite values (check the outer learning rate)")
    n = v.shape[-1]
    u, _ = torch.sort(v, dim=-1, descending=True)
    shifted_cumsum = torch.cumsum(u, dim=-1) - 1
    k = torch.arange(1, n + 1, dtype=v.dtype, device=v.device)
    positive = (u - shifted_cumsum / k) > 0  # true on a prefix 1..rho of the sorted entries
    rho = positive.sum(dim=-1, keepdim=True)
    tau = shifted_cumsum.gather(-1, rho - 1) / rho.to(v.dtype)
    return torch.clamp(v - tau, min=0)
