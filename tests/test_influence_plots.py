"""Notebook 04's true-vs-simulated figure: the later steps readable, the legend off the curves."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from mini_lib.papers.gptfluence.experiment import score_runs  # noqa: E402
from mini_lib.papers.gptfluence.gptdynamics import Run  # noqa: E402
from mini_lib.papers.gptfluence.plots import true_vs_simulated  # noqa: E402


def _run(loss: np.ndarray, bleu: np.ndarray) -> Run:
    steps = loss.shape[1] - 1
    return Run("run_0", [[0]] * steps, {"loss": loss, "bleu": bleu}, test_ids=[100, 101], first_step=0)


def _figure():
    steps = np.arange(49)
    loss = np.stack([10 * np.exp(-steps) + 1 + 0.2 * np.sin(steps / 3 + k) for k in range(2)])  # ~10 at step 0, then ~1
    bleu = np.stack([0.1 + 0.05 * np.sin(steps / 4 + k) for k in range(2)])  # nothing to cut
    run = _run(loss, bleu)
    results = {("simfluence", "loss"): score_runs("simfluence", "loss", [run], {"run_0": loss + 0.1}),
               ("tracin-cp", "loss"): score_runs("tracin-cp", "loss", [run], {"run_0": loss - 0.1}),
               ("simfluence", "bleu"): score_runs("simfluence", "bleu", [run], {"run_0": bleu + 0.01})}
    return true_vs_simulated(run, results, ["loss", "bleu"], rows=[0, 1], title="t"), loss, bleu


def test_the_step0_drop_is_cut_off_the_loss_axis_and_the_title_says_so():
    fig, loss, bleu = _figure()
    loss_axes, bleu_axes = fig.axes[:2], fig.axes[2:4]
    for ax, values in zip(loss_axes, loss):
        low, high = ax.get_ylim()
        assert high < 3 < values[0]  # step 0 (~11) is off the axis; the later steps (0.8-1.2) fill it
        assert low <= values[5:].min() and values[5:].max() <= high
        assert "y cut: steps < 5 reach 11" in ax.get_title()
    for ax, values in zip(bleu_axes, bleu):
        assert ax.get_ylim()[0] <= values.min() and values.max() <= ax.get_ylim()[1]
        assert "cut" not in ax.get_title()
    assert [ax.get_ylabel() for ax in fig.axes] == ["test loss", "test loss", "BLEU", "BLEU"]
    assert [ax.get_xlabel() for ax in fig.axes] == ["", "", "step", "step"]  # under the bottom row (shared x)


def test_one_legend_under_the_panels_names_every_source():
    fig, _, _ = _figure()
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["true", "simfluence", "tracin-cp"]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    assert all(box.y1 <= ax.get_window_extent(renderer).y0 for ax in fig.axes)  # below every panel, covers none
    assert [len(ax.lines) for ax in fig.axes] == [3, 3, 2, 2]  # TracIn-CP has no BLEU panel line


def test_a_method_keeps_its_colour_across_figures():
    fig, _, _ = _figure()
    loss_colours = _legend_colours(fig)
    steps = np.arange(9)
    run = _run(np.ones((2, 9)), np.stack([steps / 10.0, steps / 20.0]))
    simulated = {("simfluence", "bleu"): score_runs("simfluence", "bleu", [run], {"run_0": run.trajectories["bleu"]})}
    only_sim = true_vs_simulated(run, simulated, ["bleu"], rows=[0], title="t")
    assert _legend_colours(only_sim) == {k: loss_colours[k] for k in ("true", "simfluence")}


def _legend_colours(fig) -> dict:
    (legend,) = fig.legends
    return {text.get_text(): line.get_color() for text, line in zip(legend.get_texts(), legend.get_lines())}
