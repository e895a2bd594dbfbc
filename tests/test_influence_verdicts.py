"""Notebook 04's claim rules: paired by held-out run or run split, never a bare comparison of two means."""

import pandas as pd

from mini_lib.papers.gptfluence.experiment import MethodResult
from mini_lib.papers.gptfluence.paper import detection_claim, retrain_claim, simulator_claims, unseen_claim


def _areas(gpt, random):
    return pd.DataFrame([{"split": k, "method": m, "area": a} for k, (g, r) in enumerate(zip(gpt, random))
                         for m, a in (("gptfluence", g), ("random", r))])


def test_a_small_area_margin_within_split_noise_is_not_a_detection():
    # today's single numbers (0.555 vs 0.547) would read as "better"; with the split spread they are noise
    assert detection_claim(_areas([0.555, 0.49, 0.60], [0.547, 0.52, 0.50])).verdict == "within noise"
    assert detection_claim(_areas([0.80, 0.82, 0.79], [0.50, 0.52, 0.49])).verdict == "holds"
    assert detection_claim(_areas([0.30, 0.32, 0.29], [0.50, 0.52, 0.49])).verdict == "reversed"


def test_unseen_claim_is_paired_by_run():
    table = pd.DataFrame([
        {"setting": "unseen training examples", "method": "gptfluence", "spearman": 0.9, "mse_by_run": [0.010, 0.012]},
        {"setting": "unseen training examples", "method": "simfluence", "spearman": 0.3, "mse_by_run": [0.050, 0.060]},
    ])
    claim = unseen_claim(table, where="test")
    assert claim.verdict == "holds" and "0.913" in claim.paper_value
    table.at[1, "mse_by_run"] = [0.011, 0.010]
    assert unseen_claim(table, where="test").verdict == "within noise"


def test_retraining_margin_is_the_binomial_error_of_the_test_set():
    def table(removed):
        return pd.DataFrame({"training data": ["base model, no fine-tuning", "none (noisy pool)", "oracle (flipped removed)",
                                               "gptfluence (top 40 removed)"], "accuracy": [0.5, 0.42, 0.62, removed]})
    assert retrain_claim(table(0.62), n_test=24).verdict == "within noise"  # +0.20 < 2 x 0.144 on 24 examples
    assert retrain_claim(table(0.62), n_test=400).verdict == "holds"  # the same gain on 400 examples
    assert retrain_claim(table(0.42), n_test=24).verdict == "within noise"
    assert "binomial" in retrain_claim(table(0.5), n_test=24).rule




def test_the_simulator_note_says_how_little_differs_between_runs_before_what_each_source_explains():
    signal = pd.DataFrame([
        {"task": task, "setting": "held-out runs", "source": source, "explained": explained, "run_to_run_share": share}
        for task, share in (("sst2", 0.002), ("webnlg", 0.010))
        for source, explained in (("mean trajectory", 0.0), ("simfluence", -0.5), ("gptfluence", 0.25))
    ])
    results = {"sst2": {(m, "loss"): MethodResult(m, "loss", None, {}, 0.0, 0.0, run_mse={"r0": mse, "r1": mse * 1.1})
                        for m, mse in (("gptfluence", 0.2), ("simfluence", 0.2), ("tracin-cp", 0.3))}}
    note = simulator_claims(results, signal)[0].note
    assert note.startswith("runs differ by 0.60% of the test loss movement")  # the task mean of 0.2% and 1.0%
    assert "simfluence -50%, gptfluence 25%" in note
