"""Notebook 02's experiment: equal budgets, per-corpus tokenizers, the grid, the Nx comparison, the power laws."""

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.grid import run_grid
from mini_lib.core.models import model_size, neox_config
from mini_lib.core.scaling import PowerLawFit
from mini_lib.core.tokenization import encode_documents, train_tokenizer
from mini_lib.core.train import TrainConfig
from mini_lib.core.zero_shot_tasks import storyworld_tasks
from mini_lib.papers.simplified_vocab import analysis, paper
from mini_lib.papers.simplified_vocab import data as sv_data
from mini_lib.papers.simplified_vocab import experiment as sv
from mini_lib.papers.simplified_vocab.vocabulary import builtin_vocabulary

SEQ = 32


@lru_cache(maxsize=1)
def story_data():
    return sv_data.build_equal_budget_data("storyworld", n_stories=240, vocab_size=400, seq_len=SEQ,
                                      val_fraction=0.1, train_tokens=200 * SEQ, seed=0)


def test_equal_token_budgets_counted_with_each_tokenizer():
    data = story_data()
    assert data.budget_tokens == 200 * SEQ
    assert data.simple.train.n_tokens == data.unrestricted.train.n_tokens == 200 * SEQ
    assert data.simple.available_tokens < data.unrestricted.available_tokens  # rich stories are longer
    # the budget cuts the rich set at fewer stories
    assert len(data.unrestricted.budget_documents()) < len(data.simple.budget_documents())
    full = sv_data.build_equal_budget_data("storyworld", n_stories=240, vocab_size=400, seq_len=SEQ, val_fraction=0.1)
    assert full.budget_tokens == full.simple.available_tokens // SEQ * SEQ  # 0: all the smaller set holds
    with pytest.raises(ConfigError, match="holds only"):
        sv_data.build_equal_budget_data("storyworld", n_stories=240, vocab_size=400, seq_len=SEQ, val_fraction=0.1,
                                   train_tokens=10**7)


def test_each_set_has_its_own_tokenizer_trained_on_its_own_documents():
    data = story_data()
    simple, rich = data.simple, data.unrestricted
    assert simple.tokenizer.get_vocab() != rich.tokenizer.get_vocab()
    for variant in (simple, rich):  # the cache returns the tokenizer trained on exactly these documents
        retrained = train_tokenizer(variant.documents, 400, model_max_length=SEQ, cache=False)
        assert retrained.get_vocab() == variant.tokenizer.get_vocab()

    def tokens(variant, texts):
        return sum(map(len, encode_documents(variant.tokenizer, texts)))

    # each tokenizer encodes its own corpus more compactly than the other's
    assert tokens(simple, simple.documents) < tokens(rich, simple.documents)
    assert tokens(rich, rich.documents) < tokens(simple, rich.documents)


def test_same_story_plans_and_split_in_both_tiers():
    data = story_data()
    assert data.simple.doc_ids == data.unrestricted.doc_ids
    assert set(map(int, data.simple.val.doc_ids)) == set(map(int, data.unrestricted.val.doc_ids))
    assert not set(data.simple.doc_ids) & set(map(int, data.simple.val.doc_ids))


def test_a_local_corpus_becomes_filtered_vs_unfiltered(tmp_path):
    easy = " ".join(["The dog ran to the big tree and the cat sat on the red mat."] * 4)
    hard = "Quarterly deliberations notwithstanding, jurisprudence remains indeterminate. " * 6
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"text": f"{easy} {hard}" if i % 2 else easy}) + "\n" for i in range(120)))
    vocab = frozenset("the dog ran to big tree and cat sat on red mat".split())
    data = sv_data.build_equal_budget_data("local", corpus_path=str(path), n_stories=120, vocab_size=300, seq_len=SEQ,
                                      val_fraction=0.1, vocabulary=vocab)
    assert data.filter_stats.n_docs == 108 and 0.2 < data.filter_stats.kept_fraction < 0.8
    assert all(t.startswith("<s> The dog") and "Quarterly" not in t for t in data.simple.documents)
    assert any("Quarterly" in t for t in data.unrestricted.documents)
    assert data.simple.train.n_tokens == data.unrestricted.train.n_tokens == data.budget_tokens
    with pytest.raises(ConfigError, match="vocabulary="):
        sv_data.build_equal_budget_data("local", corpus_path=str(path), n_stories=120, vocab_size=300, seq_len=SEQ)
    with pytest.raises(ConfigError, match="offline"):
        sv_data.build_equal_budget_data("hub", corpus_name="DKYoon/SlimPajama-6B", vocabulary=vocab)


