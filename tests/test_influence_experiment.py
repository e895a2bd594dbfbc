"""The method comparison, unseen-data study, paper table and mislabel application on a tiny collected task."""

import math

import numpy as np
import pandas as pd
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.tokenization import train_tokenizer
from mini_lib.core.zero_shot import score_choices
from mini_lib.corpora import storyworld as sw
from mini_lib.papers.gptfluence.analysis import score_simulator
from mini_lib.papers.gptfluence.collect import BaseModel, CollectConfig, collect_task
from mini_lib.papers.gptfluence.data import make_task
from mini_lib.papers.gptfluence.experiment import (
    METHODS,
    SIGNAL_SOURCES,
    Features,
    SimulatorSettings,
    average_over_tasks,
    blind_run,
    compare_methods,
    fit_method,
    mean_trajectory,
    order_ablation,
    runs_frame,
    signal_study,
    task_split,
    trajectory_frame,
    unseen_study,
)
from mini_lib.papers.gptfluence.gptfluence import FitConfig, GPTfluenceSimulator
from mini_lib.papers.gptfluence.mislabel import (
    curve_frame,
    detection_over_splits,
    detection_table,
    retrain_after_removal,
    self_influence_scores,
)
from mini_lib.papers.gptfluence.paper import PAPER, paper_vs_ours
from mini_lib.papers.gptfluence.simfluence import Simfluence
from mini_lib.papers.gptfluence.tracin import predicted_trajectories
from tests.helpers import single_thread, tiny_model

CONFIG = CollectConfig(n_sampled=12, batch_size=4, epochs=2, lr=3e-3, max_len=96, eval_batch_size=16, tracin_every=2,
                       grad_k_vocab=4, grad_k_hidden=4, holdout_train=4, holdout_runs=2)
