"""The claims rule: a verdict needs a margin above seed-to-seed noise."""

import math

import pytest

from mini_lib.core.claims import VERDICTS, Claim, claims_table, compare_seeds, compare_with_error
from mini_lib.core.errors import ConfigError


def test_a_difference_larger_than_twice_the_paired_seed_spread_holds():
    result = compare_seeds([1.10, 1.21, 1.30], [1.00, 1.10, 1.21])  # differences 0.10, 0.11, 0.09
    assert result.difference == pytest.approx(0.1) and result.spread == pytest.approx(0.01)
    assert result.margin == pytest.approx(0.02) and result.verdict == "holds"
    assert compare_seeds([1.10, 1.21, 1.30], [1.00, 1.10, 1.21], direction=-1).verdict == "reversed"


def test_a_difference_inside_the_noise_decides_nothing():
    result = compare_seeds([1.0, 1.3, 0.9], [1.1, 1.0, 1.0])  # differences -0.1, +0.3, -0.1
    assert result.verdict == "within noise" and result.margin == pytest.approx(2 * result.spread)


def test_one_seed_needs_an_explicit_floor_to_decide():
    assert compare_seeds([2.0], [1.0]).verdict == "within noise" and math.isnan(compare_seeds([2.0], [1.0]).spread)
    assert compare_seeds([2.0], [1.0], floor=0.5).verdict == "holds"


def test_unpaired_groups_use_the_pooled_spread():
    result = compare_seeds([1.0, 1.2], [0.0, 0.2, 0.4], paired=False)
    assert result.spread == pytest.approx(math.sqrt((0.02 + 0.04) / 2))
    with pytest.raises(ConfigError, match="paired"):
        compare_seeds([1.0, 1.2], [0.0, 0.2, 0.4])


def test_claim_rows_share_one_schema_and_refuse_unknown_verdicts():
    row = Claim("2411.15821", "25% duplication is neutral", "abstract (v1)", "+0.14% .. +0.88%", "-3.6%",
                "mean accuracy change >= -1% beyond 2 seed spreads", "reversed", "clean data repeated 4 epochs")
    table = claims_table([row])
    assert list(table.columns) == ["paper", "claim", "source", "paper_value", "ours", "verdict", "in_short", "rule", "note"]
    assert row.holds is False
    assert table.in_short[0] == "Our run shows the opposite of the paper."
    with pytest.raises(ConfigError, match="verdict"):
        Claim("x", "y", "z", "1", "2", "r", "maybe")


def test_one_difference_with_a_known_error_uses_the_same_rule():
    assert compare_with_error(0.10, 0.04).verdict == "holds"  # 0.10 > 2 x 0.04
    assert compare_with_error(0.10, 0.06).verdict == "within noise"  # 0.10 < 2 x 0.06
    assert compare_with_error(-0.10, 0.04).verdict == "reversed"
    assert compare_with_error(-0.10, 0.04, direction=-1).verdict == "holds"
    exact = compare_with_error(1e-9, 0.0)  # an exact count: any difference decides
    assert exact.margin == 0.0 and exact.verdict == "holds"
    assert compare_with_error(2.0, math.nan).verdict == "within noise"  # unknown noise, no floor
    assert compare_with_error(2.0, math.nan, floor=1.5).verdict == "holds"
    assert compare_with_error(0.5, 0.01, floor=1.0).verdict == "within noise"  # the floor, not 2 SE, is the margin
    with pytest.raises(ConfigError, match="direction"):
        compare_with_error(1.0, 0.1, direction=0)


def test_the_plain_sentence_reads_the_right_way_for_a_claim_of_no_difference():
    def in_short(verdict, no_difference):
        return Claim("x", "y", "z", "1", "2", "r", verdict, no_difference=no_difference).in_short

    assert in_short("within noise", False) == "Our run cannot tell: the difference is smaller than its noise."
    assert in_short("holds", True) == "Our run cannot tell them apart either, as the paper says."
    assert in_short("reversed", True) == "Our run finds a difference where the paper finds none."
    assert in_short("holds", False) != in_short("holds", True)
    own_check = Claim("", "resuming changes nothing", "this notebook", "0", "0.0", "r", "holds", no_difference=True)
    assert own_check.in_short == "Our run cannot tell them apart either, as expected."
    assert not any("paper" in Claim("", "y", "z", "1", "2", "r", v, no_difference=f).in_short
                   for v in VERDICTS for f in (False, True))
    assert {in_short(v, flag) for v in VERDICTS for flag in (False, True)} >= {"This profile does not test it."}
