"""The paper's simulator metrics and run/example splits, on cases worked out by hand."""

import math
import warnings

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.analysis import all_steps_errors, final_step_spearman, score_simulator
from mini_lib.papers.gptfluence.gptdynamics import Run
from mini_lib.papers.gptfluence.splits import runs_touching, runs_within, split_examples, split_runs

PRED = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
TRUE = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, -1.0]])


def test_all_steps_errors_skip_the_given_start():
    mse, mae = all_steps_errors(PRED, TRUE)  # errors (1, 2) and (-1, 1)
    np.testing.assert_allclose(mse, [2.5, 1.0])
    np.testing.assert_allclose(mae, [1.5, 1.0])
    mse0, mae0 = all_steps_errors(PRED, TRUE, skip=0)
    np.testing.assert_allclose(mse0, [5 / 3, 2 / 3])
    np.testing.assert_allclose(mae0, [1.0, 2 / 3])
    with pytest.raises(ConfigError):
        all_steps_errors(PRED, TRUE[:, :2])


def test_final_step_spearman_is_a_per_run_average():
    perfect = (np.array([[0, 1.0], [0, 2.0], [0, 3.0]]), np.array([[0, 10.0], [0, 20.0], [0, 30.0]]))
    reversed_ = (np.array([[0, 1.0], [0, 2.0], [0, 3.0]]), np.array([[0, 3.0], [0, 2.0], [0, 1.0]]))
    one_swap = (np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([[1.0], [3.0], [2.0], [4.0]]))  # rho = 1 - 6*2/60
    assert final_step_spearman([perfect[0]], [perfect[1]]) == pytest.approx(1.0)
    assert final_step_spearman([perfect[0], reversed_[0]], [perfect[1], reversed_[1]]) == pytest.approx(0.0)
    assert final_step_spearman([perfect[0], one_swap[0]], [perfect[1], one_swap[1]]) == pytest.approx((1.0 + 0.8) / 2)


def test_a_run_whose_final_values_are_all_equal_has_no_rho_and_no_warning():
    ranked = np.array([[0, 1.0], [0, 2.0], [0, 3.0]])
    flat = np.array([[0, 0.0], [0, 0.0], [0, 0.0]])  # ROUGE-L 0 for every test example
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's ConstantInputWarning would fail here
        assert math.isnan(final_step_spearman([ranked], [flat]))
        assert math.isnan(final_step_spearman([flat], [ranked]))
        assert math.isnan(final_step_spearman([ranked, ranked], [ranked, flat]))  # one undefined run: no average
        assert final_step_spearman([ranked], [ranked]) == pytest.approx(1.0)


def test_score_simulator_pools_trajectories_and_averages_rho_over_runs():
    pred2, true2 = np.array([[5.0, 5.0, 6.0], [1.0, 1.0, 0.0]]), np.array([[5.0, 5.0, 5.0], [1.0, 1.0, 1.0]])
    scores = score_simulator([PRED, pred2], [TRUE, true2])
    mse = np.array([2.5, 1.0, 0.5, 0.5])
    mae = np.array([1.5, 1.0, 0.5, 0.5])
    assert scores.mse.mean == pytest.approx(mse.mean()) and scores.mse.std == pytest.approx(mse.std())
    assert scores.mae.mean == pytest.approx(mae.mean()) and scores.mae.std == pytest.approx(mae.std())
    assert scores.spearman == pytest.approx((1.0 + 1.0) / 2)  # PRED (3, 0) vs TRUE (1, -1); pred2 (6, 0) vs (5, 1)
    assert (scores.n_trajectories, scores.n_runs) == (4, 2)
    assert str(scores.mse) == f"{mse.mean():.4g} ({mse.std():.4g})"


def _run(run_id, batches):
    return Run(run_id, batches, {"loss": np.zeros((1, len(batches) + 1))}, [99], first_step=0)


def test_splits():
    runs = [_run(f"r{i}", [[i, i + 1]]) for i in range(32)]
    split = split_runs(runs)
    assert (len(split.fit), len(split.val), len(split.test)) == (25, 2, 5)
    assert split.test[-1].run_id == "r31"
    with pytest.raises(ConfigError):
        split_runs(runs[:10])
    examples = split_examples(range(200), range(50), unseen_train_fraction=0.2, unseen_test_fraction=0.1, seed=3)
    assert len(examples.unseen_train) == 40 and len(examples.seen_train) == 160 and len(examples.unseen_test) == 5
    assert not set(examples.unseen_train) & set(examples.seen_train)
    assert examples == split_examples(range(200), range(50), unseen_train_fraction=0.2, unseen_test_fraction=0.1, seed=3)
    with pytest.raises(ConfigError, match="unseen_train_fraction"):
        split_examples(range(5), range(5), unseen_train_fraction=1.5)
    assert [r.run_id for r in runs_within(runs, range(4))] == ["r0", "r1", "r2"]
    assert [r.run_id for r in runs_touching(runs, [0, 31])] == ["r0", "r30", "r31"]
