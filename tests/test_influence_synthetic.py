"""The synthetic dynamics follow the paper's batching and the simulators' equations."""

from collections import Counter

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.synthetic import SyntheticConfig, roll_out, synthetic_task


def test_batches_are_sampled_like_gptdynamics():
    data = synthetic_task(SyntheticConfig(n_test=3, n_runs=2, holdout_train=40, holdout_runs=1, seed=0))
    for run in data.task.runs:
        assert run.n_steps == 96 and all(len(b) == 4 for b in run.batches)  # 128 examples, batch 4, 3 epochs
        counts = Counter(i for b in run.batches for i in b)
        assert len(counts) == 128 and set(counts.values()) == {3}
        epochs = [sorted(i for b in run.batches[e * 32 : (e + 1) * 32] for i in b) for e in range(3)]
        assert epochs[0] == epochs[1] == epochs[2]
    first, last = ({i for b in r.batches for i in b} for r in data.task.runs)
    assert not first & set(data.holdout_train_ids) and last & set(data.holdout_train_ids)
    assert data.task.runs[0].first_step == 0 and data.task.runs[0].trajectories["loss"].shape == (3, 97)


def test_trajectories_follow_the_equations():
    data = synthetic_task(SyntheticConfig(order=2, n_train=30, n_sampled=16, n_test=2, n_runs=1, include_initial=False, seed=4))
    run = data.task.runs[0]
    assert run.first_step == 1 and run.trajectories["loss"].shape == (2, run.n_steps)
    v = roll_out(run.batches, data.A, data.B, np.array([2.0, 3.0]))
    t = 5
    batch = run.batches[t - 1]
    expected = data.A[batch, :, 0].sum(0) * v[:, t - 1] + data.A[batch, :, 1].sum(0) * v[:, t - 2] + data.B[batch].sum(0)
    np.testing.assert_allclose(v[:, t], expected)
    # history before step 0 repeats the first value
    b1 = run.batches[0]
    np.testing.assert_allclose(v[:, 1], (data.A[b1].sum(0) * v[:, :1]).sum(1) + data.B[b1].sum(0))


def test_low_intrinsic_dimension_features():
    data = synthetic_task(SyntheticConfig(feature_dim=32, intrinsic_dim=4, n_test=10, n_runs=1, seed=0))
    assert data.train_features.shape == (200, 32)
    assert np.linalg.matrix_rank(data.train_features[:, 1:]) == 4  # the first coordinate is the constant 1
    assert np.linalg.matrix_rank(synthetic_task(SyntheticConfig(feature_dim=32, n_runs=1)).train_features) == 32


def test_bad_settings_raise():
    with pytest.raises(ConfigError, match="form"):
        synthetic_task(SyntheticConfig(form="tracin"))
    with pytest.raises(ConfigError, match="order"):
        synthetic_task(SyntheticConfig(form="simfluence", order=2))
    with pytest.raises(ConfigError, match="intrinsic_dim"):
        synthetic_task(SyntheticConfig(feature_dim=8, intrinsic_dim=9))
    with pytest.raises(ConfigError, match="n_sampled"):
        synthetic_task(SyntheticConfig(n_train=100, holdout_train=50, n_sampled=64))
