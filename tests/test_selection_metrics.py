"""Selection metrics: kept-set precision/recall, AUROC, over-scaling, equal-token-budget epochs."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.metrics import (
    equal_token_budget_epochs,
    over_scaling,
    scorer_auroc,
    scorer_of_auroc,
    selection_quality,
)


def test_selection_quality_counts():
    is_good = np.array([True, True, True, False, False, True, False, True])  # 5 clean, 3 bad
    q = selection_quality(np.array([0, 1, 3, 5]), is_good)
    assert (q.n_kept, q.n_clean_kept, q.n_clean, q.n_low_quality) == (4, 3, 5, 3)
    assert q.precision == pytest.approx(0.75)
    assert q.clean_kept == pytest.approx(0.6)
    assert q.low_quality_removed == pytest.approx(2 / 3)
    assert np.isnan(selection_quality(np.array([0]), np.array([True, True])).low_quality_removed)


def test_scorer_auroc_matches_sklearn_including_ties():
    rng = np.random.default_rng(0)
    labels = rng.random(300) < 0.4
    scores = np.round(rng.normal(labels * 0.8, 1.0), 1)  # rounding creates ties
    assert scorer_auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert scorer_auroc(np.array([3.0, 2.0, 1.0]), np.array([1, 1, 0])) == 1.0
    assert scorer_auroc(np.array([1.0, 1.0]), np.array([True, False])) == 0.5


@pytest.mark.parametrize("target", [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
def test_synthetic_scorer_hits_its_target_auroc(target):
    labels = np.random.default_rng(1).random(400) < 0.7  # the cpu corpus: 400 rows, 70% clean
    scores = scorer_of_auroc(labels, target, seed=3)
    assert roc_auc_score(labels, scores) == pytest.approx(target, abs=0.002)
    again = scorer_of_auroc(labels, target, seed=3)
    assert np.array_equal(scores, again)  # same seed, same scorer
    assert not np.array_equal(scores, scorer_of_auroc(labels, target, seed=4))


def test_synthetic_scorer_rejects_targets_outside_chance_to_perfect():
    for bad in (0.49, 1.01):
        with pytest.raises(ConfigError, match="target_auroc"):
            scorer_of_auroc(np.array([True, False, True]), bad)


def test_over_scaling_formula_and_direction():
    # Accuracy (higher is better): small 40, large full 50, large on subset 53.3 -> +33%.
    assert over_scaling(53.3, 50.0, 40.0) == pytest.approx(33.0)
    assert over_scaling(50.0, 50.0, 40.0) == 0.0
    # Loss (lower is better): small 3.0, full 2.5, subset 2.6 -> worse than full data: -20%.
    assert over_scaling(2.6, 2.5, 3.0) == pytest.approx(-20.0)
    with pytest.raises(ConfigError, match="zero"):
        over_scaling(1.0, 2.0, 2.0)
    with pytest.raises(ConfigError, match="finite"):
        over_scaling(float("nan"), 2.0, 1.0)


def test_equal_token_budget_epochs():
    assert equal_token_budget_epochs(200, 1000) == 5.0
    assert equal_token_budget_epochs(1000, 1000) == 1.0
    assert equal_token_budget_epochs(300, 1000) == pytest.approx(10 / 3)
    for bad in ((0, 10), (10, -1), (1.5, 10), (True, 10)):
        with pytest.raises(ConfigError, match="positive integer"):
            equal_token_budget_epochs(*bad)


def test_bad_labels_and_indices_are_config_errors():
    with pytest.raises(ConfigError, match="both clean and low-quality"):
        scorer_auroc(np.array([1.0, 2.0]), np.array([True, True]))
    with pytest.raises(ConfigError, match="length"):
        scorer_auroc(np.array([1.0, 2.0, 3.0]), np.array([True, False]))
    with pytest.raises(ConfigError, match="booleans"):
        selection_quality(np.array([0]), np.array([0.5, 1.0]))
    with pytest.raises(ConfigError, match="lie in"):
        selection_quality(np.array([5]), np.array([True, False]))
    with pytest.raises(ConfigError, match="distinct"):
        selection_quality(np.array([0, 0]), np.array([True, False]))