def test_corpus_statistics_and_overlap():
    data = story_data()
    table = sv_data.corpus_statistics(data).set_index("data")
    assert (table.budget_tokens == data.budget_tokens).all()
    assert table.loc["unrestricted", "word_types"] > table.loc["simple", "word_types"]
    assert table.loc["unrestricted", "tokens_per_word"] > table.loc["simple", "tokens_per_word"]
    assert 0.5 < sv_data.vocabulary_overlap(data) < 0.99  # the rich tier swaps many child words away


def test_grid_shapes_are_the_papers_18_with_pythia_learning_rates():
    shapes = sv.grid_shapes()
    assert len(shapes) == 18 and {s.n_heads for s in shapes} == {8}  # x 2 data sets = the paper's 36 models
    by_name = {sv.shape_name(s): s for s in shapes}
    assert sv.grid_lr(512, 1e-3) == 1e-3 and sv.grid_lr(1024, 1e-3) == pytest.approx(3e-4)
    largest = model_size(neox_config(by_name["h1024-l8"], 15_000, 128), 128)
    smallest = model_size(neox_config(by_name["h32-l2"], 15_000, 128), 128)
    assert 1.2e8 < largest.total < 1.4e8  # 131M: the paper's 165M has Llama's 3-matrix MLP
    assert 0.9e6 < smallest.total < 1.1e6  # ~1M, as the paper's smallest
    assert largest.unembedding == largest.embedding  # untied
    with pytest.raises(ConfigError, match="not divisible"):
        sv.grid_shapes((36,), (2,))


def test_grid_cells_train_one_epoch_and_score_tasks_at_the_end(tmp_path):
    data = story_data()
    shapes = sv.grid_shapes((16,), (1,), n_heads=2)
    base = TrainConfig(steps=1, batch_size=100, lr=1e-3, eval_examples=4, progress=False, device="cpu")
    task_sets = {tier: storyworld_tasks(2, tier=tier, tasks=("blimp_word_order", "boolq_story")) for tier in ("simple", "rich")}
    cells = sv.grid_cells(data, shapes, base, tmp_path, task_sets, evals_per_run=2)
    assert [c.name for c in cells] == ["simple-h16-l1", "unrestricted-h16-l1"]
    assert all(c.config.steps == 2 and c.config.eval_every == 1 for c in cells)  # 200 blocks / 100 = one epoch
    assert all(c.config.lr == sv.grid_lr(16, base.lr) == base.lr for c in cells)  # the lr comes from the loop's config
    grid = run_grid(cells, tmp_path)
    zero_shot = sv.read_zero_shot(grid.summary, tmp_path)
    assert len(zero_shot) == 2 * 2 * 2  # models x task sets x tasks
    assert zero_shot.acc.between(0, 1).all() and set(zero_shot.task_set) == {"simple", "rich"}
    accuracy = analysis.model_accuracy(zero_shot, {"simple": "simple", "unrestricted": "rich"})
    assert list(accuracy.columns[-2:]) == ["acc_simple_tasks", "acc_own_tasks"] and len(accuracy) == 2
    assert run_grid(cells, tmp_path).summary.val_loss.tolist() == grid.summary.val_loss.tolist()  # resumes: skipped
    (tmp_path / "simple-h16-l1" / "zero_shot.json").unlink()
    with pytest.raises(ConfigError, match="did not score"):
        sv.read_zero_shot(grid.summary, tmp_path)


def accuracy_table(simple, unrestricted):
    """Models of 1M, 2M, 4M, 8M parameters per data type with the given accuracies."""
    rows = [{"name": f"{d}-{i}", "data": d, "parameters": 10**6 * 2**i, "acc_own_tasks": a}
            for d, accs in (("simple", simple), ("unrestricted", unrestricted)) for i, a in enumerate(accs)]
    return pd.DataFrame(rows)


def test_size_ratio_finds_the_smallest_matching_unrestricted_model():
    table = accuracy_table([0.55, 0.62, 0.60, 0.58], [0.50, 0.55, 0.61, 0.63])
    match = analysis.size_ratio_to_match(table)
    assert (match.best, match.match, match.ratio) == ("simple-1", "unrestricted-3", 4.0)
    assert "4.00x" in match.statement()
    loose = analysis.size_ratio_to_match(table, tolerance=0.01)
    assert loose.match == "unrestricted-2" and loose.ratio == 2.0


