"""Power-law fits: recover known laws from noisy synthetic data, honest uncertainties, bad input."""

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.scaling import bootstrap_exponent, fit_power_law, fit_saturating_power_law


def kaplan_data(n_points: int, noise: float, seed: int):
    """Kaplan et al.'s L(N) = (8.8e13 / N)^0.076 over 1M..1B parameters, multiplicative noise."""
    rng = np.random.default_rng(seed)
    x = np.logspace(6, 9, n_points)
    return x, (8.8e13 / x) ** 0.076 * np.exp(rng.normal(0, noise, n_points))


def saturating_data(n_points: int, noise: float, seed: int):
    rng = np.random.default_rng(seed)
    t = np.logspace(0, 4, n_points)
    return t, (2.0 + (50 / t) ** 0.7) * np.exp(rng.normal(0, noise, n_points))


def test_power_law_recovers_kaplan_exponent_and_scale():
    fit = fit_power_law(*kaplan_data(12, 0.005, seed=0))
    assert fit.exponent == pytest.approx(0.076, rel=0.03)
    assert fit.scale == pytest.approx(8.8e13, rel=0.3)  # the scale is weakly determined at exponent 0.076
    assert abs(fit.exponent - 0.076) < 4 * fit.exponent_err
    assert fit.offset == 0 and fit.r2 > 0.99


def test_power_law_is_exact_on_noiseless_data():
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    fit = fit_power_law(x, (20.0 / x) ** 0.5)
    assert (fit.exponent, fit.scale) == (pytest.approx(0.5), pytest.approx(20.0))
    assert fit.exponent_err == pytest.approx(0, abs=1e-9) and fit.r2 == pytest.approx(1.0)
    np.testing.assert_allclose(fit.predict([4.0, 20.0]), [5 ** 0.5, 1.0])


def test_saturating_law_recovers_offset_scale_and_exponent():
    fit = fit_saturating_power_law(*saturating_data(25, 0.003, seed=1))
    assert fit.exponent == pytest.approx(0.7, rel=0.03)
    assert fit.offset == pytest.approx(2.0, rel=0.03)
    assert fit.scale == pytest.approx(50, rel=0.05)
    for value, true, err in [(fit.exponent, 0.7, fit.exponent_err), (fit.offset, 2.0, fit.offset_err)]:
        assert abs(value - true) < 4 * err
    assert not fit.offset_fixed and fit.offset < 2.0 * 1.1


def test_saturating_law_with_fixed_offset():
    t, y = saturating_data(25, 0.003, seed=2)
    fit = fit_saturating_power_law(t, y, offset=2.0)
    assert fit.offset == 2.0 and fit.offset_err == 0.0 and fit.offset_fixed
    assert fit.exponent == pytest.approx(0.7, rel=0.02)


def test_errors_shrink_with_more_points():
    few = fit_power_law(*kaplan_data(8, 0.01, seed=3))
    many = fit_power_law(*kaplan_data(80, 0.01, seed=3))
    assert many.exponent_err < 0.5 * few.exponent_err
    few_s = fit_saturating_power_law(*saturating_data(10, 0.01, seed=4))
    many_s = fit_saturating_power_law(*saturating_data(100, 0.01, seed=4))
    assert many_s.exponent_err < 0.5 * few_s.exponent_err


def test_exactly_as_many_points_as_parameters_gives_nan_errors():
    fit = fit_saturating_power_law([1.0, 10.0, 100.0], [4.0, 2.5, 2.1])
    assert np.isnan(fit.exponent_err) and np.isnan(fit.offset_err)
    assert fit.predict([10.0])[0] == pytest.approx(2.5, rel=1e-4)


def test_bootstrap_spread_matches_the_covariance_error():
    x, y = kaplan_data(30, 0.01, seed=5)
    exponents = bootstrap_exponent(x, y, n=100, seed=0)
    assert exponents.shape == (100,)
    assert np.mean(exponents) == pytest.approx(0.076, rel=0.03)
    assert 0.5 < np.std(exponents) / fit_power_law(x, y).exponent_err < 2.0
    np.testing.assert_array_equal(exponents, bootstrap_exponent(x, y, n=100, seed=0))


def test_formula_is_readable():
    text = fit_saturating_power_law(*saturating_data(25, 0.003, seed=1)).formula("t", "L")
    assert text.startswith("L = 2") and "± " in text and "/ t)^(0.7" in text and "R² = " in text
    assert str(fit_power_law([1, 10, 100], [3, 2, 1.5])).startswith("y = (")


@pytest.mark.parametrize(
    "x,y,match",
    [
        ([1, 2, 0], [3, 2, 1], "positive"),
        ([1, 2, 3], [3, -2, 1], "positive"),
        ([1], [2], "at least 2 points"),
        ([1, 2, 3], [3, 2], "same length"),
        ([2, 2, 2], [3, 2, 1], "two distinct"),
        ([1, 2, np.inf], [3, 2, 1], "finite"),
    ],
)
def test_bad_input(x, y, match):
    with pytest.raises(ConfigError, match=match):
        fit_power_law(x, y)


def test_bad_input_saturating():
    with pytest.raises(ConfigError, match="at least 3 points"):
        fit_saturating_power_law([1, 2], [3, 2])
    with pytest.raises(ConfigError, match="offset must be in"):
        fit_saturating_power_law([1, 2, 4], [3, 2, 1.5], offset=1.5)
    with pytest.raises(ConfigError, match="form"):
        bootstrap_exponent([1, 2, 4], [3, 2, 1.5], form="linear")
