"""Notebook 04's figures: the later steps readable, legends off the curves, tick labels that never meet."""

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mini_lib.papers.gptfluence.experiment import SIGNAL_SOURCES, score_runs  # noqa: E402
from mini_lib.papers.gptfluence.gptdynamics import Run  # noqa: E402
from mini_lib.papers.gptfluence.planted import PlantedStudy  # noqa: E402
from mini_lib.papers.gptfluence.plots import planted_figure, signal_figure, true_trajectories, true_vs_simulated  # noqa: E402


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


# ---- the figures drawn from the notebook's tables: legends off the data, tick labels apart ----

def _boxes(fig, texts):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]


def _apart(boxes) -> bool:
    return not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])


def _below_or_beside_every_panel(fig, legend) -> bool:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    return not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)


def test_true_trajectories_colour_test_examples_and_name_them_under_the_panels():
    steps = np.arange(9)
    runs = [Run(f"run_{r}", [[0]] * 8, {"loss": np.stack([5 - steps / (4 + r), 5 - steps / (6 + r)]),
                                        "bleu": np.stack([steps / 40, steps / 50])}, test_ids=[100, 101], first_step=0)
            for r in range(5)]
    task = SimpleNamespace(metrics=["loss", "bleu"], test_ids=[100, 101])
    collected = {"webnlg": SimpleNamespace(task=task, regular_runs=lambda: runs)}
    fig = true_trajectories(collected, n_runs=4, test_rows=[0, 1])
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert [len(ax.lines) for ax in fig.axes] == [8, 8]  # 4 runs x 2 test examples
    assert "test examples 100, 101" in fig.axes[0].get_title()
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["the first test example of its task", "the second test example of its task"]
    assert _below_or_beside_every_panel(fig, legend)


def _signal() -> pd.DataFrame:
    rows = []
    for task in ("sst2", "webnlg"):
        for setting in ("held-out runs", "runs with unseen training examples"):
            for source, explained in zip(SIGNAL_SOURCES, (0.0, 0.1, -595.0, 0.95, -0.4)):
                rows.append({"task": task, "setting": setting, "source": source, "explained": explained})
    return pd.DataFrame(rows)


def test_signal_panels_keep_their_tick_labels_apart_and_mark_clipped_bars():
    fig = signal_figure(_signal())
    left, right = fig.axes
    assert _apart(_boxes(fig, [*left.get_xticklabels(), *right.get_xticklabels()]))  # "1" and "-1" where the panels meet
    assert left.get_xlim()[0] >= -1.1 and left.get_xlim()[1] <= 1.1
    assert min(p.get_x() for p in left.patches) >= -1.0  # the -595 bar stops at the axis' end ...
    assert sum("-595 (clipped)" in t.get_text() for t in left.texts) == 2  # ... and says how far it goes, per setting
    assert [t.get_text() for t in left.get_yticklabels()] == list(SIGNAL_SOURCES)
    (legend,) = fig.legends
    assert _below_or_beside_every_panel(fig, legend)


def test_planted_figure_keeps_the_scatter_ticks_apart_and_its_legends_off_the_data():
    rng = np.random.default_rng(0)
    table = pd.DataFrame([{"setting": s, "method": m, "mse": 0.01 + 0.1 * rng.random(), "spearman": rng.random()}
                          for s in ("seen training examples", "unseen training examples")
                          for m in ("gptfluence", "simfluence", "mean trajectory")])
    planted = rng.normal(0, 0.02, 2000)
    factors = pd.DataFrame({"planted B": planted, "learned B": planted + rng.normal(0, 0.01, 2000),
                            "training example": np.where(np.arange(2000) < 1600, "seen", "unseen")})
    fig = planted_figure(PlantedStudy(table, factors, {}))
    scatter = fig.axes[2]
    assert _apart(_boxes(fig, scatter.get_xticklabels())) and _apart(_boxes(fig, scatter.get_yticklabels()))
    assert len(fig.legends) == 1 and _below_or_beside_every_panel(fig, fig.legends[0])
    assert _below_or_beside_every_panel(fig, scatter.get_legend())
    assert all(ax.get_legend() is None for ax in fig.axes[:2])