def test_size_ratio_the_other_way_matches_the_best_unrestricted_model():
    table = accuracy_table([0.55, 0.62, 0.66, 0.70], [0.50, 0.55, 0.61, 0.64])
    assert analysis.size_ratio_to_match(table).match is None  # nothing in the grid reaches simple-3
    reverse = analysis.size_ratio_to_match(table, best_of="unrestricted")
    assert (reverse.best, reverse.match, reverse.ratio) == ("unrestricted-3", "simple-2", 2.0)
    assert "smallest simple model at least as accurate: simple-2" in reverse.statement()
    with pytest.raises(ConfigError, match="best_of"):
        analysis.size_ratio_to_match(table, best_of="pythia")


def test_size_ratio_reports_a_bound_or_a_failed_claim_honestly():
    none = analysis.size_ratio_to_match(accuracy_table([0.70, 0.72, 0.71, 0.70], [0.50, 0.55, 0.61, 0.63]))
    assert none.match is None and none.ratio is None and "ratio > 4.00x" in none.statement()
    none_reverse = analysis.size_ratio_to_match(accuracy_table([0.5, 0.5, 0.5, 0.5], [0.7, 0.6, 0.6, 0.6]), best_of="unrestricted")
    assert none_reverse.match is None and "ratio < 0.12x" in none_reverse.statement()  # 1M vs the largest simple, 8M
    reversed_claim = analysis.size_ratio_to_match(accuracy_table([0.50, 0.52, 0.55, 0.60], [0.61, 0.62, 0.63, 0.64]))
    assert reversed_claim.ratio == pytest.approx(1 / 8)  # a smaller unrestricted model already matches
    with pytest.raises(ConfigError, match="both data types"):
        analysis.size_ratio_to_match(accuracy_table([0.5], []))


def test_the_nx_pair_is_the_one_nearest_to_the_ratio_the_claim_names():
    table = accuracy_table([0.55, 0.62, 0.60, 0.58], [0.50, 0.55, 0.61, 0.63])  # 1M, 2M, 4M, 8M per data type
    pair = analysis.pair_at_ratio(table, "acc_own_tasks", 3)  # 4x (1M-4M, 2M-8M) is nearest above 3x
    assert (pair.simple, pair.unrestricted, pair.ratio) == ("simple-1", "unrestricted-3", 4.0)  # tie: larger simple
    assert pair.statement() == "simple-1 (2.00M) 0.620 vs unrestricted-3 (8.00M, 4.0x) 0.630: -0.010"
    assert analysis.pair_at_ratio(table, "acc_own_tasks", 8).ratio == 8.0  # exactly 8x counts
    assert analysis.pair_at_ratio(table, "acc_own_tasks", 9) is None


def test_loss_steps_count_where_wider_and_deeper_models_lower_the_loss():
    summary = pd.DataFrame([{"data": d, "hidden": h, "layers": l, "val_loss": loss}
                            for d, losses in (("simple", (5.0, 4.0, 5.2, 4.5)), ("unrestricted", (5.0, 5.1, 4.9, 5.2)))
                            for (h, l), loss in zip(((32, 2), (64, 2), (32, 4), (64, 4)), losses)])
    steps = analysis.loss_steps(summary).set_index(["data", "step"])
    simple_wider = steps.loc[("simple", "wider (hidden up one grid value, same layers)")]
    assert (simple_wider.pairs, simple_wider.loss_fell, simple_wider.mean_change) == (2, 2, pytest.approx(-0.85))
    simple_deeper = steps.loc[("simple", "deeper (layers up one grid value, same hidden)")]
    assert (simple_deeper.pairs, simple_deeper.loss_fell) == (2, 0)  # every 4-layer model worse than its twin
    assert steps.loc[("unrestricted", "deeper (layers up one grid value, same hidden)")].loss_fell == 1


def test_against_chance_counts_models_above_inside_and_below_the_band():
    assert analysis.chance_band(0.5, 100) == (pytest.approx(0.4), pytest.approx(0.6))  # 2 SE of a coin, 100 items
    zero_shot = pd.DataFrame([{"task": "sst2_ending", "data": "simple", "n": 100, "chance": 0.5, "acc": a}
                              for a in (0.35, 0.39, 0.45, 0.55, 0.65)])
    row = analysis.against_chance(zero_shot).iloc[0]
    assert (row["items"], row.band, row.above, row.inside, row.below) == (100, "0.40-0.60", 1, 2, 2)
    assert row.mean_acc == pytest.approx(0.478)


def test_compute_frontier_is_the_lower_envelope():
    points = pd.DataFrame({"flops": [1, 2, 2, 4, 8, 16], "val_loss": [5.0, 4.0, 4.5, 4.2, 3.0, 3.5]})
    assert analysis.compute_frontier(points).tolist() == [True, True, False, False, True, False]


