"""GPTfluence recovers synthetic dynamics made by its own equations and generalises to unseen training data."""

import numpy as np
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.analysis import score_simulator
from mini_lib.papers.gptfluence.detection import detection_curve
from mini_lib.papers.gptfluence.gptdynamics import Run
from mini_lib.papers.gptfluence.gptfluence import FitConfig, GPTfluenceConfig, GPTfluenceSimulator
from mini_lib.papers.gptfluence.simfluence import Simfluence
from mini_lib.papers.gptfluence.splits import split_runs
from mini_lib.papers.gptfluence.synthetic import SyntheticConfig, synthetic_task

SMALL = dict(n_train=100, n_sampled=64, n_test=12, n_runs=16, noise=0.005)  # 48 steps per run
FAST = FitConfig(max_steps=300, batch_size=256, eval_every=50)


def _simulator(data, **config) -> GPTfluenceSimulator:
    return GPTfluenceSimulator(data.task.train_ids, data.train_features, data.task.test_ids, data.test_features, GPTfluenceConfig(**config))


def _scores(simulate, runs):
    return score_simulator([simulate(r) for r in runs], [r.trajectories["loss"] for r in runs])


def _feature_free_mse(split) -> float:
    """Baseline: every training example replaced by one average example (a per-test-example Simfluence)."""

    def blind(run: Run) -> Run:
        return Run(run.run_id, [[0] * len(b) for b in run.batches], run.trajectories, run.test_ids, run.first_step)

    model = Simfluence().fit([blind(r) for r in split.fit])
    return _scores(lambda r: model.simulate(blind(r)), split.test).mse.mean


@pytest.fixture(scope="module")
def bilinear():
    data = synthetic_task(SyntheticConfig(seed=0, **SMALL))
    return data, split_runs(data.task.runs, 11, 2, 3)


def test_recovers_factors_of_its_own_equations(bilinear):
    data, split = bilinear
    sim = _simulator(data, n_layers=1)  # the linear projections of the paper's equations
    report = sim.fit(split.fit, split.val, config=FAST)
    A, B = sim.factors()
    assert A.shape == (100, 12, 1) and B.shape == (100, 12)
    assert np.corrcoef(A.ravel(), data.A.ravel())[0, 1] > 0.9
    assert np.corrcoef(B.ravel(), data.B.ravel())[0, 1] > 0.8
    scores = _scores(sim.simulate, split.test)
    assert scores.mse.mean < 0.1 * _feature_free_mse(split) and scores.mse.mean < 1e-3
    assert scores.spearman > 0.9
    assert report.best_val_mse == pytest.approx(sim._rollout_mse(split.val, "loss"), rel=1e-5)  # best state restored


def test_official_mlp_projections_fit_too(bilinear):
    data, split = bilinear
    sim = _simulator(data)  # 2-layer MLPs, separate sides
    sim.fit(split.fit, split.val, config=FAST)
    scores = _scores(sim.simulate, split.test)
    assert scores.mse.mean < 0.3 * _feature_free_mse(split) and scores.spearman > 0.9


def test_generalises_to_unseen_training_examples_where_simfluence_cannot():
    config = SyntheticConfig(seed=1, holdout_train=25, holdout_runs=3, alpha_spread=0.03, beta_spread=0.03, **SMALL)
    data = synthetic_task(config)
    split = split_runs(data.task.runs, 11, 2, 3)
    assert all(set(data.holdout_train_ids) & {i for b in r.batches for i in b} for r in split.test)
    simfluence = Simfluence().fit(split.fit)
    with pytest.raises(ConfigError):
        simfluence.simulate(split.test[0])
    baseline = _scores(lambda r: simfluence.simulate(r, unseen="mean"), split.test)
    sim = _simulator(data, n_layers=1)
    sim.fit(split.fit, split.val, config=FAST)
    scores = _scores(sim.simulate, split.test)
    assert scores.mse.mean < 0.1 * baseline.mse.mean and scores.spearman > 0.9


def test_second_order_dynamics_need_a_second_order_simulator():
    data = synthetic_task(SyntheticConfig(order=2, seed=2, **SMALL))
    split = split_runs(data.task.runs, 11, 2, 3)
    mse = {}
    for order in (1, 2):
        sim = _simulator(data, order=order, n_layers=1)
        sim.fit(split.fit, split.val, config=FAST)
        mse[order] = _scores(sim.simulate, split.test).mse.mean
    assert mse[2] < 0.8 * mse[1] and mse[2] < 5e-4


def test_self_influence_finds_planted_flipped_examples():
    data = synthetic_task(SyntheticConfig(flip_fraction=0.4, seed=0, **SMALL))
    split = split_runs(data.task.runs, 11, 2, 3)
    sim = _simulator(data)
    sim.fit(split.fit, split.val, config=FAST)
    scores = sim.self_influence()
    assert scores.shape == (100,)
    curve = detection_curve(scores, data.train_flipped)
    assert curve.found_at(0.4) > 0.6 and curve.area() > 0.6  # a random order: 0.4 and 0.5


def test_forward_agrees_with_factor_rollout_and_is_seeded():
    data = synthetic_task(SyntheticConfig(n_train=20, n_sampled=8, n_test=3, n_runs=2, seed=3))
    runs = data.task.runs
    a, b = _simulator(data, order=3), _simulator(data, order=3)
    a.fit(runs, config=FitConfig(max_steps=5))
    b.fit(runs, config=FitConfig(max_steps=5))
    np.testing.assert_array_equal(a.factors()[0], b.factors()[0])
    batch_index, test_index, history, target = a._transitions(runs[:1], "loss")
    with torch.no_grad():
        one_step = a.model(a.train_features, a.test_features, batch_index, test_index, history).numpy()
    A, B = a.factors()
    values, expected = runs[0].trajectories["loss"], []
    for k in range(3):
        for c, batch in enumerate(runs[0].transition_batches(), start=1):
            hist = [values[k, max(c - j, 0)] for j in (1, 2, 3)]
            expected.append((A[batch, k].sum(0) * hist).sum() + B[batch, k].sum())
    np.testing.assert_allclose(one_step, expected, rtol=1e-4, atol=1e-5)


def test_bad_inputs_raise():
    data = synthetic_task(SyntheticConfig(n_train=20, n_sampled=8, n_test=3, n_runs=1, seed=3))
    with pytest.raises(ConfigError, match="one row per id"):
        GPTfluenceSimulator(data.task.train_ids, data.train_features[:5], data.task.test_ids, data.test_features)
    with pytest.raises(ConfigError, match="order"):
        _simulator(data, order=0)
    sim = _simulator(data)
    with pytest.raises(ConfigError, match="no features for test ids"):
        sim.factors(test_ids=[12345])
    with pytest.raises(ConfigError, match="schedule"):
        sim.fit(data.task.runs, config=FitConfig(schedule="linear"))
    with pytest.raises(ConfigError, match="fit first"):
        sim.self_influence()
