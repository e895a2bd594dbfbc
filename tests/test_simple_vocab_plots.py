"""Notebook 02's power-law figure: every panel readable, also when an axis spans less than a decade."""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mini_lib.core.scaling import fit_power_law  # noqa: E402
from mini_lib.papers.simplified_vocab.analysis import ScalingFits  # noqa: E402
from mini_lib.papers.simplified_vocab.plots import plot_power_laws  # noqa: E402


def _points(column: str, low: float, high: float) -> pd.DataFrame:
    x = np.geomspace(low, high, 4)
    return pd.DataFrame({column: x, "val_loss": 3.0 * (x / low) ** -0.1, "frontier": True})


def test_every_axis_of_the_power_law_figure_has_labelled_ticks():
    n, d, c = _points("non_embedding", 2e4, 1e5), _points("tokens", 3e5, 1.2e6), _points("flops", 4e9, 3e10)
    fits = ScalingFits(fit_power_law(n.non_embedding, n.val_loss), fit_power_law(d.tokens, d.val_loss),
                       fit_power_law(c.flops, c.val_loss), n, d, c)
    fig = plot_power_laws(fits)
    fig.canvas.draw()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):  # every span here is under a decade: no ticks of the log axis's own
            labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            assert len(labels) >= 3, f"{ax.get_title()}: {axis.axis_name} axis has {labels}"
    assert [t.get_text() for t in fig.axes[1].xaxis.get_ticklabels()][0].endswith("k")  # tokens as 379k, not 3.79e+05
