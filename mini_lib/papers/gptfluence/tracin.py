"""TracIn-CP and Grad-Dot: gradient-based baselines that GPTfluence compares its simulator against.

Both predict how a test example's loss moves when the model trains on batch c_t, from per-example
gradients restricted to the output (unembedding) layer, as the GPTfluence paper does
(arXiv 2404.07840, Sec. 5; official ``model/TracInCPSimulator.py`` uses captum's TracInCPFast on
``embed_out``):
* TracIn-CP: Delta_t(z') = -lr_t * sum_{i in c_t} <g_i(theta_ck), g_z'(theta_ck)>, with ck the closest
  saved checkpoint at or before the parameters the update of step t was computed at (step t - 1);
* Grad-Dot: Delta_t(z') = -sum_{i in c_t} <g_i(theta_0), g_z'(theta_0)>: first checkpoint only, no lr.
The trajectory is the true first value plus the running sum of Delta. Raw sums are off in scale
(the batch loss is a mean over the batch, Adam rescales steps, the output layer is only part of the
model), so the paper rescales them. We fit one scale and shift on the TRAINING runs by least squares,
true_c - true_0 ~ scale * (raw_c - true_0) + shift, and apply them to held-out runs; the official
``rescale_tracincp.py`` instead rescales each held-out trajectory against its own true values,
an oracle that flatters the baseline.

Gradients: :func:`output_layer_grads` uses grad_W = sum_t (softmax(z_t) - onehot(y_t)) h_t^T / n_targets,
never materialising autograd graphs; a Kronecker random projection (:class:`GradientProjection`)
keeps each gradient small while preserving inner products in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.evaluate import eval_mode
from mini_lib.papers.gptfluence.gptdynamics import Run

METHODS = ("tracin-cp", "grad-dot")


@dataclass
class CheckpointGradients:
    """Per-example output-layer gradients at saved checkpoints of one run.

    ``steps[c]`` is the number of optimiser steps done when checkpoint c was saved (0 = before
    training), increasing; ``train`` is (n_ckpt, n_train, D) with rows following ``train_ids``,
    ``test`` is (n_ckpt, n_test, D) with rows following ``test_ids``.
    """

    steps: list[int]
    train: np.ndarray
    test: np.ndarray
    train_ids: list[int]
    test_ids: list[int]

    def __post_init__(self) -> None:
        self.train, self.test = np.asarray(self.train, dtype=np.float64), np.asarray(self.test, dtype=np.float64)
        n = len(self.steps)
        if list(self.steps) != sorted(set(self.steps)) or not n:
            raise ConfigError(f"checkpoint steps must be non-empty and strictly increasing, got {self.steps}")
        if self.train.shape[:2] != (n, len(self.train_ids)) or self.test.shape[:2] != (n, len(self.test_ids)):
            raise ConfigError(
                f"gradients must be (n_ckpt, n_examples, D): got train {self.train.shape}, test {self.test.shape} "
                f"for {n} checkpoints, {len(self.train_ids)} training and {len(self.test_ids)} test ids"
            )


@dataclass(frozen=True)
class LinearRescale:
    """true_c - true_0 ~ scale * (raw_c - true_0) + shift, fitted on training runs."""

    scale: float
    shift: float

    @classmethod
    def fit(cls, raw: Sequence[np.ndarray], true: Sequence[np.ndarray]) -> LinearRescale:
        """Least squares over every simulated column (>= 1) of every trajectory given."""
        x = np.concatenate([(r[:, 1:] - r[:, :1]).ravel() for r in raw])
        y = np.concatenate([(t[:, 1:] - t[:, :1]).ravel() for t in true])
        X = np.stack([x, np.ones_like(x)], axis=1)
        scale, shift = np.linalg.lstsq(X, y, rcond=None)[0]
        return cls(float(scale), float(shift))

    def apply(self, raw: np.ndarray) -> np.ndarray:
        out = raw.copy()
        out[:, 1:] = raw[:, :1] + self.scale * (raw[:, 1:] - raw[:, :1]) + self.shift
        return out


def step_influences(grads: CheckpointGradients, run: Run, *, method: str = "tracin-cp") -> np.ndarray:
    """Delta of every transition of ``run`` (n_test, n_cols - 1), rows following ``run.test_ids``."""
    choose("method", method, METHODS)
    train_rows = _index(grads.train_ids, "training")
    test_rows = [_index(grads.test_ids, "test")(i) for i in run.test_ids]
    grams = np.einsum("cnd,cmd->cnm", grads.train, grads.test[:, test_rows])  # (n_ckpt, n_train, n_test)
    if method == "tracin-cp" and run.learning_rates is None:
        raise ConfigError(f"run {run.run_id} has no learning rates; TracIn-CP needs the lr of every step (or use method='grad-dot')")
    deltas = []
    for c, batch in enumerate(run.transition_batches(), start=1):
        step = run.first_step + c
        rows = [train_rows(i) for i in batch]
        if method == "grad-dot":
            deltas.append(-grams[0][rows].sum(axis=0))
        else:
            ck = int(np.searchsorted(grads.steps, step - 1, side="right")) - 1
            if ck < 0:
                raise ConfigError(f"no checkpoint at or before step {step - 1} (checkpoint steps {grads.steps})")
            deltas.append(-run.learning_rates[step - 1] * grams[ck][rows].sum(axis=0))
    return np.stack(deltas, axis=1)


def predicted_trajectories(grads: CheckpointGradients, run: Run, metric: str = "loss", *, method: str = "tracin-cp") -> np.ndarray:
    """Unscaled trajectories: each test example's true first value plus the running sum of Delta."""
    if metric not in run.trajectories:
        raise ConfigError(f"run {run.run_id} has no metric {metric!r}; it has: {', '.join(run.trajectories)}")
    first = run.trajectories[metric][:, :1]
    deltas = step_influences(grads, run, method=method)
    return np.concatenate([first, first + np.cumsum(deltas, axis=1)], axis=1)


