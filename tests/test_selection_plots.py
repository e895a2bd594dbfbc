"""Notebook 06's figures: every sampler in its own colour, far from every other, and reference lines inside the frame."""

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from mini_lib.papers.data_selection.experiment import FULL
from mini_lib.papers.data_selection.plots import (
    SAMPLER_STYLE,
    SYNTHETIC_COLOUR,
    fraction_figure,
    score_distributions,
    sweep_figure,
)
from mini_lib.papers.data_selection.samplers import SAMPLERS
from tests.test_selection_sweep import AUROCS, LOSSES, fake_sweep

MIN_COLOUR_DIFFERENCE = 30.0  # CIE76 delta E between any two samplers' colours: far apart to a reader's eye


def _lab(colour) -> np.ndarray:
    """CIELAB of a matplotlib colour (sRGB, D65), where Euclidean distance follows what the eye sees."""
    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _summary() -> pd.DataFrame:
    rows = [("small", FULL, 1.0, 3.6), ("large", FULL, 1.0, 3.4)]
    for i, sampler in enumerate(("random", "askllm", "perplexity", "density", "semdedup")):
        rows += [("large", sampler, f, 3.3 + 0.02 * i + 0.1 * f) for f in (0.1, 0.2, 0.4, 0.8)]
    return pd.DataFrame(rows, columns=["model", "sampler", "keep_fraction", "val_loss"])


def test_every_sampler_has_its_own_colour_and_marker():
    assert set(SAMPLERS) | {FULL} <= set(SAMPLER_STYLE)
    colours = {name: _lab(style["color"]) for name, style in SAMPLER_STYLE.items()}
    colours["label + noise"] = _lab(SYNTHETIC_COLOUR)
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        assert np.linalg.norm(ca - cb) > MIN_COLOUR_DIFFERENCE, f"{a} and {b} look alike"
    assert len({style["marker"] for style in SAMPLER_STYLE.values()}) == len(SAMPLER_STYLE)


def _inside(ax, y: float) -> bool:
    low, high = ax.get_ylim()
    return low + 0.05 * (high - low) < y < high - 0.05 * (high - low)


def test_fraction_figure_draws_each_sampler_in_its_colour_and_the_references_inside_the_frame():
    fig = fraction_figure(_summary())
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for sampler in ("random", "semdedup", "askllm"):
        assert to_rgb(lines[sampler].get_color()) == to_rgb(SAMPLER_STYLE[sampler]["color"])
        assert list(lines[sampler].get_xdata()) == [0.1, 0.2, 0.4, 0.8]
    for label, y in (("full data (large)", 3.4), ("full data (small)", 3.6)):
        assert lines[label].get_ydata()[0] == pytest.approx(y) and _inside(ax, y), label


@pytest.mark.parametrize("random_loss", [[4.3, 4.4, 4.5], [5.3, 5.4, 5.5], [2.0, 2.1, 2.2]])
def test_sweep_figure_keeps_the_random_line_off_the_frame(random_loss):
    """Random the worst, far the worst, or the best of all: its line stays inside both panels."""
    sweep = fake_sweep(dict(LOSSES, random=random_loss), AUROCS)
    fig = sweep_figure(sweep)
    for ax, column in zip(fig.axes, ("over_scaling", "val_loss")):
        random_line = next(line for line in ax.get_lines() if line.get_label() == "random")
        y = random_line.get_ydata()[0]
        assert y == pytest.approx(sweep.loc[(sweep.model == "large") & (sweep.sampler == "random"), column].mean())
        assert _inside(ax, y), (column, y, ax.get_ylim())


def test_score_distributions_mark_the_clean_median_in_every_panel():
    quality = np.array(["clean"] * 5 + ["word_salad"] * 3 + ["boilerplate"] * 2)
    scores = {"log perplexity": np.arange(10.0), "P(yes) few_shot": np.linspace(0.2, 0.8, 10)}
    fig = score_distributions(scores, quality)
    assert len(fig.axes) == 2
    for ax, values in zip(fig.axes, scores.values()):
        median = next(line for line in ax.get_lines() if line.get_label() == "clean median")
        assert median.get_xdata()[0] == pytest.approx(np.median(values[:5]))
        assert [t.get_text() for t in ax.get_yticklabels()] == ["clean", "boilerplate", "word_salad"]
