"""The detection curve: fraction of flipped examples found vs fraction inspected."""

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.detection import detection_curve


def test_detection_curve_by_hand():
    curve = detection_curve(np.array([0.9, 0.1, 0.5, 0.7]), np.array([True, False, False, True]))
    np.testing.assert_allclose(curve.inspected, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve.found, [0, 0.5, 1.0, 1.0, 1.0])  # order 0.9 (flip), 0.7 (flip), 0.5, 0.1
    assert curve.found_at(0.5) == 1.0 and curve.found_at(0.3) == 0.5
    assert curve.area() == pytest.approx(0.75)
    worst = detection_curve(np.array([0.0, 1.0]), np.array([True, False]))
    assert worst.found_at(0.5) == 0.0


def test_detection_curve_rejects_bad_input():
    with pytest.raises(ConfigError):
        detection_curve(np.zeros(3), np.zeros(3, dtype=bool))
    with pytest.raises(ConfigError):
        detection_curve(np.zeros(3), np.ones(4, dtype=bool))
