"""Notebook 05's reading aids: the paper's set-up beside a profile's, the takeaway read from the run, readable
fit tables, and how far a run's contributions are from the Learning Law's one spike at 1."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from mini_lib.lab.profiles import NOTEBOOK_PROFILES
from mini_lib.papers.optimal_learning import experiment as ex
from mini_lib.papers.optimal_learning import plots
from mini_lib.papers.optimal_learning.paper import OFFICIAL_SETUP, setup_table, takeaway
from tests.test_policy_experiment import TINY

pytestmark = pytest.mark.usefixtures("one_thread")


def _numbers(setting: str, speedup: float, speedup_test: float, **extra) -> dict:
    return {"setting": setting, "steps": 500, "n_train": 4096, "outer_epochs": 5, "outer_lr": 0.25,
            "auc_conventional": 0.24, "auc_optimised": 0.17, "cr_conventional": 2.89, "cr_optimised": 4.11,
            "speedup": speedup, "speedup_lower_bound": False, "speedup_test": speedup_test,
            "speedup_test_lower_bound": False, "long_run_steps": 10000, "snr_conventional_median_late": 0.08,
            "snr_optimised_median_late": 0.31, **extra}


def test_setup_table_puts_the_official_schedule_beside_the_profiles():
    cpu = NOTEBOOK_PROFILES["05_optimal_learning"]["cpu"]
    table = setup_table(cpu).set_index(["setting", "run"])
    official = table.loc[("Perceptron", "paper (official)")]
    assert (official["outer epochs"], official["outer lr"], official["T"]) == (500, 0.001, 2000)
    ours = table.loc[("Perceptron", "this profile")]
    assert (ours["outer epochs"], ours["outer lr"], ours["T"]) == (cpu.perceptron_epochs, cpu.perceptron_outer_lr,
                                                                   cpu.perceptron_steps)
    lm = table.loc[("Transformer LM", "this profile")]
    assert (lm["outer epochs"], lm["outer lr"], lm["N"]) == (cpu.lm_epochs, cpu.lm_outer_lr, cpu.lm_n_train)
    assert table.loc[("Transformer LM", "paper (official)"), "outer epochs"] == OFFICIAL_SETUP["tiny_lm"]["outer epochs"]


def test_takeaway_reads_numbers_and_directions_from_the_run():
    perceptron = _numbers("perceptron", 3.66, 0.70)
    lm = _numbers("tiny_lm", 1.42, 1.10, zero_weight={"threshold": 0.1, "precision": 0.95, "recall": 0.8,
                                                      "mean_weight_marked": 0.23, "mean_weight_unmarked": 1.77})
    text = takeaway(perceptron, lm, lr_schedule="linear",
                    retrain={"uniform": 4.83, "learned policy": 4.85, "drop perturbed (oracle)": 4.85})
    perceptron_lines = text.split("Transformer LM:")[0]
    assert "outer lr 0.25 for 5 outer epochs, decaying linearly" in perceptron_lines
    assert "outer lr 0.001 for 500 full-batch outer epochs" in perceptron_lines
    assert "3.66x (ahead) on the desired set" in perceptron_lines
    assert "0.70x (behind" in perceptron_lines and "held-out test set" in perceptron_lines
    assert "0.08, optimised 0.31 (more equal" in perceptron_lines
    assert "0.23 against 1.77 for clean rows, 0.13 of a clean row's weight" in text  # the ratio, not 0.23
    assert "95% are perturbed" in text and "80% of the perturbed rows" in text
    assert "lowest: uniform, the highest 0.4% above it" in text
    worse = takeaway(_numbers("perceptron", 0.9, 0.9, cr_optimised=2.0, snr_optimised_median_late=0.01),
                     lm, lr_schedule="constant")
    assert "did not lower the area" in worse and "not more equal" in worse and "constant" in worse
    assert "Reweighting" not in worse


def test_readable_tables_show_significant_digits_and_ranges():
    numbers = {f"fit_{run}": {"B": b, "beta": 0.0746640, "L0": 0.0, "t0": 2, "B_range": [7.919086, b],
                              "identifiable": False}
               for run, b in (("conventional", 1913127465606.430908), ("optimised", 3.16227766))}
    table = ex.fit_table(numbers)
    assert table.loc["conventional", "B"] == "1.91e+12" and table.loc["optimised", "B"] == "3.16"
    assert table.loc["conventional", "B_range"] == "7.92 to 1.91e+12"
    assert table.loc["optimised", "beta"] == "0.0747" and table.loc["optimised", "t0"] == 2
    assert not table.loc["optimised", "identifiable"]
    assert ex.readable(pd.DataFrame()).empty


def test_spread_summary_counts_active_examples_near_the_mean_near_zero_and_below_zero():
    relative = [1.0, 1.2, 0.1, -0.2, 3.0, 0.9, 1.1, 5.0]
    frame = pd.DataFrame({"step": [0, 0, 4, 4, 4, 4, 4, 4], "run": ["conventional"] * 6 + ["optimised"] * 2,
                          "active": [True] * 5 + [False, True, True], "relative_ct": relative,
                          "ct": relative})
    table = ex.spread_summary(frame)  # step 0 is the first half and step 4's inactive row is left out
    assert table.loc["conventional"].tolist() == [3, 0.0, pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert table.loc["optimised"].tolist() == [2, 0.5, 0.0, 0.0]


def test_contribution_spread_marks_the_learning_laws_prediction_under_the_panel():
    perceptron = ex.perceptron_experiment(TINY)
    fig = plots.contribution_spread(ex.contributions_frame(perceptron, active_threshold=TINY.active_threshold), "t")
    (ax,) = fig.axes
    assert ax.get_legend() is None
    (legend,) = fig.legends
    labels = [text.get_text() for text in legend.get_texts()]
    assert any(label.startswith("Learning Law") and "at 1" in label for label in labels)
    assert any(label.startswith("conventional") for label in labels) and any(label.startswith("optimised") for label in labels)
    assert any(np.allclose(line.get_xdata(), 1) for line in ax.get_lines())  # the law's x = 1, drawn
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0


def test_fit_plot_labels_the_loss_axis_in_plain_numbers():
    fig = plots.fits(ex.perceptron_experiment(TINY), "t")
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels() + ax.get_yticklabels(minor=True) if t.get_text()]
    assert len(labels) >= 3 and not any("times" in label or "^" in label for label in labels)
    steps = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "10" in steps and not any("times" in label or "^" in label for label in steps)
    assert plots._loss_ticks(pd.Series([0.095, 0.72])) == pytest.approx([0.1, 0.2, 0.3, 0.5])
    assert plots._loss_ticks(pd.Series([5.27, 6.35])) == pytest.approx([5.4, 5.6, 5.8, 6.0, 6.2])
