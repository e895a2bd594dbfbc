"""The few derivatives of a ``PolicyProblem`` that the unrolled trainer and its adjoint use.

All are computed with ``torch.func`` over chunks of examples and summed, so no autograd graph is kept
between calls and memory follows the chunk size:

- the weighted training gradient grad sum_n w_n l_n(theta) (one GD step of a policy row w);
- the desired loss L_dsr = mean_k l_k and its gradient;
- in one forward-over-reverse pass (``jvp`` of ``grad``): the Hessian-vector product H_w v of the
  weighted loss AND every per-example directional derivative grad l_n . v. The latter are exactly the
  dot products the policy gradient (v = a_{t+1}) and the Learning-Law contributions (v = grad L_dsr)
  need, so per-example gradients (N x P) are never materialised; the tangent of the vectorised
  per-example loss vector carries them.

A problem with ``closed_form`` derivatives (the perceptron) gets those instead: the same values from a few
matrix products, without the transforms' bookkeeping.
"""

import torch
from torch import Tensor
from torch.func import grad, jvp

from mini_lib.papers.optimal_learning.problem import PolicyProblem


def desired_loss(problem: PolicyProblem, theta: Tensor) -> Tensor:
    """L_dsr(theta): the mean loss over the K desired examples (a 0-d tensor)."""
    return mean_loss(problem, theta, problem.desired)


def mean_loss(problem: PolicyProblem, theta: Tensor, data: tuple[Tensor, ...]) -> Tensor:
    """The mean loss over the examples of ``data`` (a 0-d tensor, no graph)."""
    with torch.no_grad():
        total = sum(problem.example_losses(theta, *batch).sum() for _, batch in problem.chunks(data))
    return total / data[0].shape[0]


def desired_grad(problem: PolicyProblem, theta: Tensor) -> Tensor:
    """grad L_dsr(theta), shape (P,)."""
    if problem.closed_form is not None:
        return problem.closed_form.desired_grad(problem, theta)
    k = problem.n_desired
    return sum(grad(lambda th, b=batch: problem.example_losses(th, *b).sum() / k)(theta)
               for _, batch in problem.chunks(problem.desired))


def weighted_train_grad(problem: PolicyProblem, theta: Tensor, weights: Tensor) -> Tensor:
    """grad sum_n w_n l_n(theta): the full-batch gradient under one policy row ``weights`` (N,)."""
    if problem.closed_form is not None:
        return problem.closed_form.weighted_train_grad(problem, theta, weights)
    return sum(grad(lambda th, b=batch, w=weights[rows]: (w * problem.example_losses(th, *b)).sum())(theta)
               for rows, batch in problem.chunks(problem.train))


def hvp_and_directional(problem: PolicyProblem, theta: Tensor, weights: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """(H_w(theta) v, [grad l_n(theta) . v]_n) from one jvp-of-grad pass per chunk.

    H_w is the Hessian of sum_n w_n l_n. The per-example losses are the ``aux`` output of the inner
    grad, so the outer jvp returns their tangents, i.e. the directional derivatives along v.
    """
    if problem.closed_form is not None:
        return problem.closed_form.hvp_and_directional(problem, theta, weights, v)
    hv = torch.zeros_like(theta)
    directional = []
    for rows, batch in problem.chunks(problem.train):
        w = weights[rows]

        def weighted_loss(th: Tensor, b: tuple[Tensor, ...] = batch, w: Tensor = w) -> tuple[Tensor, Tensor]:
            losses = problem.example_losses(th, *b)
            return (w * losses).sum(), losses

        _, (hv_chunk, dl_chunk) = jvp(grad(weighted_loss, has_aux=True), (theta,), (v,))
        hv = hv + hv_chunk
        directional.append(dl_chunk)
    return hv, torch.cat(directional)


def directional_derivatives(problem: PolicyProblem, theta: Tensor, v: Tensor) -> Tensor:
    """[grad l_n(theta) . v]_n for every training example: one forward-mode pass, no Hessian."""
    if problem.closed_form is not None:
        return problem.closed_form.directional_derivatives(problem, theta, v)
    return torch.cat([jvp(lambda th, b=batch: problem.example_losses(th, *b), (theta,), (v,))[1]
                      for _, batch in problem.chunks(problem.train)])
