"""The papers' own numbers carry their source, and where a paper disagrees with itself both versions are shown."""

import pandas as pd
import pytest

from mini_lib.papers.gptfluence.paper import PAPER, UNVERIFIED_NOTE, paper_vs_ours
from mini_lib.papers.quality_quantity import paper as qq_paper


def test_quality_quantity_abstract_beside_its_table():
    table = qq_paper.abstract_vs_table().set_index("claim")
    assert (table.abstract_source == "arXiv 2411.15821 abstract (v1, v3, v4)").all()
    assert table.table_source.str.contains("graph.py").all() and qq_paper.paper_table().source.eq(qq_paper.PAPER_SOURCE).all()
    # +0.87% accuracy is the 25%-size column (49.45 vs 49.02), +0.52% perplexity the 50%-size column
    assert table.loc["25% duplication: accuracy change", "table_pct_size_25"] == pytest.approx(0.877, abs=1e-3)
    assert table.loc["25% duplication: perplexity change", "table_pct_size_50"] == pytest.approx(0.528, abs=1e-3)
    # the abstract's -40% at 100% duplication: the table gives -85% to -87% in every size column
    collapse = table.loc["100% duplication: accuracy change"]
    assert collapse.abstract_pct == -40.0
    assert [round(collapse[f"table_pct_size_{s}"]) for s in (25, 50, 100)] == [-87, -85, -85]


def test_gptfluence_table_flags_the_shared_spearman_it_could_not_recheck():
    assert PAPER["instruction_tuning_410m"]["tracin-cp"][2] == PAPER["instruction_tuning_410m"]["grad-dot"][2] == 0.421
    methods = ["tracin-cp", "grad-dot", "simfluence", "gptfluence"]
    average = pd.DataFrame({"method": methods, "mse": 0.1, "mae": 0.2, "spearman": 0.5, "seconds_per_sample": 1.0})
    table = paper_vs_ours(average).set_index(["quantity", "setting"])
    for method in ("tracin-cp", "grad-dot"):
        assert table.loc[(f"{method} spearman", "instruction tuning 410M"), "note"] == UNVERIFIED_NOTE
        assert table.loc[(f"{method} mse", "instruction tuning 410M"), "note"] == ""
    assert table.loc[("gptfluence spearman", "instruction tuning 410M"), "note"] == ""
