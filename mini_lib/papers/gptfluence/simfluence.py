"""Simfluence (Guu et al. 2023), the lookup-table baseline GPTfluence compares against.

Simfluence-Linear models a test example's loss as L_t = alpha(c_t) L_{t-1} + beta(c_t) with
alpha(c) = sum_{i in c} A_i and beta(c) = sum_{i in c} B_i: one free pair (A_i, B_i) per
(training example, test example). Given the recorded (teacher-forced) previous values the model is
linear in (A, B), so fitting is ridge regression -- least squares plus L2 -- solved exactly, one
small linear system per test example. Being a table, it has nothing to say about a training or test
example absent from its fitting runs: :meth:`Simfluence.simulate` raises a ConfigError for those,
or, with ``unseen="mean"``, gives an unseen training example the average factors of the seen ones
(the best a table can do; a baseline for GPTfluence's generalisation to new training data).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mini_lib.core.errors import ConfigError, choose
from mini_lib.papers.gptfluence.gptdynamics import Run


class Simfluence:
    """Fit on runs with :meth:`fit`, then :meth:`simulate` a run from its true first value."""

    def __init__(self, l2: float = 1e-3) -> None:
        if l2 < 0:
            raise ConfigError(f"l2 must be >= 0, got {l2}")
        self.l2 = l2
        self.train_ids: list[int] = []
        self.test_ids: list[int] = []
        self.A = np.zeros((0, 0))  # (n_train, n_test)
        self.B = np.zeros((0, 0))

    def fit(self, runs: Sequence[Run], metric: str = "loss") -> Simfluence:
        """Ridge-regress every test example's transitions over all ``runs`` onto (A, B)."""
        if not runs:
            raise ConfigError("Simfluence.fit needs at least one run")
        self.train_ids = sorted({i for run in runs for batch in run.transition_batches() for i in batch})
        self.test_ids = sorted(set.intersection(*(set(run.test_ids) for run in runs)))
        if not self.test_ids:
            raise ConfigError("the fitting runs share no test example")
        column = {i: n for n, i in enumerate(self.train_ids)}
        counts, prev, target = [], [], []
        for run in runs:
            values = run.with_test_ids(self.test_ids).trajectories[_metric(run, metric)]
            batches = run.transition_batches()
            c = np.zeros((len(batches), len(self.train_ids)))
            for t, batch in enumerate(batches):
                for i in batch:
                    c[t, column[i]] += 1
            counts.append(c)
            prev.append(values[:, :-1].T)
            target.append(values[:, 1:].T)
        C, prev, target = np.concatenate(counts), np.concatenate(prev), np.concatenate(target)  # (rows, .)
        n = len(self.train_ids)
        self.A = np.empty((n, len(self.test_ids)))
        self.B = np.empty((n, len(self.test_ids)))
        ridge = self.l2 * np.eye(2 * n)
        for k in range(len(self.test_ids)):
            X = np.concatenate([C * prev[:, k : k + 1], C], axis=1)
            theta = np.linalg.solve(X.T @ X + ridge, X.T @ target[:, k])
            self.A[:, k], self.B[:, k] = theta[:n], theta[n:]
        return self

    def simulate(self, run: Run, metric: str = "loss", *, unseen: str = "error") -> np.ndarray:
        """Roll the table out over ``run``'s batches from each trajectory's true first value.

        ``unseen``: what to do with training examples absent from the fitting runs: ``"error"``
        (raise) or ``"mean"`` (use the average factors of the seen examples)."""
        choose("unseen", unseen, ("error", "mean"))
        if not self.train_ids:
            raise ConfigError("Simfluence is not fitted yet: call fit(runs) first")
        true = run.trajectories[_metric(run, metric)]
        test_cols = {i: n for n, i in enumerate(self.test_ids)}
        unknown = [i for i in run.test_ids if i not in test_cols]
        if unknown:
            raise ConfigError(f"Simfluence has no parameters for test examples {unknown[:10]} (not in its fitting runs)")
        rows = {i: n for n, i in enumerate(self.train_ids)}
        new = sorted({i for batch in run.transition_batches() for i in batch if i not in rows})
        if new and unseen == "error":
            raise ConfigError(
                f"Simfluence cannot score training examples absent from its fitting runs: ids {new[:10]}"
                f"{' ...' if len(new) > 10 else ''} ({len(new)} in all). It is a lookup table; "
                "pass unseen='mean' for the average-example guess, or use GPTfluence, which scores new "
                "training examples from their features."
            )
        cols = [test_cols[i] for i in run.test_ids]
        A, B = self.A[:, cols], self.B[:, cols]
        if new:  # unseen == "mean": one extra row with the average factors
            A = np.vstack([A, A.mean(axis=0, keepdims=True)])
            B = np.vstack([B, B.mean(axis=0, keepdims=True)])
            rows.update({i: len(self.train_ids) for i in new})
        pred = np.empty_like(true)
        pred[:, 0] = true[:, 0]
        for c, batch in enumerate(run.transition_batches(), start=1):
            idx = [rows[i] for i in batch]
            pred[:, c] = A[idx].sum(axis=0) * pred[:, c - 1] + B[idx].sum(axis=0)
        return pred


def _metric(run: Run, metric: str) -> str:
    if metric not in run.trajectories:
        raise ConfigError(f"run {run.run_id} has no metric {metric!r}; it has: {', '.join(run.trajectories)}")
    return metric
