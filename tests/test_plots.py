"""Shared figures: what a reader sees (order, labels, ticks), checked on the figure objects."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from mini_lib import plots  # noqa: E402


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
