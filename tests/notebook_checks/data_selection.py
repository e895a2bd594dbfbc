"""What notebook data_selection's smoke run must show in results.json; its writer owns this file."""

import math

import pytest

from mini_lib.core.claims import IN_SHORT_NO_DIFFERENCE


def check(results: dict) -> None:
    models = results["models"]
    assert {m["tokens"] for m in models} == {results["budget_tokens"]}  # the same token budget for every subset
    assert all(m["val_loss"] < math.log(results["vocab_size"]) - 0.5 for m in models)
    full = next(m for m in models if m["model"] == "large" and m["sampler"] == "full")
    assert full["over_scaling"] == pytest.approx(0.0) and full["epochs"] < min(m["epochs"] for m in models if m["n_docs"] < full["n_docs"])
    assert all(0 <= r["precision"] <= 1 and 0 <= r["low_quality_removed"] <= 1 for r in results["selection"])
    ppl = next(r for r in results["scorer_auroc"] if r["scorer"].startswith("perplexity"))
    assert ppl["all"] > 0.6  # the proxy LM separates clean stories from injected junk
    quantities = [r["quantity"] for r in results["paper_vs_ours"]]
    assert "over-scaling (%) at 20%: random" in quantities
    assert all("(%)" in q for q in quantities)  # every row names its unit, the same in both columns
    lessons = [r["what"] for r in results["from_scratch"]]  # Ask-LLM's P(yes) and the density sketch, by hand
    assert [w.split(" ", 2)[:2] for w in lessons] == [["Ask-LLM", "P(yes)"], ["density", "sketch"]]
    assert results["from_scratch"][1]["max_abs_difference"] == 0.0  # integer counts: the same hashes, exactly
    density = next(c for c in results["claims"] if c["claim"] == "Density sampling recovers full-data quality")
    assert density["in_short"] == IN_SHORT_NO_DIFFERENCE[density["verdict"]] and "tolerance" in density["ours"]
