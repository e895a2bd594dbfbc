"""What notebook optimal_learning's smoke run must show in results.json; its writer owns this file."""



from mini_lib.core.claims import IN_SHORT, VERDICTS


def check(results: dict) -> None:
    for setting in ("perceptron", "tiny_lm"):
        assert results[setting]["cr_optimised"] > results[setting]["cr_conventional"]
    assert max(results["gamma_rows_on_simplex"].values()) < 1e-4 and results["gamma_min"] >= 0
    zero = results["tiny_lm"]["zero_weight"]
    assert zero["mean_weight_marked"] < zero["mean_weight_unmarked"]  # perturbed rows lose weight
    assert {row["setting"] for row in results["paper_vs_ours"]} == {"Perceptron", "Transformer LM"}
    assert len(results["claims"]) == 4 and {row["verdict"] for row in results["claims"]} <= set(VERDICTS)
    assert all(row["in_short"] == IN_SHORT[row["verdict"]] for row in results["claims"])  # no claim of no difference
    # section 3 by hand: J, dJ/dgamma by autograd against the adjoint, and one projected step, each within 1e-6
    rows = results["from_scratch"]
    assert [row["what"].split(" ")[0] for row in rows] == ["J", "dJ/dgamma", "one"]
    assert all(row["matches"] and row["max_abs_difference"] <= row["tolerance"] == 1e-6 for row in rows)
