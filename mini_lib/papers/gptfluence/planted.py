"""Planted influences: the featurised simulator where the answer is known by construction.

Before reading anything into GPTfluence on real fine-tuning runs we check it on dynamics made by its
own equations (``synthetic.synthetic_task``), with the same simulator settings and as few fitting
runs as the notebook's profile. ``PLANTED`` mimics MiniLM features (384 coordinates, a random image of
8 latent ones) and starts every test example at the same loss, so the final-step ranking of test
examples comes from the planted influences alone, not from how hard each test example was at step 0.
Some training examples never occur in the fitting runs; the last runs train on them. A simulator that
learnt how features map to influence scores those examples; a lookup table (Simfluence) can only give
them the average factors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.experiment import SimulatorSettings, fit_simfluence, mean_trajectory, score_runs
from mini_lib.papers.gptfluence.gptfluence import GPTfluenceSimulator
from mini_lib.papers.gptfluence.splits import runs_touching
from mini_lib.papers.gptfluence.synthetic import SyntheticConfig, synthetic_task

PLANTED = SyntheticConfig(
    n_train=100, n_sampled=64, n_test=24, holdout_train=20, holdout_runs=3, feature_dim=384, intrinsic_dim=8,
    alpha_spread=0.03, beta_spread=0.03, initial_low=3.0, initial_high=3.0, noise=0.005,
)
SETTINGS = ("seen training examples", "unseen training examples")


@dataclass
class PlantedStudy:
    """Scores on held-out runs (seen / unseen training examples) and the learned vs planted factors."""

    table: pd.DataFrame  # setting, method, mse, spearman, mse_by_run
    factors: pd.DataFrame  # train_id, test_id, training example ("seen" / "unseen"), planted B, learned B
    recovery: dict[str, float]  # Pearson r of learned vs planted B over (train, test) pairs, seen / unseen


def planted_study(config: SyntheticConfig = PLANTED, settings: SimulatorSettings | None = None, *, n_fit: int = 5,
                  n_val: int = 1, n_seen: int = 2, seed: int = 0) -> PlantedStudy:
    """Fit GPTfluence and Simfluence on ``n_fit`` runs of planted dynamics (``n_val`` more for early
    stopping); score both, and the mean trajectory, which ignores the batches, on ``n_seen`` more
    regular runs and on the ``config.holdout_runs`` runs with unseen training examples."""
    settings = settings or SimulatorSettings()
    if n_fit < 1 or n_val < 1 or n_seen < 1:
        raise ConfigError(f"n_fit, n_val and n_seen must be >= 1, got {n_fit}, {n_val}, {n_seen}")
    if not config.holdout_train or not config.holdout_runs:
        raise ConfigError("planted_study needs holdout_train > 0 and holdout_runs > 0 (runs with unseen training examples)")
    config = replace(config, seed=seed, n_runs=n_fit + n_val + n_seen + config.holdout_runs)
    data = synthetic_task(config)
    regular = data.task.runs[: config.n_runs - config.holdout_runs]
    fit, val, seen = regular[:n_fit], regular[n_fit : n_fit + n_val], regular[n_fit + n_val :]
    unseen = runs_touching(data.task.runs[len(regular):], data.holdout_train_ids)
    sim = GPTfluenceSimulator(data.task.train_ids, data.train_features, data.task.test_ids, data.test_features,
                              settings.gptfluence_config(), seed=settings.seed)
    sim.fit(fit, val, "loss", settings.fit)
    table_sim, _ = fit_simfluence(fit, val, "loss", settings.simfluence_l2)
    simulators = {"gptfluence": sim.simulate, "simfluence": lambda run: table_sim.simulate(run, unseen="mean"),
                  "mean trajectory": mean_trajectory(fit)}
    rows = []
    for setting, runs in zip(SETTINGS, (seen, unseen)):
        for method, simulate in simulators.items():
            result = score_runs(method, "loss", runs, {r.run_id: simulate(r) for r in runs})
            rows.append({"setting": setting, "method": method, "mse": result.scores.mse.mean, "spearman": result.scores.spearman,
                         "mse_by_run": list(result.run_mse.values())})
    _, learned = sim.factors()
    is_unseen = np.isin(data.task.train_ids, data.holdout_train_ids)
    factors = pd.DataFrame({
        "train_id": np.repeat(data.task.train_ids, len(data.task.test_ids)),
        "test_id": np.tile(data.task.test_ids, len(data.task.train_ids)),
        "training example": np.where(np.repeat(is_unseen, len(data.task.test_ids)), "unseen", "seen"),
        "planted B": data.B.ravel(), "learned B": learned.ravel(),
    })
    recovery = {kind: float(np.corrcoef(g["planted B"], g["learned B"])[0, 1]) for kind, g in factors.groupby("training example")}
    return PlantedStudy(pd.DataFrame(rows), factors, recovery)
