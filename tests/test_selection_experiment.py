"""The notebook-06 experiment: equal token budgets, subset sizes, the runner end to end, paper table."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.models import ModelShape
from mini_lib.core.tokenization import pack_corpus, train_tokenizer
from mini_lib.core.train import TrainConfig
from mini_lib.corpora.storyworld import generate_stories
from mini_lib.lab.profiles import notebook_settings
from mini_lib.papers.data_selection import experiment as ex
from mini_lib.papers.data_selection.analysis import kept_kinds, scorer_table, selection_table
from mini_lib.papers.data_selection.data import build_corpus, noisy_corpus, proxy_data
from mini_lib.papers.data_selection.density import SketchConfig
from mini_lib.papers.data_selection.experiment import (
    FULL,
    CorpusScores,
    budget_tokens,
    cached_scores,
    make_subsets,
    run_selection_grid,
    steps_to_reach,
)
from mini_lib.papers.data_selection.paper import paper_vs_ours
from mini_lib.papers.data_selection.samplers import select

SAMPLERS = ("random", "askllm", "perplexity", "density")


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(120, noise_fraction=0.25, duplicate_rate=0.2, repeat_k=2, seed=0)


def fake_scores(corpus, seed=0):
    """A scorer that knows the labels up to noise: clean documents get high P(yes), low perplexity."""
    rng = np.random.default_rng(seed)
    good = corpus.is_good.astype(float)
    emb = rng.normal(size=(len(corpus), 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return CorpusScores({"paper": 0.2 + 0.6 * good + 0.1 * rng.random(len(corpus))},
                        np.exp(2 + (1 - good) + 0.1 * rng.random(len(corpus))), emb)


def test_corpus_has_labels_and_repeats(corpus):
    assert len(corpus) == 120
    kinds = set(corpus.quality)
    assert kinds == {"clean", "word_salad", "shuffled", "boilerplate", "truncated", "off_topic"}
    # 30 of 120 stories replaced before duplication; the repeats drop some rows and copy others
    assert 20 <= (~corpus.is_good & ~corpus.is_duplicate).sum() <= 30
    assert corpus.is_duplicate.sum() == 12  # 20% of rows are 2-fold repeats: 12 repeated docs, 12 extra rows


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.4, 0.6, 0.8])
def test_each_sampler_keeps_the_requested_size(corpus, fraction):
    subsets = make_subsets(fake_scores(corpus), SAMPLERS, [fraction], seed=1)
    for sampler in SAMPLERS:
        kept = subsets[sampler, fraction]
        assert len(kept) == round(fraction * len(corpus)) or len(kept) == int(fraction * len(corpus))
        assert len(np.unique(kept)) == len(kept)
    assert len(subsets[FULL, 1.0]) == len(corpus)


def test_good_scorer_selects_clean_documents(corpus):
    subsets = make_subsets(fake_scores(corpus), ("askllm", "random"), [0.5], seed=0)
    table = selection_table(subsets, corpus).set_index("sampler")
    assert table.loc["askllm", "precision"] == 1.0 and table.loc["askllm", "low_quality_removed"] == 1.0
    assert table.loc["random", "precision"] < 0.95
    kinds = kept_kinds(subsets, corpus)
    assert kinds[(kinds.sampler == "askllm") & (kinds.kind == "word_salad")]["kept"].iloc[0] == 0.0
    auroc = scorer_table(fake_scores(corpus), corpus).set_index("scorer")
    assert auroc.loc["askllm[paper]", "all"] == 1.0 and auroc.loc["perplexity (negated)", "word_salad"] == 1.0


def test_steps_to_reach_is_first_step_at_target():
    curve = pd.DataFrame({"step": [0, 10, 20, 30], "val_loss": [5.0, 4.0, 3.5, 3.0]})
    assert steps_to_reach(curve, 3.5) == 20 and np.isnan(steps_to_reach(curve, 2.0))


def test_budget_is_equal_and_cache_roundtrips(tmp_path):
    assert budget_tokens(40, 8, 32) == 40 * 8 * 32
    calls = []
    first = cached_scores("x", ["a", "b"], "t", lambda: calls.append(1) or np.array([1.0, 2.0]), tmp_path)
    again = cached_scores("x", ["a", "b"], "t", lambda: calls.append(1) or np.array([9.0, 9.0]), tmp_path)
    assert calls == [1] and np.array_equal(first, again)
    with pytest.raises(ConfigError):
        select("askllm", 0.5, scores=None)


@pytest.mark.usefixtures("one_thread")  # and restored afterwards, unlike a bare set_num_threads
def test_runner_end_to_end_equal_tokens(corpus, tmp_path):
    tok = train_tokenizer(generate_stories(200, seed=5)["text"], 320, model_max_length=32)
    val = pack_corpus(tok, generate_stories(30, seed=6)["text"], list(range(30)), 32)
    subsets = make_subsets(fake_scores(corpus), ("random", "askllm", "density"), [0.2], seed=0)
    config = TrainConfig(steps=6, batch_size=4, lr=3e-3, warmup_steps=1, eval_every=3, eval_examples=8,
                         progress=False, device="cpu", log_every=100)
    run = run_selection_grid(corpus, subsets, tok, val, tmp_path, large=ModelShape(2, 32, 2),
                             small=ModelShape(1, 16, 2), train_config=config, seq_len=32)
    s = run.summary.set_index("name")
    assert len(s) == 5  # small-full, large-full, three subsets
    assert set(s["tokens"]) == {6 * 4 * 32} == {run.budget_tokens}
    # smaller subsets repeat more epochs, all on the same budget
    assert s.loc["large-random-0.2", "epochs"] > s.loc["large-full-1", "epochs"]
    assert np.allclose(s["epochs"] * s["subset_tokens"], run.budget_tokens)
    assert s.loc["large-full-1", "over_scaling"] == pytest.approx(0.0)
    assert np.isnan(s.loc["small-full-1", "over_scaling"])
    table = paper_vs_ours(run.summary, ("random", "askllm", "density"))
    assert {"over-scaling (%) at 20%: random", "over-scaling (%) at 20%: askllm"} <= set(table["quantity"])
    askllm = table.set_index("quantity").loc["over-scaling (%) at 20%: askllm"]
    assert askllm.paper == 33.0 and askllm.setting == "large model, keep fraction 0.2"
    assert np.isfinite(table.loc[table.quantity == "over-scaling (%) at 20%: random", "ours"].iloc[0])
    assert len(table) == 3 + 3  # one row per sampler, then the three qualitative claims
    assert table["quantity"].str.contains("(%)", regex=False).all()  # every row names its unit, % in both columns
    rows = table.set_index("quantity")
    beats = rows.loc["over-scaling (%) of Ask-LLM at 20% kept"]  # the grid's smallest fraction, which it names
    assert beats.paper.startswith("> 0") and beats.ours == pytest.approx(s.loc["large-askllm-0.2", "over_scaling"])
    assert rows.loc["speed-up (%) of Ask-LLM to the full-data loss", "paper"] == pytest.approx(70.0)
    dens = rows.loc["over-scaling (%) of Density at its best keep fraction"]
    assert dens.paper.startswith("about 0") and dens.ours == pytest.approx(s.loc["large-density-0.2", "over_scaling"])


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_the_notebooks_settings_become_the_configs_it_used_to_map_by_hand(profile):
    s = notebook_settings("06_data_selection", profile)
    quiet = {"log_every": 10_000, "seed": s.seed, "progress": False}
    optimiser = {"batch_size": s.batch_size, "lr": s.lr, "warmup_steps": s.warmup_steps, "eval_examples": s.eval_examples}
    assert ex.proxy_train_config(s) == TrainConfig(steps=s.proxy_steps, **optimiser, **quiet)  # evaluated at the end
    assert ex.train_config(s) == TrainConfig(steps=s.steps, eval_every=s.eval_every, **optimiser, **quiet)
    assert ex.model_shapes(s) == (ModelShape(s.n_layers, s.d_model, s.n_heads),
                                  ModelShape(s.small_n_layers, s.small_d_model, s.small_n_heads))
    assert ex.sketch_config(s) == SketchConfig(n_hashes=s.sketch_hashes, n_buckets=s.sketch_buckets,
                                               bandwidth=s.sketch_bandwidth, seed=s.seed)


def test_proxy_data_is_the_recipe_on_other_stories_than_the_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("MINI_LIB_CACHE", str(tmp_path))
    s = replace(notebook_settings("06_data_selection", "smoke"), proxy_docs=50, vocab_size=300)
    data = proxy_data(s)
    assert len(data.train_split) + len(data.val_split) == 50 and len(data.val_split) == 10  # 20% held out
    assert len(data.tokenizer) == 300 and data.train.seq_len == s.seq_len
    corpus_texts = set(build_corpus(50, noise_fraction=0.0, duplicate_rate=0.0, repeat_k=2, seed=s.seed).texts)
    assert not corpus_texts & set(data.train_split["text"])  # seed + 1: not the stories it will score


def test_the_corpus_scores_and_subsets_follow_the_settings_the_notebook_hands_over(monkeypatch):
    s = replace(notebook_settings("06_data_selection", "cpu"), n_stories=60, keep_fractions=(0.25, 0.5), n_clusters=4)
    corpus = noisy_corpus(s)
    by_hand = build_corpus(60, noise_fraction=s.noise_fraction, duplicate_rate=s.duplicate_rate, repeat_k=s.repeat_k,
                           seed=s.seed, tier=s.tier)
    assert corpus.texts == by_hand.texts and (corpus.quality == by_hand.quality).all()

    seen = {}
    monkeypatch.setattr(ex, "score_corpus", lambda corpus, **kwargs: seen.update(kwargs) or "scored")
    assert ex.corpus_scores(s, corpus, "proxy", "tokenizer") == "scored"
    assert seen == {"proxy_model": "proxy", "proxy_tokenizer": "tokenizer", "askllm_variants": s.askllm_variants,
                    "scorer_path": s.scorer_path, "max_example_tokens": s.askllm_max_tokens,
                    "askllm_batch_size": s.askllm_batch_size, "seq_len": s.seq_len}

    scores = fake_scores(corpus)
    subsets = ex.grid_subsets(s, scores)
    expected = make_subsets(scores, s.samplers, s.keep_fractions, seed=s.seed, n_clusters=4, sketch=ex.sketch_config(s))
    assert subsets.keys() == expected.keys()
    assert all((subsets[key] == expected[key]).all() for key in expected)
