"""agree(): the check every from-scratch cell ends with."""

import numpy as np
import pandas as pd
import pytest
import torch

from mini_lib.core.agreement import Disagreement, agree


def test_equal_numbers_agree_and_give_the_results_row():
    row = agree("losses", torch.tensor([1.0, 2.0]), pd.Series([1.0, 2.0 + 1e-9]), tolerance=1e-6)
    assert row == {"what": "losses", "max_abs_difference": pytest.approx(1e-9, abs=1e-12), "tolerance": 1e-6, "matches": True}
    assert agree("a scalar", 3.0, np.float32(3.0), 0.0)["max_abs_difference"] == 0.0


@pytest.mark.parametrize("ours, theirs, message", [
    ([1.0, 2.0], [1.0, 2.1], "differ by 0.1"),
    ([1.0, 2.0], [1.0, 2.0, 3.0], "shape"),
    ([1.0, float("nan")], [1.0, float("nan")], "not finite"),
])
def test_different_numbers_fail_naming_what(ours, theirs, message):
    with pytest.raises(Disagreement, match=f"step losses.*{message}|{message}"):
        agree("step losses", ours, theirs, tolerance=1e-3)


def test_a_tolerance_must_be_a_number_at_least_zero():
    with pytest.raises(ValueError, match="tolerance"):
        agree("x", [1.0], [1.0], tolerance=-1.0)
