"""Simfluence recovers its own lookup table from synthetic runs and refuses examples it never saw."""

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.analysis import score_simulator
from mini_lib.papers.gptfluence.simfluence import Simfluence
from mini_lib.papers.gptfluence.splits import split_runs
from mini_lib.papers.gptfluence.synthetic import SyntheticConfig, synthetic_task

NOISE = 0.001


@pytest.fixture(scope="module")
def fitted():
    config = SyntheticConfig(form="simfluence", n_train=100, n_sampled=64, n_test=12, noise=NOISE, holdout_train=10, holdout_runs=5, seed=1)
    data = synthetic_task(config)
    split = split_runs(data.task.runs)  # 25 / 2 / 5; only the 5 held-out runs use the last 10 examples
    return data, split, Simfluence(l2=1e-3).fit(split.fit)


def test_recovers_the_table(fitted):
    data, split, model = fitted
    assert model.train_ids == list(range(90))  # the 10 held-out examples never occur in the fitting runs
    rows = model.train_ids
    assert np.corrcoef(model.A.ravel(), data.A[rows, :, 0].ravel())[0, 1] > 0.95
    assert np.corrcoef(model.B.ravel(), data.B[rows].ravel())[0, 1] > 0.95
    seen = split.val  # runs on seen examples only
    scores = score_simulator([model.simulate(r) for r in seen], [r.trajectories["loss"] for r in seen])
    assert scores.mse.mean < 10 * NOISE**2 and scores.spearman > 0.95


def test_unseen_training_examples_raise_or_get_the_average(fitted):
    data, split, model = fitted
    run = split.test[0]
    with pytest.raises(ConfigError, match="absent from its fitting runs"):
        model.simulate(run)
    guess = model.simulate(run, unseen="mean")
    assert guess.shape == run.trajectories["loss"].shape and np.isfinite(guess).all()
    with pytest.raises(ConfigError, match="unseen"):
        model.simulate(run, unseen="zero")


def test_unseen_test_examples_raise():
    data = synthetic_task(SyntheticConfig(form="simfluence", n_train=20, n_sampled=8, n_test=4, n_runs=3, seed=2))
    runs = data.task.runs
    model = Simfluence().fit([r.with_test_ids(runs[0].test_ids[:2]) for r in runs[:2]])
    with pytest.raises(ConfigError, match="test examples"):
        model.simulate(runs[2])
    with pytest.raises(ConfigError, match="metric"):
        model.simulate(runs[2].with_test_ids(runs[0].test_ids[:2]), metric="bleu")