def test_scaling_fits_recover_known_exponents():
    n = np.array([1e4, 3e4, 1e5, 3e5])
    summary = pd.DataFrame({"name": [f"simple-{i}" for i in range(4)] + ["unrestricted-0"],
                            "data": ["simple"] * 4 + ["unrestricted"], "hidden": [32, 64, 128, 256, 32],
                            "layers": [2] * 5, "non_embedding": [*n, 1e4], "tokens": [1e6] * 5,
                            "val_loss": [*(1e6 / n) ** 0.1, 9.0]})  # L(N) = (1e6 / N)^0.1; the other model is ignored
    # the data sweep of shape h64-l2 (full run: row 1, 1e6 tokens): L(D) proportional to D^-0.2
    sweep = pd.DataFrame({"name": ["d1", "d2"], "data": ["simple"] * 2, "hidden": [64, 64], "layers": [2, 2],
                          "tokens": [2.5e5, 5e5]})
    sweep["val_loss"] = (1e6 / sweep.tokens) ** 0.2 * summary.val_loss[1]
    flops = np.array([1e9, 1e10, 1e11, 1e12])
    curves = pd.DataFrame({"data": "simple", "name": "simple-3", "step": [1, 2, 3, 4], "flops": flops,
                           "val_loss": (1e14 / flops) ** 0.05})
    fits = analysis.scaling_fits(summary, curves, sweep)
    assert fits.n.exponent == pytest.approx(0.1, rel=1e-6) and fits.n.scale == pytest.approx(1e6, rel=1e-4)
    assert fits.d.exponent == pytest.approx(0.2, rel=1e-6) and fits.d_points.tokens.tolist() == [2.5e5, 5e5, 1e6]
    assert fits.c.exponent == pytest.approx(0.05, rel=1e-6) and fits.c_points.frontier.all()
    table = fits.table().set_index("law")
    assert table.loc["L(C)", "points"] == 4 and table.loc["L(D)", "points"] == 3 and table.loc["L(N)", "points"] == 4
    too_few = analysis.scaling_fits(summary.iloc[[0, 1, 4]], curves, None)
    assert too_few.n is None and too_few.d is None and np.isnan(too_few.table().exponent.iloc[0])


def test_default_vocabulary_says_which_list_without_a_path_of_this_machine(monkeypatch, tmp_path):
    monkeypatch.setenv("MINI_LIB_SHARED_DATA", str(tmp_path))  # a fresh clone: an empty shared data folder
    vocab, note = sv_data.default_vocabulary("auto")
    assert vocab == builtin_vocabulary() and note.startswith("the built-in")
    assert "aochildes_vocab.csv" in note and "is not in the shared data folder" in note and "/" not in note
    assert "not in" not in sv_data.default_vocabulary("builtin")[1]  # asked for: nothing is missing
    (tmp_path / "aochildes_vocab.csv").write_text("word\ndog\nran\n")
    vocab, note = sv_data.default_vocabulary("auto")
    assert vocab == {"dog", "ran"} and note.startswith("AO-CHILDES (2 words") and "/" not in note
    (tmp_path / "aochildes_vocab.csv").unlink()
    with pytest.raises(ConfigError, match="word list not found"):
        sv_data.default_vocabulary("aochildes")
    with pytest.raises(ConfigError, match="unknown vocabulary"):
        sv_data.default_vocabulary("oxford")


def test_filter_table_shows_both_rules():
    vocab = frozenset("on grandma baked cookies for the kids dog ran".split())
    table = sv_data.filter_table(["On Monday, Grandma Rosa baked 12 cookies for the kids.", "The dog ran."], vocab)
    first = table.iloc[0]
    assert first.oov_words_span_filter == "monday, rosa"  # the training filter sees every word
    assert first.fully_in_vocabulary and first.oov_rate_task_rule == 0.0  # names pass the task rule
    assert table.iloc[1].words == 3


