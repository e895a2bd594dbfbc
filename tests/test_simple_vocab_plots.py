"""Notebook 02's power-law figure: every panel readable, also when an axis spans less than a decade."""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import pandas as pd  # noqa: E402

from mini_lib.core.scaling import fit_power_law  # noqa: E402
from mini_lib.papers.simplified_vocab.analysis import ScalingFits  # noqa: E402
from mini_lib.papers.simplified_vocab.plots import plot_power_laws  # noqa: E402


def _points(column: str, low: float, high: float) -> pd.DataFrame:
    x = np.geomspace(low, high, 4)
    return pd.DataFrame({column: x, "val_loss": 3.0 * (x / low) ** -0.1, "frontier": True})


def _drawn_power_laws(n_span: tuple, d_span: tuple, c_span: tuple):
    """The power-law figure of points spread over these spans of N, D and C, drawn."""
    n, d, c = _points("non_embedding", *n_span), _points("tokens", *d_span), _points("flops", *c_span)
    fits = ScalingFits(fit_power_law(n.non_embedding, n.val_loss), fit_power_law(d.tokens, d.val_loss),
                       fit_power_law(c.flops, c.val_loss), n, d, c)
    fig = plot_power_laws(fits)
    fig.canvas.draw()
    return fig


def test_every_axis_of_the_power_law_figure_has_labelled_ticks():
    fig = _drawn_power_laws((2e4, 1e5), (3e5, 1.2e6), (4e9, 3e10))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):  # every span here is under a decade: no ticks of the log axis's own
            labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            assert len(labels) >= 3, f"{ax.get_title()}: {axis.axis_name} axis has {labels}"
    assert [t.get_text() for t in fig.axes[1].xaxis.get_ticklabels()][0].endswith("k")  # tokens as 379k, not 3.79e+05


def _gaps(axis) -> list[float]:
    """The space between neighbouring tick labels of ``axis``, in label heights."""
    boxes = [t.get_window_extent() for t in axis.get_ticklabels() if t.get_text()]
    if axis.axis_name == "x":
        boxes.sort(key=lambda b: b.x0)
        return [(b.x0 - a.x1) / a.height for a, b in zip(boxes, boxes[1:])]
    boxes.sort(key=lambda b: b.y0)
    return [(b.y0 - a.y1) / a.height for a, b in zip(boxes, boxes[1:])]


def test_power_law_tick_labels_never_run_into_each_other():
    # spans like a cpu run's: N over 1.5 decades, where five labels such as 142.2k and 267.0k nearly touched
    fig = _drawn_power_laws((2.5e4, 7.9e5), (4.9e4, 2e5), (5e9, 2e12))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert min(_gaps(axis)) >= 2, f"{ax.get_title()}: {axis.axis_name} tick labels crowd: {_gaps(axis)}"


def _curves() -> pd.DataFrame:
    return pd.DataFrame([{"data": data, "hidden": h, "layers": layers, "tokens": t, "val_loss": 5 - h / 100 + layers / 50 - t / 1e5}
                         for data in ("simple", "unrestricted") for h in (32, 64, 128) for layers in (2, 4)
                         for t in (2e4, 4e4, 8e4)])


def test_loss_curves_tell_depths_apart_and_keep_the_legend_off_the_curves():
    from mini_lib.papers.simplified_vocab.plots import plot_loss_curves

    fig = plot_loss_curves(_curves())
    fig.canvas.draw()
    assert [ax.get_title().split(", ")[1] for ax in fig.axes] == ["simple data", "unrestricted data"]
    for ax in fig.axes:
        assert ax.get_legend() is None and len(ax.lines) == 6
        styles = {(line.get_linestyle(), line.get_marker()) for line in ax.lines}
        assert len(styles) == 2, f"2 and 4 layers must look different, got {styles}"
    legend, = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["hidden 32", "hidden 64", "hidden 128", "2 layers", "4 layers"]
    renderer = fig.canvas.get_renderer()
    assert all(legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0 for ax in fig.axes)


def test_zero_shot_figure_shows_where_a_guessing_model_lands():
    from mini_lib.papers.simplified_vocab.plots import plot_zero_shot_per_task

    own = pd.DataFrame([{"task": task, "n": 64, "acc": 0.3, "chance": 0.5, "data": data, "parameters": p}
                        for task in ("a", "b") for data in ("simple", "unrestricted") for p in (1e5, 4e5)])
    fig = plot_zero_shot_per_task(own)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    for ax in visible:
        band, = ax.patches
        low, high = band.get_y(), band.get_y() + band.get_height()
        assert (low, high) == (pytest.approx(0.5 - 2 * 0.5 / 8), pytest.approx(0.5 + 2 * 0.5 / 8))  # chance +- 2 SE, n=64
        assert ax.get_ylim()[0] < 0.3  # a point below the band is shown, not clipped
    assert "chance" in [t.get_text() for t in fig.legends[0].get_texts()]
