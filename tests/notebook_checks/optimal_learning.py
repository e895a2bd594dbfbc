"""What notebook optimal_learning's smoke run must show in results.json; its writer owns this file."""



from mini_lib.core.claims import VERDICTS


def check(results: dict) -> None:
    for setting in ("perceptron", "tiny_lm"):
        assert results[setting]["cr_optimised"] > results[setting]["cr_conventional"]
    assert max(results["gamma_rows_on_simplex"].values()) < 1e-4 and results["gamma_min"] >= 0
    zero = results["tiny_lm"]["zero_weight"]
    assert zero["mean_weight_marked"] < zero["mean_weight_unmarked"]  # perturbed rows lose weight
    assert {row["setting"] for row in results["paper_vs_ours"]} == {"Perceptron", "Transformer LM"}
    assert len(results["claims"]) == 4 and {row["verdict"] for row in results["claims"]} <= set(VERDICTS)