def test_paper_vs_ours_names_the_papers_numbers():
    data = story_data()
    summary = pd.DataFrame({"data": ["simple", "unrestricted"], "parameters": [10**6, 2 * 10**6]})
    match = analysis.size_ratio_to_match(accuracy_table([0.6, 0.7, 0.6, 0.6], [0.5, 0.6, 0.7, 0.7]))
    fits = analysis.ScalingFits(None, None, None, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    table = paper.paper_vs_ours(data, summary, {"own": match}, fits, 1.0, "built-in")
    text = table.to_string()
    assert "2.1B tokens" in text and "0.64" in text and "~6x" in text and "too few points" in text
    assert f"{data.budget_tokens:,} tokens each" in text


def claims_inputs(simple, unrestricted, se=0.01):
    """Two shapes per data type (1M and 8M parameters), their task accuracies (both protocols equal) and
    per-task standard errors (two tasks per model, so a model's SE is se / sqrt(2))."""
    accuracy = pd.DataFrame([{"name": f"{d}-{h}", "data": d, "hidden": h, "layers": 2, "parameters": p,
                              "acc_own_tasks": a, "acc_simple_tasks": a}
                             for d, accs in (("simple", simple), ("unrestricted", unrestricted))
                             for (h, p), a in zip(((32, 10**6), (128, 8 * 10**6)), accs)])
    zero_shot = pd.DataFrame([{"name": row.name, "task_set": task_set, "task": task, "acc_se": se}
                              for row in accuracy.itertuples() for task_set in ("simple", "rich") for task in "ab"])
    return accuracy, zero_shot


def power_fits(exponent, err, r2=0.99):
    fit = PowerLawFit(0.0, 1e6, exponent, 0.0, 1.0, err, r2, 4)
    return analysis.ScalingFits(fit, fit, None, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())


def test_claims_hold_when_simple_data_wins_clearly_and_loss_follows_a_power_law():
    accuracy, zero_shot = claims_inputs(simple=[0.70, 0.80], unrestricted=[0.55, 0.68])
    rows = paper.claims(accuracy, zero_shot, {"simple": "simple", "unrestricted": "rich"}, power_fits(0.1, 0.01))
    assert len(rows) == 7 and all(r.paper == paper.PAPER_ID and r.rule for r in rows)
    assert [r.verdict for r in rows] == ["holds"] * 4 + ["holds", "holds", "not run"]  # no C fit: not run
    assert rows[1].ours.startswith("at 8.0x, the grid's pair nearest 6x: simple-32 (1.00M) 0.700 vs "
                                   "unrestricted-128 (8.00M, 8.0x) 0.680: +0.020")
    assert rows[1].no_difference and rows[1].in_short == "Our run cannot tell them apart either, as the paper says."
    assert not rows[0].no_difference and rows[0].in_short == "Our run shows it too, beyond its noise."
    one_protocol = paper.claims(accuracy, zero_shot, {"simple": "simple", "unrestricted": "simple"}, power_fits(0.1, 0.01))
    assert len(one_protocol) == 5  # both data types scored on the same tasks: one protocol


def test_claims_fail_when_simple_data_loses_and_loss_rises():
    accuracy, zero_shot = claims_inputs(simple=[0.50, 0.55], unrestricted=[0.70, 0.80])
    rows = paper.claims(accuracy, zero_shot, {"simple": "simple", "unrestricted": "rich"}, power_fits(-0.1, 0.01))
    assert [r.verdict for r in rows[:2]] == ["reversed", "reversed"] and rows[4].verdict == "reversed"


def test_claims_within_noise_curved_or_not_measurable_say_so():
    accuracy, zero_shot = claims_inputs(simple=[0.62, 0.70], unrestricted=[0.60, 0.66], se=0.05)  # SE ~0.05
    rows = paper.claims(accuracy, zero_shot, {"simple": "simple", "unrestricted": "rich"}, power_fits(0.1, 0.01, r2=0.5))
    assert rows[0].verdict == "within noise" and rows[1].verdict == "within noise"
    assert rows[4].verdict == "within noise" and "not as a straight line" in rows[4].note
    close = accuracy.assign(parameters=[10**6, 3 * 10**6] * 2)  # the grid spans 3x: the 6x claim cannot be tested
    assert paper.claims(close, zero_shot, {"simple": "simple", "unrestricted": "rich"}, power_fits(0.1, 0.01))[1].verdict == "not run"


def test_prepare_data_maps_the_notebooks_settings_onto_the_builder():
    from dataclasses import replace

    import numpy as np

    from mini_lib.papers.simplified_vocab.settings import PROFILES

    settings = replace(PROFILES["smoke"], n_stories=240, vocab_size=400, seq_len=SEQ, val_fraction=0.1,
                       train_tokens=200 * SEQ, seed=0)
    data, expected = sv_data.prepare_data(settings, vocabulary=None), story_data()
    assert data.corpus == "storyworld" and data.budget_tokens == expected.budget_tokens
    for name in ("simple", "unrestricted"):
        assert np.array_equal(data.variants[name].train.tokens, expected.variants[name].train.tokens)
