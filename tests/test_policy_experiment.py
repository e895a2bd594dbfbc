"""Notebook 05's library layer: both experiments from settings, their tables, the paper table, the bridge."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mini_lib.core.claims import PAPER_VS_OURS_COLUMNS
from mini_lib.core.errors import ConfigError
from mini_lib.lab.profiles import NOTEBOOK_PROFILES
from mini_lib.papers.optimal_learning import experiment as ex
from mini_lib.papers.optimal_learning.data import prepare_policy_lm_data
from mini_lib.papers.optimal_learning.optimise import PolicyConfig, PolicyResult
from mini_lib.papers.optimal_learning.paper import PAPER_RESULTS, paper_vs_ours, speedup_summary
from mini_lib.papers.optimal_learning.reweighting import (
    batch_weights,
    policy_weights,
    retrain_with_weights,
    reweighting_schemes,
    rows_as_blocks,
)
from mini_lib.papers.optimal_learning.summary import summarise_policy
from mini_lib.papers.optimal_learning.unrolled import simulate

TINY = replace(
    NOTEBOOK_PROFILES["05_optimal_learning"]["smoke"],
    perceptron_dim=8, perceptron_n_train=48, perceptron_n_desired=16, perceptron_steps=16, perceptron_epochs=2,
    perceptron_outer_lr=10.0, perceptron_long_factor=4, perceptron_trace_every=4, n_stories=80, vocab_size=300,
    lm_seq_len=16, lm_d_model=8, lm_n_layers=1, lm_n_heads=2, lm_n_train=8, lm_n_desired=4, lm_steps=3,
    lm_epochs=1, lm_outer_lr=20.0, lm_long_factor=2, lm_trace_every=1, lm_chunk_size=4, retrain_steps=3,
    retrain_batch_size=4, retrain_eval_every=1, device="cpu",
)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def perceptron():
    return ex.perceptron_experiment(TINY)


@pytest.fixture(scope="module")
def lm_data():
    return prepare_policy_lm_data(n_train=8, n_desired=4, vocab_size=300, seq_len=16, n_stories=80, seed=0)


def _headline(setting: str, speedup: float, lower_bound: bool, b: tuple[float, float], beta: tuple[float, float]):
    fits = {f"fit_{run}": {"B": bv, "beta": betav, "L0": 0.1, "t0": 5, "r2": 0.99, "rms_relative_error": 0.005}
            for run, bv, betav in zip(("conventional", "optimised"), b, beta)}
    return {"setting": setting, "steps": 100, "n_train": 64, "outer_epochs": 3, "speedup": speedup,
            "speedup_lower_bound": lower_bound, "speedup_test": speedup / 2, "speedup_test_lower_bound": False,
            "long_run_steps": 2000,
            "scale_change": abs(b[1] - b[0]) / b[0], "exponent_change": abs(beta[1] - beta[0]) / beta[0], **fits}


def test_paper_numbers_are_the_papers():
    assert PAPER_RESULTS["speedup"] == {"perceptron": 5.50, "tiny_lm": 2.41}
    conventional, optimal = PAPER_RESULTS["fit_conventional"], PAPER_RESULTS["fit_near_optimal"]
    assert (conventional["B"], conventional["beta"], optimal["B"], optimal["beta"]) == (3.16e8, 0.12, 1.99e7, 0.14)
    assert PAPER_RESULTS["scale_change"] == {"stated": 0.966, "table2_T4K": 0.937}
    assert PAPER_RESULTS["exponent_change"] == {"stated": 0.212, "table2_T4K": 0.187}
    # the rounded coefficients reproduce Table 2's |dB|/B, not the 96.6% of the text
    assert 1 - optimal["B"] / conventional["B"] == pytest.approx(0.937, abs=5e-4)


def test_paper_vs_ours_reports_speedups_and_fit_directions_honestly():
    perceptron = _headline("perceptron", 3.656, False, (3.27, 5.25), (0.37, 0.56))
    lm = {**_headline("tiny_lm", 20.0, True, (1e9, 2e8), (0.10, 0.09)),
          "zero_weight": {"threshold": 0.1, "precision": 1.0, "recall": 0.75, "mean_weight_marked": 0.2,
                          "mean_weight_unmarked": 1.8}}
    table = paper_vs_ours(perceptron, lm)
    assert tuple(table.columns) == PAPER_VS_OURS_COLUMNS
    assert set(table[table.setting == "Transformer LM"].source) >= {"arXiv 2402.17759, Sec. 4, Table 2"}
    speed = table[table.quantity.str.startswith("speed-up at the end of training, desired")].set_index("setting")
    assert speed.loc["Perceptron", "paper"] == "5.50x" and speed.loc["Perceptron", "ours"] == "3.66x"
    assert speed.loc["Transformer LM", "paper"] == "2.41x"
    assert speed.loc["Transformer LM", "ours"].startswith(">= 20x (lower bound: not reached in 2000")
    assert "T=100, N=64" in speed.loc["Perceptron", "note"]
    test = table[table.quantity.str.startswith("speed-up at the end of training, held-out test")].set_index("setting")
    assert test.loc["Perceptron", "ours"] == "1.83x" and test.loc["Transformer LM", "ours"] == "10.00x"
    scale = table[table.quantity == "|dB|/B"].set_index("setting")
    assert "96.6%" in scale.loc["Transformer LM", "paper"] and "93.7%" in scale.loc["Transformer LM", "paper"]
    assert scale.loc["Perceptron", "ours"] == "60.6%" and "UP, unlike" in scale.loc["Perceptron", "note"]
    assert scale.loc["Transformer LM", "ours"] == "80.0%" and "DOWN, as in" in scale.loc["Transformer LM", "note"]
    exponent = table[table.quantity == "|dbeta|/beta"].set_index("setting")
    assert "21.2%" in exponent.loc["Transformer LM", "paper"] and "18.7%" in exponent.loc["Transformer LM", "paper"]
    assert "DOWN, unlike" in exponent.loc["Transformer LM", "note"]
    law = table[table.quantity.str.contains("Learning Law")]
    assert "0.20 perturbed vs 1.80 clean" in law.ours.iloc[0] and "75.0%" in law.note.iloc[0]


def test_paper_vs_ours_without_fits_or_test_set():
    lm = {**_headline("tiny_lm", 20.0, True, (1.0, 1.0), (1.0, 1.0)), "fit_conventional": None,
          "fit_optimised": None, "scale_change": math.nan, "exponent_change": math.nan}
    perceptron = _headline("perceptron", 2.0, False, (2.0, 1.0), (0.3, 0.4))
    del perceptron["speedup_test"], perceptron["speedup_test_lower_bound"]
    ours = paper_vs_ours(perceptron, lm).set_index(["quantity", "setting"]).ours
    assert ours["speed-up at the end of training, desired set (optimised on)", "Transformer LM"].startswith(">= 20x")
    assert ours["speed-up at the end of training, held-out test set", "Perceptron"] == "not measured"
    assert ours["learning-law fit, optimised (B, beta)", "Transformer LM"] == "no fit"
    assert ours["|dB|/B", "Transformer LM"] == "n/a"


def test_summary_survives_curves_without_a_power_law():
    steps = np.arange(41, dtype=float)
    short = torch.tensor([1.0, 0.8, 0.7, 0.65])
    result = PolicyResult(gamma=torch.full((3, 2), 0.5), objective_history=[], config=PolicyConfig(steps=3),
                          conventional_curve=short, optimised_curve=short - 0.1, wall_seconds=0.0)
    rising = torch.tensor(0.6 + 0.002 * (steps - 10) ** 2)  # minimum 0.6 at t=10, never reaches 0.55
    summary = summarise_policy(result, 2, long_conventional_curve=rising)
    assert summary.fit_conventional is None and summary.fit_optimised is None
    assert math.isnan(summary.fit_change.scale_change)
    assert summary.acceleration.lower_bound and summary.acceleration.ratio == pytest.approx(40 / 3)
    assert summary.cr_optimised > summary.cr_conventional


def test_perceptron_experiment_learns_a_better_policy(perceptron):
    numbers = ex.headline(perceptron)
    assert numbers["cr_optimised"] > numbers["cr_conventional"]
    assert numbers["auc_optimised"] == pytest.approx(numbers["objective_history"][-1])
    assert numbers["long_run_steps"] == 64 and len(perceptron.long_curve) == 65
    assert math.isfinite(numbers["speedup"]) and math.isfinite(numbers["speedup_test"])
    test_curve = simulate(perceptron.problem, TINY.perceptron_eta, perceptron.result.gamma, with_test=True).test_losses
    assert numbers["final_test_loss_optimised"] == pytest.approx(float(test_curve[-1]))
    assert torch.equal(perceptron.long_curve[:17], perceptron.result.conventional_curve)
    gamma = perceptron.result.gamma
    assert torch.allclose(gamma.sum(dim=1), torch.ones(16)) and gamma.min() >= 0
    assert set(numbers["mean_weight_by_group"]) == {"near boundary", "middle", "far from boundary"}
    sizes = [int(m.sum()) for m in perceptron.groups.values()]
    assert sum(sizes) == 48 and max(sizes) - min(sizes) <= 1
    assert numbers["active_fraction_conventional_late"] == 1.0
    assert "zero_weight" not in numbers


def test_experiment_frames_have_the_documented_shape(perceptron):
    curves = ex.curves_frame(perceptron)
    assert (curves.run == "conventional").sum() == 65 and (curves.run == "optimised").sum() == 17
    fits = ex.fit_frame(perceptron)
    assert len(fits) == 32 and fits.step.min() == 1
    assert (fits[fits.in_fit_window].fitted > 0).all()
    weights = ex.weights_frame(perceptron)
    assert set(weights.group) == set(perceptron.groups) and len(weights) == 3 * 16
    uniform_mean = weights.groupby("step").mean_weight.mean()
    assert uniform_mean.between(0.5, 1.5).all()
    objective = ex.objective_frame(perceptron)
    assert objective.CR.iloc[-1] == pytest.approx(math.log(2) / perceptron.result.objective_history[-1])
    similarity = ex.similarity_frame(perceptron)
    assert similarity.step.tolist() == [0, 4, 8, 12] * 2
    contributions = ex.contributions_frame(perceptron)
    assert len(contributions) == 2 * 4 * 48
    active = contributions[contributions.active]
    assert active.groupby(["run", "step"]).relative_ct.mean().to_numpy() == pytest.approx(1.0)
    matrix = ex.policy_matrix(perceptron, max_examples=30, max_steps=10)
    assert matrix.shape == (30, 10) and list(matrix.index.names) == ["group", "example"]
    assert matrix.index.get_level_values("group").tolist()[:10] == ["near boundary"] * 10


def test_flipped_labels_become_the_groups():
    noisy = ex.perceptron_experiment(replace(TINY, perceptron_label_noise=0.25, perceptron_epochs=1))
    assert set(noisy.groups) == {"clean label", "flipped label"} and int(noisy.marked.sum()) == 12
    assert "zero_weight" in ex.headline(noisy)


def test_perceptron_fits_by_steps_runs_one_policy_per_t_and_reports_fit_ranges(perceptron):
    table = ex.perceptron_fits_by_steps(replace(TINY, perceptron_fit_steps=(16, 24)))
    assert table[["T", "run"]].values.tolist() == [[16, "conventional"], [16, "optimised"], [24, "conventional"],
                                                   [24, "optimised"]]
    fitted = table[table.fitted]
    assert (fitted.B_low <= fitted.B).all() and (fitted.B <= fitted.B_high).all() and fitted.identifiable.notna().all()
    same = table[(table["T"] == 16) & (table.run == "conventional")].iloc[0]
    assert same.B == pytest.approx(perceptron.summary.fit_conventional.scale)  # the same run as the T=16 experiment
    assert ex.perceptron_fits_by_steps(TINY).empty


def test_lm_data_rows_split_and_perturbation(lm_data):
    assert lm_data.train.shape == lm_data.clean_train.shape == (8, 17) and lm_data.desired.shape == (4, 17)
    assert lm_data.test.shape == (4, 17) and not (lm_data.test[:, None] == lm_data.desired[None]).all(dim=2).any()
    assert lm_data.seq_len == 16 and lm_data.vocab_size <= 300 and lm_data.train.dtype == torch.long
    assert int(lm_data.perturbed.sum()) == 4
    assert torch.equal(lm_data.train[~lm_data.perturbed], lm_data.clean_train[~lm_data.perturbed])
    assert (lm_data.train[lm_data.perturbed] != lm_data.clean_train[lm_data.perturbed]).any(dim=1).all()
    assert isinstance(lm_data.decode(lm_data.desired[0]), str)
    with pytest.raises(ConfigError, match="n_stories"):
        prepare_policy_lm_data(n_train=5000, n_desired=4, vocab_size=300, seq_len=16, n_stories=80)
    with pytest.raises(ConfigError, match="desired_fraction"):
        prepare_policy_lm_data(n_train=8, n_desired=4, vocab_size=300, desired_fraction=1.0)


def test_tiny_lm_experiment_reports_perturbed_rows(lm_data):
    lm = ex.tiny_lm_experiment(TINY, lm_data)
    numbers = ex.headline(lm)
    assert numbers["setting"] == "tiny_lm" and numbers["n_parameters"] == lm.problem.theta0.numel()
    assert numbers["auc_optimised"] < numbers["auc_conventional"]
    assert set(numbers["mean_weight_by_group"]) == {"clean", "perturbed"}
    assert numbers["zero_weight"]["threshold"] == TINY.zero_threshold
    assert numbers["fit_conventional"] is None  # 3 steps: too short for a learning-law fit
    assert math.isnan(numbers["scale_change"])


def test_rows_as_blocks_and_weights():
    rows = torch.arange(12).view(3, 4)
    blocks = rows_as_blocks(rows)
    assert blocks.collate([2, 0])["input_ids"].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    assert [blocks.example_ids(i) for i in range(3)] == [[0], [1], [2]]
    weigh = batch_weights(np.array([0.0, 1.0, 3.0]))
    assert weigh(0, np.array([1, 2])).tolist() == [0.25, 0.75]
    assert weigh(0, np.array([0, 0])).tolist() == [0.5, 0.5]
    with pytest.raises(ConfigError, match="non-negative"):
        batch_weights(np.array([1.0, -1.0]))
    gamma = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    assert policy_weights(gamma) == pytest.approx([0.75, 1.5, 0.75])


def test_retraining_passes_the_weights_to_the_loop(lm_data, tmp_path):
    gamma = torch.full((3, 8), 1 / 8)
    schemes = reweighting_schemes(lm_data, gamma)
    assert schemes["uniform"] == pytest.approx(schemes["learned policy"])
    assert schemes["drop perturbed (oracle)"].sum() == 4
    grid = retrain_with_weights(lm_data, schemes, TINY, tmp_path)
    losses = grid.summary.set_index("scheme").val_loss
    assert losses["uniform"] == pytest.approx(losses["learned policy"], abs=1e-6)  # same weights, same run
    assert losses["uniform"] != pytest.approx(losses["drop perturbed (oracle)"], abs=1e-6)
    assert set(grid.curves.step) == {0, 1, 2, 3}
    with pytest.raises(ConfigError, match="columns"):
        reweighting_schemes(lm_data, torch.full((3, 5), 0.2))


def test_resolve_device():
    assert ex.resolve_device("cpu") == "cpu"
    assert ex.resolve_device("auto") in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="device"):
        ex.resolve_device("tpu")


def test_speedup_summary_shows_both_sets_beside_the_paper():
    line = speedup_summary(_headline("perceptron", 40.0, True, (1.0, 1.0), (1.0, 1.0)))
    assert line == ("speed-up at the end of training: desired set >= 40x (lower bound: not reached in 2000 conventional "
                    "steps), held-out test set 20.00x; paper: 5.50x")