SETTINGS = SimulatorSettings(width=8, fit=FitConfig(max_steps=60, eval_every=20, batch_size=64))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny model, a flipped SST-2-like task (20 pool, 6 test) and 7 runs of 6 steps (2 from the full pool)."""
    with single_thread():
        tokenizer = train_tokenizer(sw.generate_stories(300, seed=5)["text"], 400, model_max_length=128)
        base = BaseModel(tiny_model(len(tokenizer), seq_len=128, seed=0), tokenizer, "tiny")
        task = make_task("sst2", 20, 6, flip_fraction=0.4)
        collected = collect_task(task, base, CONFIG, 7, tmp_path_factory.mktemp("dyn") / "sst2", log=None)
        rng = np.random.default_rng(0)
        features = Features(rng.normal(size=(20, 12)), rng.normal(size=(6, 12)))  # stand-ins for MiniLM features
        yield base, collected, features, task_split(collected, 3, 1, 1)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_every_method_is_fitted_and_scored_as_the_paper(setup):
    _, collected, features, split = setup
    table, results = compare_methods(collected, split, settings=SETTINGS, features=features)
    assert list(table["method"]) == list(METHODS) and set(table["metric"]) == {"loss"}
    for (method, metric), result in results.items():
        run = split.test[0]
        assert result.predictions[run.run_id].shape == run.trajectories["loss"].shape
        np.testing.assert_allclose(result.predictions[run.run_id][:, 0], run.trajectories["loss"][:, 0])  # rollouts start true
        again = score_simulator([result.predictions[r.run_id] for r in split.test], [r.trajectories["loss"] for r in split.test])
        assert result.scores.mse.mean == pytest.approx(again.mse.mean) and result.scores.n_trajectories == 6
        assert result.seconds_per_sample > 0 and result.fit_seconds >= 0
    rows = table.set_index("method")
    assert (rows["mse"] >= 0).all() and rows["spearman"].between(-1, 1).all()
    # TracIn-CP pays for the held-out run's checkpoint gradients, Grad-Dot for step 0 only
    tracin, grad_dot = results["tracin-cp", "loss"], results["grad-dot", "loss"]
    assert tracin.gradient_seconds == pytest.approx(collected.step0_grad_seconds + collected.timing.set_index("run_id").loc[
        split.test[0].run_id, "grad_seconds"])
    assert grad_dot.gradient_seconds == pytest.approx(collected.step0_grad_seconds)
    average = average_over_tasks(pd.concat([table, table.assign(task="copy")]))
    assert list(average["n_tasks"]) == [2] * 4
    assert average.set_index("method").loc["gptfluence", "mse"] == pytest.approx(rows.loc["gptfluence", "mse"])


def test_each_result_keeps_what_was_fitted_so_a_lesson_can_recompute_it(setup):
    _, collected, features, split = setup
    _, results = compare_methods(collected, split, settings=SETTINGS, features=features)
    run = split.test[0]
    sim = results["gptfluence", "loss"].simulator
    assert isinstance(sim, GPTfluenceSimulator)
    np.testing.assert_array_equal(sim.simulate(run), results["gptfluence", "loss"].predictions[run.run_id])  # the same weights
    table = results["simfluence", "loss"].simulator
    assert isinstance(table, Simfluence) and results["simfluence", "loss"].detail == f"ridge {table.l2:g}"
    rescale = results["tracin-cp", "loss"].simulator
    raw = predicted_trajectories(collected.gradients(run.run_id), run)
    np.testing.assert_allclose(rescale.apply(raw), results["tracin-cp", "loss"].predictions[run.run_id])
    assert results["tracin-cp", "loss"].detail == f"rescaled x{rescale.scale:.3g} {rescale.shift:+.2g}"


def test_simfluence_ridge_is_chosen_on_the_validation_runs(setup):
    _, collected, features, split = setup
    errors = {}
    for l2 in (1e-3, 10.0):
        fitted = fit_method("simfluence", collected, split.fit, settings=SimulatorSettings(simfluence_l2=(l2,)))
        errors[l2] = fitted.evaluate(split.val).scores.mse.mean
    chosen = fit_method("simfluence", collected, split.fit, split.val, settings=SimulatorSettings(simfluence_l2=(1e-3, 10.0)))
    assert chosen.detail == f"ridge {min(errors, key=errors.get):g}"
    assert fit_method("simfluence", collected, split.fit, settings=SimulatorSettings(simfluence_l2=(1e-3, 10.0))).detail == "ridge 0.001"


def test_gradient_methods_simulate_the_loss_only(setup):
    _, collected, features, split = setup
    with pytest.raises(ConfigError, match="loss only"):
        fit_method("tracin-cp", collected, split.fit, metric="bleu")
    with pytest.raises(ConfigError, match="method"):
        fit_method("tracin", collected, split.fit)


def test_unseen_study_holds_out_training_and_test_examples(setup):
    _, collected, features, split = setup
    table = unseen_study(collected, split, settings=SETTINGS, features=features)
    assert list(table["setting"].unique()) == ["seen (reference)", "unseen training examples", "unseen test examples", "both unseen"]
    gpt = table[table["method"] == "gptfluence"].set_index("setting")
    assert gpt["mse"].notna().all() and list(gpt["n_test_examples"]) == [6, 6, 3, 3]
    assert gpt.loc["unseen training examples", "n_heldout_runs"] == 2  # both full-pool runs train on held-out examples
    simfluence = table[table["method"] == "simfluence"].set_index("setting")
    assert simfluence.loc[["unseen test examples", "both unseen"], "mse"].isna().all()
    assert simfluence.loc["unseen training examples", "mse"] >= 0
    held = set(collected.holdout_train_ids())
    assert not any(held & set(i for b in r.batches for i in b) for r in split.fit)


def test_order_ablation_and_trajectory_frame(setup):
    _, collected, features, split = setup
    table = order_ablation(collected, split, (1, 2), settings=SETTINGS, features=features)
    assert list(table["order"]) == [1, 2] and table["mse"].ge(0).all()
    results = {"simfluence": fit_method("simfluence", collected, split.fit).evaluate(split.test)}
    frame = trajectory_frame(split.test[0], results, "loss", rows=[0, 2])
    assert len(frame) == 2 * 2 * (CONFIG.steps + 1) and set(frame["source"]) == {"true", "simfluence"}
    runs = runs_frame(split.fit[:2], "loss", test_rows=[1])
    assert len(runs) == 2 * (CONFIG.steps + 1) and set(runs["test_id"]) == {split.fit[0].test_ids[1]}
    assert list(runs[runs["run"] == split.fit[1].run_id]["value"]) == list(split.fit[1].trajectories["loss"][1])


def test_paper_vs_ours_lists_the_papers_numbers_beside_ours():
    average = pd.DataFrame({"method": ["gptfluence", "simfluence"], "mse": [0.01, 0.02], "mae": [0.1, 0.2],
                            "spearman": [0.9, 0.8], "seconds_per_sample": [0.001, 0.0001]})
    unseen = pd.DataFrame({"setting": ["unseen training examples", "unseen test examples"], "method": ["gptfluence"] * 2,
                           "mse": [0.3, 0.4], "spearman": [0.7, 0.05]})
    table = paper_vs_ours(average, unseen)
    gpt = table[table["setting"] == "fine-tuning 410M"].set_index("quantity")
    assert gpt.loc["gptfluence mse", "paper"] == PAPER["fine_tuning_410m"]["gptfluence"][0]
    assert gpt.loc["gptfluence mse", "ours"] == 0.01
    unseen_rows = table[table["source"].str.endswith("unseen data (GPTfluence)")].set_index("setting")
    assert set(unseen_rows["quantity"]) == {"gptfluence mse", "gptfluence spearman"}
    spearman = unseen_rows[unseen_rows["quantity"] == "gptfluence spearman"]
    assert spearman.loc["fine-tuning 410M, RTE, unseen training examples", "paper"] == 0.913
    assert spearman.loc["fine-tuning 410M, RTE, unseen test examples", "ours"] == 0.05
    cost = table[table["source"].str.endswith("cost")].set_index("quantity")
    assert cost.loc["tracin-cp seconds per simulated sample", "paper"] == 153.0
    assert math.isnan(cost.loc["tracin-cp seconds per simulated sample", "ours"])
    assert cost.loc["gptfluence seconds per simulated sample", "ours"] == 0.001


def test_detection_curves_rank_flipped_examples():
    flipped = np.array([True, False, True, False, False])
    table, curves = detection_table({"perfect": np.array([5, 1, 4, 2, 3.0]), "worst": np.array([0, 5, 1, 4, 3.0])}, flipped,
                                    fractions=(0.2, 0.4))
    rows = table.set_index("method")
    assert rows.loc["perfect", "found_at_0.4"] == 1.0 and rows.loc["worst", "found_at_0.4"] == 0.0
    assert rows.loc["perfect", "area"] > 0.5 > rows.loc["worst", "area"]
    assert len(curve_frame(curves)) == 2 * 6


def test_mislabel_scores_and_retraining_without_flagged_examples(setup, tmp_path):
    base, collected, features, split = setup
    scores = self_influence_scores(collected, split.fit, split.val, settings=SETTINGS, features=features)
    assert set(scores) == {"gptfluence", "tracin-cp", "random"} and all(s.shape == (20,) for s in scores.values())
    assert np.all(scores["tracin-cp"] > 0)  # lr x squared gradient norms
    table = retrain_after_removal(base, collected.task, scores, CONFIG, tmp_path, batch_size=8)
    rows = table.set_index("training data")
    assert rows.loc["oracle (flipped removed)", "flipped_removed"] == 8 == rows.loc["oracle (flipped removed)", "removed"]
    assert rows.loc["none (noisy pool)", "kept"] == 20 and len(table) == 6
    assert table["accuracy"].between(0, 1).all()
    with pytest.raises(ConfigError, match="n_remove"):
        retrain_after_removal(base, collected.task, scores, CONFIG, tmp_path, n_remove=20)
    held_out = collected.task.test_choices()[:2]  # another scoring set: the base model's row is scored on it
    table = retrain_after_removal(base, collected.task, {}, CONFIG, tmp_path / "held_out", batch_size=8,
                                  test_choices=held_out)
    base_row = table.set_index("training data").loc["base model, no fine-tuning", "accuracy"]
    assert base_row == score_choices(base.model, base.tokenizer, held_out, batch_size=8).accuracy_raw
    assert set(table["accuracy"]) <= {0.0, 0.5, 1.0}  # two items


def test_mean_trajectory_mse_is_the_run_to_run_variance_and_blind_runs_hide_the_examples(setup):
    _, collected, _, split = setup
    runs = split.fit
    pred = mean_trajectory(runs)(runs[0])
    stacked = np.stack([r.trajectories["loss"] for r in runs])
    np.testing.assert_allclose(pred[:, 1:], stacked.mean(axis=0)[:, 1:])
    np.testing.assert_allclose(pred[:, 0], runs[0].trajectories["loss"][:, 0])
    blind = blind_run(runs[0])
    assert {i for b in blind.batches for i in b} == {0} and [len(b) for b in blind.batches] == [len(b) for b in runs[0].batches]


def test_signal_study_measures_what_the_examples_explain(setup):
    _, collected, features, split = setup
    full = collected.full_pool_runs()
    table = signal_study(collected, split, {"held-out runs": split.test, "unseen": full}, settings=SETTINGS, features=features)
    assert list(table["setting"].unique()) == ["held-out runs", "unseen"]
    rows = table[table["setting"] == "held-out runs"].set_index("source")
    assert list(rows.index) == list(SIGNAL_SOURCES) and rows.loc["mean trajectory", "explained"] == 0.0
    assert rows.loc["gptfluence", "explained"] == pytest.approx(1 - rows.loc["gptfluence", "mse"] / rows.loc["mean trajectory", "mse"])
    assert rows.loc["gptfluence", "mse"] != rows.loc["gptfluence, shuffled features", "mse"]  # the control sees other features
    assert [len(v) for v in table[table["setting"] == "unseen"]["mse_by_run"]] == [len(full)] * len(SIGNAL_SOURCES)
    with pytest.raises(ConfigError, match="no runs"):
        signal_study(collected, split, {"empty": []}, settings=SETTINGS, features=features)


def test_detection_over_splits_gives_one_area_per_split_and_method(setup):
    _, collected, features, _ = setup
    table, scores = detection_over_splits(collected, 2, settings=SETTINGS, features=features)
    assert list(table["split"]) == [0, 0, 0, 1, 1, 1] and set(table["method"]) == {"gptfluence", "tracin-cp", "random"}
    assert not np.array_equal(scores[0]["random"], scores[1]["random"])  # each split draws its own random order
    assert not np.array_equal(scores[0]["gptfluence"], scores[1]["gptfluence"])
    with pytest.raises(ConfigError, match="n_splits"):
        detection_over_splits(collected, len(collected.runs) + 1, settings=SETTINGS, features=features)
