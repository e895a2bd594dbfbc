"""Which runs and examples a simulator is fitted on and which it is judged on.

GPTfluence (arXiv 2404.07840) splits the 32 runs of a task into 25 for fitting, 2 for validation
(early stopping) and 5 held out. Its generalisation study holds out examples instead:
* unseen training examples -- some training examples never occur in the fitting runs and do occur in
  the held-out runs (the paper: works, RTE loss MSE 0.346, rho 0.913);
* unseen test examples -- the simulator is fitted on some test examples' trajectories and judged on
  the others (the paper: rho ~ 0);
* both at once.
Unseen training examples need runs collected for it: a run that samples 128 of 200 examples almost
never avoids a random subset, so the fitting runs must draw from a reduced pool
(see ``synthetic.SyntheticConfig.holdout_train``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mini_lib.core.errors import ConfigError, check_fraction
from mini_lib.papers.gptfluence.gptdynamics import Run


@dataclass(frozen=True)
class RunSplit:
    """Runs for fitting, for early stopping, and held out for the reported metrics."""

    fit: list[Run]
    val: list[Run]
    test: list[Run]


@dataclass(frozen=True)
class ExampleSplit:
    """Training and test example ids seen while fitting, and those held out."""

    seen_train: list[int]
    unseen_train: list[int]
    seen_test: list[int]
    unseen_test: list[int]


def split_runs(runs: Sequence[Run], n_fit: int = 25, n_val: int = 2, n_test: int = 5) -> RunSplit:
    """The paper's run split, in run order (25 / 2 / 5 of 32)."""
    if n_fit < 1 or n_val < 0 or n_test < 1 or n_fit + n_val + n_test > len(runs):
        raise ConfigError(f"n_fit={n_fit}, n_val={n_val}, n_test={n_test} do not fit in {len(runs)} runs")
    runs = list(runs)
    return RunSplit(fit=runs[:n_fit], val=runs[n_fit : n_fit + n_val], test=runs[n_fit + n_val : n_fit + n_val + n_test])


def split_examples(
    train_ids: Sequence[int],
    test_ids: Sequence[int],
    *,
    unseen_train_fraction: float = 0.0,
    unseen_test_fraction: float = 0.0,
    seed: int = 0,
) -> ExampleSplit:
    """Draw the held-out training and test examples at random (fixed by ``seed``)."""
    check_fraction("unseen_train_fraction", unseen_train_fraction, allow_one=False)
    check_fraction("unseen_test_fraction", unseen_test_fraction, allow_one=False)
    rng = np.random.default_rng(seed)
    seen_train, unseen_train = _draw(list(train_ids), unseen_train_fraction, rng)
    seen_test, unseen_test = _draw(list(test_ids), unseen_test_fraction, rng)
    return ExampleSplit(seen_train, unseen_train, seen_test, unseen_test)


def runs_within(runs: Sequence[Run], allowed_train_ids: Sequence[int]) -> list[Run]:
    """Runs that train only on ``allowed_train_ids`` (usable for fitting when the rest is held out)."""
    allowed = set(allowed_train_ids)
    return [r for r in runs if all(i in allowed for batch in r.batches for i in batch)]


def runs_touching(runs: Sequence[Run], train_ids: Sequence[int]) -> list[Run]:
    """Runs that train on at least one of ``train_ids`` (where held-out training examples act)."""
    wanted = set(train_ids)
    return [r for r in runs if any(i in wanted for batch in r.batches for i in batch)]


def _draw(ids: list[int], fraction: float, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    n_out = int(round(fraction * len(ids)))
    out = set(rng.choice(ids, size=n_out, replace=False).tolist()) if n_out else set()
    return [i for i in ids if i not in out], [i for i in ids if i in out]
