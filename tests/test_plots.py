"""Shared figures: what a reader sees (order, labels, ticks), checked on the figure objects."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from mini_lib.core import plots  # noqa: E402


def test_size_figure_orders_models_by_their_real_size_and_labels_each_size():
    curves = pd.DataFrame([{"preset": n, "step": s, "val_loss": 5.0 - s / 100, "flops": f * max(s, 1)}
                           for n, f in (("pythia-1m", 2e9), ("pythia-14m", 3e9), ("pythia-3m", 5e9)) for s in (0, 50, 100)])
    summary = pd.DataFrame({"preset": ["pythia-1m", "pythia-3m", "pythia-14m"], "parameters": [1.2e6, 2.5e6, 1.7e6],
                            "val_loss": [5.2, 4.4, 4.8]})
    fig = plots.loss_vs_size_and_compute(curves, summary)
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes]
    assert legends == [["pythia-1m", "pythia-14m", "pythia-3m"]] * 3  # 14m (1.7M) is smaller than 3m (2.5M) here
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["1.2M", "1.7M", "2.5M"]
    assert {ax.get_ylabel() for ax in fig.axes} == {"validation loss (nats/token)"}
    flops_labels = [t.get_text() for t in fig.axes[2].get_xticklabels(minor=True)]
    assert not any(flops_labels)  # no minor-tick labels to overlap


def test_image_steps_are_ticked_at_round_values_on_their_columns():
    import matplotlib.pyplot as plt
    import numpy as np

    steps = np.unique(np.linspace(0, 499, 200).round().astype(int))  # a 500-step policy drawn in 200 columns
    ax = plt.subplots()[1]
    ax.imshow(np.zeros((2, len(steps))), aspect="auto")
    plots.round_step_ticks(ax, steps)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "100", "200", "300", "400"]  # not 0, 125, 251, 374, 499
    columns = [np.interp(v, steps, np.arange(len(steps))) for v in (0, 100, 200, 300, 400)]
    assert np.allclose(ax.get_xticks(), columns) and np.allclose(columns, [0, 40, 80, 120, 160], atol=0.5)