def tracin_self_influence(grads: CheckpointGradients, learning_rates: Sequence[float]) -> np.ndarray:
    """sum over checkpoints of lr_c * |g_i(theta_c)|^2 per training example (rows follow ``train_ids``);
    large values flag examples the model finds hard to fit, e.g. mislabelled ones."""
    lrs = np.asarray(learning_rates, dtype=np.float64)
    if lrs.shape != (len(grads.steps),):
        raise ConfigError(f"need one learning rate per checkpoint ({len(grads.steps)}), got {lrs.shape}")
    return np.einsum("c,cnd,cnd->n", lrs, grads.train, grads.train)


@dataclass
class GradientProjection:
    """A fixed Kronecker random projection of (vocab x hidden) gradient matrices to (k_vocab x k_hidden).

    P(G) = R_v^T G R_h with Gaussian R_v (V, k_v), R_h (H, k_h) of variance 1/k: inner products of
    projected gradients equal the true ones in expectation (the JL idea), at k_v * k_h numbers each.
    """

    vocab: torch.Tensor  # (V, k_v)
    hidden: torch.Tensor  # (H, k_h)

    @classmethod
    def create(cls, vocab_size: int, hidden_size: int, k_vocab: int, k_hidden: int, seed: int = 0) -> GradientProjection:
        if k_vocab < 1 or k_hidden < 1:
            raise ConfigError(f"k_vocab and k_hidden must be >= 1, got {k_vocab}, {k_hidden}")
        g = torch.Generator().manual_seed(seed)
        return cls(
            vocab=torch.randn(vocab_size, k_vocab, generator=g) / k_vocab**0.5,
            hidden=torch.randn(hidden_size, k_hidden, generator=g) / k_hidden**0.5,
        )

    def project_matrix(self, grad: torch.Tensor) -> torch.Tensor:
        """Project full gradient matrices (..., V, H) to flat (..., k_v * k_h)."""
        return (self.vocab.T @ grad @ self.hidden).flatten(-2)


@torch.no_grad()
def output_layer_grads(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    labels_mask: torch.Tensor,
    *,
    attention_mask: torch.Tensor | None = None,
    projection: GradientProjection | None = None,
    chunk_size: int = 8,
) -> torch.Tensor:
    """Per-example gradients of the mean next-token loss w.r.t. the output layer's weight.

    ``labels_mask[n, t]`` marks the tokens whose prediction (from position t - 1) is in example n's
    loss, the same tokens an HF ``labels`` tensor would keep (position 0 is never a target). Works for
    any HF causal LM through ``get_output_embeddings()`` (GPTNeoXForCausalLM: ``lm_head`` in
    transformers 5, ``embed_out`` in Pythia checkpoints and older versions); its
    bias, if any, is ignored. Returns (n, V * H) -- flattened like the weight (V, H) -- or
    (n, k_v * k_h) with ``projection``.
    """
    layer = model.get_output_embeddings()
    if labels_mask.shape != input_ids.shape:
        raise ConfigError(f"labels_mask must have input_ids' shape {tuple(input_ids.shape)}, got {tuple(labels_mask.shape)}")
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0]))
    out = []
    with eval_mode(model):
        try:
            for s in range(0, input_ids.shape[0], chunk_size):
                ids, mask = input_ids[s : s + chunk_size], labels_mask[s : s + chunk_size, 1:].float()
                attn = None if attention_mask is None else attention_mask[s : s + chunk_size]
                captured.clear()
                logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1].float()
                hidden = captured[0][:, :-1].float()
                counts = mask.sum(dim=1, keepdim=True)
                if (counts == 0).any():
                    raise ConfigError("every example needs at least one target token in labels_mask (after position 0)")
                err = torch.softmax(logits, dim=-1)
                err.scatter_add_(-1, ids[:, 1:, None], -torch.ones_like(ids[:, 1:, None], dtype=err.dtype))
                err = err * (mask / counts)[..., None]  # (n, T - 1, V): d loss / d logits
                if projection is None:
                    out.append(torch.einsum("ntv,nth->nvh", err, hidden).flatten(1))
                else:
                    out.append(torch.einsum("ntk,ntl->nkl", err @ projection.vocab, hidden @ projection.hidden).flatten(1))
        finally:
            handle.remove()
    return torch.cat(out)


def _index(ids: Sequence[int], what: str):
    rows = {int(i): n for n, i in enumerate(ids)}

    def lookup(i: int) -> int:
        if i not in rows:
            raise ConfigError(f"no gradient for {what} example {i}")
        return rows[i]

    return lookup
