"""GPTfluence: a featurised simulator of a test metric's trajectory during training (arXiv 2404.07840).

For a test example z' with features h' and the batch c_t of step t,
    phi_t = sum_{j=1..n} alpha_j(c_t) phi_{t-j} + beta(c_t),
    alpha_j(c) = sum_{i in c} A_{i,j},  A_{i,j} = <W_j(h_i), U_j(h')>,
    beta(c)    = sum_{i in c} B_i,      B_i     = <W'(h_i),  U'(h')>,
with h the frozen sentence-encoder features of the examples (``features.encode_texts``). Because the
factors are functions of features rather than table entries (Simfluence), the simulator scores
training examples it never saw in its fitting runs.

Choices, with the official code (github.com/ernie-research/gptfluence, ``model/NOrder_EncSimulator.py``)
where it differs from the paper's equations:
* projections: ``n_layers=2`` is the official Linear-ReLU-Linear MLP (width and output size = feature
  size by default); ``n_layers=1`` is the plain linear map of the equations.
* ``share_sides=False`` (default) uses separate W_j and U_j as in the equations; ``True`` applies one
  MLP to both sides as the official code does (then A_{i,j} is a positive semi-definite kernel).
* Conditioning: A and B are a large constant (alpha(c) is close to 1) plus small per-example
  deviations. Asked to carry both, the bilinear form is badly conditioned and Adam stalls (one-step
  MSE ~2e-4 on our synthetic check, factors uncorrelated with the truth). So each factor has a
  scalar offset, A_{i,j} = a_j + <W_j h_i, U_j h'>, B_i = b + <W' h_i, U' h'> -- the same function
  class, since the projections' output biases can already make constants -- warm-started by least
  squares of the feature-free model, with the projections' last layer initialised small
  (``init_scale``). With linear projections on noise-free synthetic data this brings the one-step
  MSE to ~1e-7 and factor correlations > 0.99.
* Training is teacher-forced one-step regression (MSE) with Adam, L2 as Adam's weight decay
  (1e-5, official), early stopping on the rollout MSE of validation runs. An Adam step moves each
  dot product by about lr x width, so the default learning rate shrinks with the projection width:
  lr = 0.05 / width, i.e. 1.3e-4 at the official width 384 (official: 1e-4) but 3e-3 for the small
  widths that train in a few hundred steps on CPU; with a cosine decay (``FitConfig``). On synthetic
  384-d features, width 384 trained at lr 1e-3 or 3e-4 stalls (rollout MSE 5e-3 / 1.3e-3), at 1e-4
  reaches 1.7e-4.
* History before the first recorded value is padded by repeating that value (the loss was already
  there before training); the official code pads with zeros. For n = 1 the two agree.
* Rollouts start from the true first value of each trajectory and feed back their own predictions.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

from mini_lib.core.errors import ConfigError, choose
from mini_lib.papers.gptfluence.gptdynamics import Run


@dataclass
class GPTfluenceConfig:
    """Shape of the simulator."""

    order: int = 1
    n_layers: int = 2
    hidden_dim: int | None = None  # None: the feature size (official)
    out_dim: int | None = None  # None: the feature size (official)
    share_sides: bool = False
    init_scale: float = 0.1  # initial std of the learned (feature-dependent) part of A and B is ~ init_scale**2


@dataclass
class FitConfig:
    """How the simulator is trained."""

    lr: float | None = None  # None: 0.05 / projection width (3e-3 at width 16, 1.3e-4 at the official 384)
    weight_decay: float = 1e-5
    batch_size: int = 256
    max_epochs: int = 50
    max_steps: int | None = None
    patience: int = 5  # evaluations without improvement of the validation rollout MSE before stopping
    eval_every: int | None = None  # optimiser steps between validations; None: once per epoch
    schedule: str = "cosine"  # "cosine" (decay to 0 over max_steps) or "constant" (official)
    num_threads: int | None = 1  # torch threads while fitting (tiny tensors: 1 is fastest); None keeps torch's
    seed: int = 0


@dataclass
class FitReport:
    """What happened during :meth:`GPTfluenceSimulator.fit`."""

    steps: int
    epochs: float
    seconds: float
    lr: float
    best_val_mse: float | None
    stopped_early: bool
    train_mse: list[float] = field(default_factory=list)  # mean one-step MSE between evaluations
    val_mse: list[float] = field(default_factory=list)


class GPTfluence(nn.Module):
    """The factor network: projections of training-example and test-example features.

    ``width`` (the widest projection layer) sets the default learning rate of :class:`FitConfig`."""

    def __init__(self, feature_dim: int, config: GPTfluenceConfig | None = None, *, seed: int = 0) -> None:
        super().__init__()
        self.config = config = config or GPTfluenceConfig()
        if config.order < 1:
            raise ConfigError(f"order must be >= 1, got {config.order}")
        if config.n_layers not in (1, 2):
            raise ConfigError(f"n_layers must be 1 (linear) or 2 (official MLP), got {config.n_layers}")
        hidden = config.hidden_dim or feature_dim
        out = config.out_dim or feature_dim
        self.width = max(out, hidden if config.n_layers == 2 else 0)
        generator = torch.Generator().manual_seed(seed)
        n_heads = config.order + 1  # alpha_1..alpha_n, then beta

        def heads() -> nn.ModuleList:
            return nn.ModuleList(
                _projection(feature_dim, hidden, out, config.n_layers, config.init_scale, generator) for _ in range(n_heads)
            )

        self.train_proj = heads()
        self.test_proj = self.train_proj if config.share_sides else heads()
        # The constant part of A_{.,1..n} and B, held apart from the projections (see the module docstring).
        self.offsets = nn.Parameter(torch.zeros(n_heads))

    @property
    def order(self) -> int:
        return self.config.order

    def project(self, train_features: torch.Tensor, test_features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(order + 1, N, r) training-side and (order + 1, M, r) test-side projections."""
        P = torch.stack([f(train_features) for f in self.train_proj])
        Q = torch.stack([g(test_features) for g in self.test_proj])
        return P, Q

    def factors(self, train_features: torch.Tensor, test_features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A (N, M, order) and B (N, M) for every (training, test) pair."""
        P, Q = self.project(train_features, test_features)
        scores = torch.einsum("hnr,hmr->nmh", P, Q) + self.offsets
        return scores[..., : self.order], scores[..., self.order]

    def forward(
        self,
        train_features: torch.Tensor,
        test_features: torch.Tensor,
        batch_index: torch.Tensor,
        test_index: torch.Tensor,
        history: torch.Tensor,
    ) -> torch.Tensor:
        """One-step predictions (S,) from batches (S, b) of training rows (N = padding), test rows (S,)
        and histories (S, order) = (phi_{t-1}, ..., phi_{t-n})."""
        P, Q = self.project(train_features, test_features)
        P = torch.cat([P, P.new_zeros(P.shape[0], 1, P.shape[2])], dim=1)  # padding row contributes nothing
        sizes = (batch_index < P.shape[1] - 1).sum(dim=1)  # real examples per batch
        scores = (P[:, batch_index].sum(dim=2) * Q[:, test_index]).sum(dim=-1) + self.offsets[:, None] * sizes  # (order + 1, S)
        return (scores[: self.order].T * history).sum(dim=1) + scores[self.order]


class GPTfluenceSimulator:
    """GPTfluence with its feature tables: fit on runs, simulate runs, read off factors and self-influence.

    ``train_features`` (n_train, d) rows follow ``train_ids``; ``test_features`` rows follow ``test_ids``.
    Include every example you will ever simulate: unseen examples only need features.
    """

    def __init__(
        self,
        train_ids: Sequence[int],
        train_features: np.ndarray | torch.Tensor,
        test_ids: Sequence[int],
        test_features: np.ndarray | torch.Tensor,
        config: GPTfluenceConfig | None = None,
        *,
        seed: int = 0,
    ) -> None:
        self.train_features = torch.as_tensor(np.asarray(train_features), dtype=torch.float32)
        self.test_features = torch.as_tensor(np.asarray(test_features), dtype=torch.float32)
        if self.train_features.shape[0] != len(train_ids) or self.test_features.shape[0] != len(test_ids):
            raise ConfigError(
                f"features must have one row per id: {tuple(self.train_features.shape)} for {len(train_ids)} training ids, "
                f"{tuple(self.test_features.shape)} for {len(test_ids)} test ids"
            )
        if self.train_features.shape[1] != self.test_features.shape[1]:
            raise ConfigError("training and test features must have the same width")
        self.train_rows = {int(i): n for n, i in enumerate(train_ids)}
        self.test_rows = {int(i): n for n, i in enumerate(test_ids)}
        self.model = GPTfluence(self.train_features.shape[1], config, seed=seed)
        self.reference_value: float | None = None
        self.reference_batch_size: int | None = None

    @property
    def order(self) -> int:
        return self.model.order

    def fit(self, runs: Sequence[Run], val_runs: Sequence[Run] = (), metric: str = "loss", config: FitConfig | None = None) -> FitReport:
        """Teacher-forced one-step MSE training with Adam; early stopping on ``val_runs`` when given
        (the best validation state is kept). Each call restarts the offsets from their least-squares
        warm start and keeps the projections as they are."""
        cfg = config or FitConfig()
        threads = torch.get_num_threads()
        if cfg.num_threads is not None:
            torch.set_num_threads(cfg.num_threads)
        try:
            return self._fit(runs, val_runs, metric, cfg)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, runs: Sequence[Run], val_runs: Sequence[Run], metric: str, cfg: FitConfig) -> FitReport:
        if not runs:
            raise ConfigError("GPTfluenceSimulator.fit needs at least one run")
        choose("schedule", cfg.schedule, ("cosine", "constant"))
        data = self._transitions(runs, metric)
        n = data[0].shape[0]
        self._warm_start_offsets(*data)
        generator = torch.Generator().manual_seed(cfg.seed)
        lr = cfg.lr if cfg.lr is not None else 0.05 / self.model.width
        optimiser = torch.optim.Adam(self.model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
        steps_per_epoch = -(-n // cfg.batch_size)
        max_steps = cfg.max_steps or cfg.max_epochs * steps_per_epoch
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimiser, (lambda s: 0.5 * (1 + np.cos(np.pi * min(s, max_steps) / max_steps))) if cfg.schedule == "cosine" else (lambda s: 1.0)
        )
        eval_every = cfg.eval_every or steps_per_epoch
        report = FitReport(steps=0, epochs=0.0, seconds=0.0, lr=lr, best_val_mse=None, stopped_early=False)
        best_state, bad, running = None, 0, []
        start = time.perf_counter()
        self.model.train()
        while report.steps < max_steps:
            for rows in torch.randperm(n, generator=generator).split(cfg.batch_size):
                batch_index, test_index, history, target = (x[rows] for x in data)
                pred = self.model(self.train_features, self.test_features, batch_index, test_index, history)
                loss = torch.mean((pred - target) ** 2)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                scheduler.step()
                running.append(loss.item())
                report.steps += 1
                if report.steps % eval_every == 0 or report.steps == max_steps:
                    report.train_mse.append(float(np.mean(running)))
                    running = []
                    if val_runs:
                        val = self._rollout_mse(val_runs, metric)
                        report.val_mse.append(val)
                        if report.best_val_mse is None or val < report.best_val_mse:
                            report.best_val_mse, best_state, bad = val, copy.deepcopy(self.model.state_dict()), 0
                        else:
                            bad += 1
                    self.model.train()
                if report.steps >= max_steps or bad >= cfg.patience:
                    break
            if bad >= cfg.patience:
                report.stopped_early = True
                break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()
        report.epochs = report.steps / steps_per_epoch
        report.seconds = time.perf_counter() - start
        self.reference_value = float(np.mean([r.trajectories[metric][:, 0].mean() for r in runs]))
        self.reference_batch_size = int(np.median([len(b) for r in runs for b in r.batches]))
        return report

    @torch.no_grad()
    def factors(self, train_ids: Sequence[int] | None = None, test_ids: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A (n_train, n_test, order) and B (n_train, n_test) for the given ids (default: all)."""
        tr = self._rows(self.train_rows, train_ids, "training")
        te = self._rows(self.test_rows, test_ids, "test")
        A, B = self.model.factors(self.train_features[tr], self.test_features[te])
        return A.numpy().astype(np.float64), B.numpy().astype(np.float64)

    @torch.no_grad()
    def simulate(self, run: Run, metric: str = "loss") -> np.ndarray:
        """Autoregressive rollout over ``run``'s batches from each trajectory's true first value."""
        if metric not in run.trajectories:
            raise ConfigError(f"run {run.run_id} has no metric {metric!r}; it has: {', '.join(run.trajectories)}")
        batches = run.transition_batches()
        used = sorted({i for b in batches for i in b})
        A, B = self.factors(used, run.test_ids)
        local = {i: n for n, i in enumerate(used)}
        true = run.trajectories[metric]
        pred = np.empty_like(true)
        pred[:, 0] = true[:, 0]
        for c, batch in enumerate(batches, start=1):
            idx = [local[i] for i in batch]
            history = np.stack([pred[:, max(c - j, 0)] for j in range(1, self.order + 1)], axis=1)
            pred[:, c] = (A[idx].sum(axis=0) * history).sum(axis=1) + B[idx].sum(axis=0)
        return pred

    @torch.no_grad()
    def self_influence(self, value: float | None = None, batch_size: int | None = None) -> np.ndarray:
        """Per training example: predicted drop of its OWN metric after one step on a batch of
        ``batch_size`` copies of it, from ``value`` (history all at ``value``), i.e. with h' = h_i:
        value - (b * sum_j A_{i,j} * value + b * B_i). Defaults: the fitting runs' mean first value and
        their batch size. Ordered like ``train_ids``; larger = the example pulls its own loss down more."""
        value = self.reference_value if value is None else value
        b = self.reference_batch_size if batch_size is None else batch_size
        if value is None or b is None:
            raise ConfigError("self_influence needs value and batch_size, or a fitted simulator (call fit first)")
        P, Q = self.model.project(self.train_features, self.train_features)
        diag = ((P * Q).sum(dim=-1) + self.model.offsets[:, None]).numpy().astype(np.float64)  # (order + 1, N): A_{i,j}, B_i at h' = h_i
        return value - b * (diag[: self.order].sum(axis=0) * value + diag[self.order])

    @torch.no_grad()
    def _warm_start_offsets(self, batch_index: torch.Tensor, test_index: torch.Tensor, history: torch.Tensor, target: torch.Tensor) -> None:
        """Least-squares fit of the feature-free model phi_t = |c_t| (sum_j a_j phi_{t-j} + b) to start
        the offsets there: the projections then only learn the (small) per-example deviations."""
        sizes = (batch_index < len(self.train_rows)).sum(dim=1, keepdim=True).double()
        X = torch.cat([sizes * history.double(), sizes], dim=1)
        solution = torch.linalg.lstsq(X, target.double()[:, None]).solution[:, 0]
        self.model.offsets.copy_(solution.float())

    def _rows(self, table: dict[int, int], ids: Sequence[int] | None, what: str) -> list[int]:
        if ids is None:
            return list(table.values())
        missing = [i for i in ids if i not in table]
        if missing:
            raise ConfigError(f"no features for {what} ids {missing[:10]}; pass them when building the simulator")
        return [table[i] for i in ids]

    def _transitions(self, runs: Sequence[Run], metric: str) -> tuple[torch.Tensor, ...]:
        """Teacher-forced one-step samples of all runs: batch rows, test rows, histories, targets."""
        pad = len(self.train_rows)
        width = max(len(b) for r in runs for b in r.batches)
        batch_rows, test_rows, histories, targets = [], [], [], []
        for run in runs:
            if metric not in run.trajectories:
                raise ConfigError(f"run {run.run_id} has no metric {metric!r}; it has: {', '.join(run.trajectories)}")
            values = run.trajectories[metric]
            batches = run.transition_batches()
            rows = np.full((len(batches), width), pad)
            for t, batch in enumerate(batches):
                rows[t, : len(batch)] = self._rows(self.train_rows, batch, "training")
            te = np.array(self._rows(self.test_rows, run.test_ids, "test"))
            cols = np.arange(1, values.shape[1])
            hist_cols = np.stack([np.maximum(cols - j, 0) for j in range(1, self.order + 1)], axis=1)  # (C, order)
            batch_rows.append(np.repeat(rows[None], len(te), axis=0).reshape(-1, width))
            test_rows.append(np.repeat(te, len(cols)))
            histories.append(values[:, hist_cols].reshape(-1, self.order))
            targets.append(values[:, 1:].reshape(-1))
        return (
            torch.as_tensor(np.concatenate(batch_rows), dtype=torch.long),
            torch.as_tensor(np.concatenate(test_rows), dtype=torch.long),
            torch.as_tensor(np.concatenate(histories), dtype=torch.float32),
            torch.as_tensor(np.concatenate(targets), dtype=torch.float32),
        )

    def _rollout_mse(self, runs: Sequence[Run], metric: str) -> float:
        self.model.eval()
        errors = [np.mean((self.simulate(r, metric)[:, 1:] - r.trajectories[metric][:, 1:]) ** 2) for r in runs]
        return float(np.mean(errors))


def _projection(d_in: int, hidden: int, d_out: int, n_layers: int, init_scale: float, generator: torch.Generator) -> nn.Module:
    """PyTorch's default initialisation drawn from ``generator``; the last layer shrunk so that the
    dot product of two projections starts with std ~ init_scale**2 whatever ``d_out``."""
    layers = [nn.Linear(d_in, d_out)] if n_layers == 1 else [nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out)]
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    for layer in linears:
        bound = 1.0 / np.sqrt(layer.in_features)
        if layer is linears[-1]:
            bound *= init_scale / d_out**0.25
        with torch.no_grad():
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
    return nn.Sequential(*layers)
