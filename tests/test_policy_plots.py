"""Notebook 05's figures come from the library: each one a figure with labelled axes, the policy image
ticked at round steps, and the two-panel figures sharing one legend under both panels."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mini_lib.papers.optimal_learning import experiment as ex  # noqa: E402
from mini_lib.papers.optimal_learning import plots  # noqa: E402
from tests.test_policy_experiment import TINY  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def perceptron():
    return ex.perceptron_experiment(TINY)


@pytest.fixture(scope="module")
def figures(perceptron):
    numbers = ex.headline(perceptron, active_threshold=TINY.active_threshold, zero_threshold=TINY.zero_threshold)
    contributions = ex.contributions_frame(perceptron, active_threshold=TINY.active_threshold)
    ident = pd.DataFrame({"T": [10, 20, 40], "B": [1.0, 2.0, 3.0], "B_low": [0.5, 1.5, 2.5], "B_high": [1.5, 2.5, 3.5],
                          "beta": [0.3, 0.4, 0.5], "beta_low": [0.2, 0.3, 0.4], "beta_high": [0.4, 0.5, 0.6]})
    curves = pd.DataFrame({"step": [1, 2, 1, 2], "val_loss": [3.0, 2.0, 3.1, 2.1], "scheme": ["uniform"] * 2 + ["learned"] * 2})
    return {
        "objective": plots.objective(perceptron, "t"),
        "curves": plots.curves(perceptron, numbers, "t"),
        "policy_image": plots.policy_image(perceptron, "t"),
        "weights": plots.weights(perceptron, "t", zero_threshold=TINY.zero_threshold),
        "similarity": plots.similarity(perceptron, "t", active_threshold=TINY.active_threshold),
        "contribution_spread": plots.contribution_spread(contributions, "t"),
        "fits": plots.fits(perceptron, "t"),
        "identifiability": plots.identifiability(ident, 16, "t"),
        "contribution_vs_weight": plots.contribution_vs_weight(contributions, "t"),
        "retrain_curves": plots.retrain_curves(curves),
    }


def test_every_figure_labels_its_axes(figures):
    for name, fig in figures.items():
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        assert panels, name
        for ax in panels:
            assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: unlabelled axis"


def test_policy_image_is_ticked_at_round_steps(perceptron):
    steps = ex.policy_matrix(perceptron).columns.to_numpy()
    assert list(steps) == list(range(TINY.perceptron_steps))  # 16 columns, steps 0..15
    ax = plots.policy_image(perceptron, "t").axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0", "5", "10", "15"]  # round steps, not np.linspace's columns 0, 4, 8, 11, 15
    assert list(ax.get_xticks()) == [0, 5, 10, 15]  # each label on its step's column


@pytest.mark.parametrize("name", ["weights", "similarity", "identifiability"])
def test_two_panel_figures_share_one_legend_under_both_panels(figures, name):
    fig = figures[name]
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert len(legend.get_texts()) >= 2
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert all(legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0 for ax in fig.axes)
