"""The quality-vs-quantity grid: shared data, variants (paper + natural construction), on-the-fly
packing, grid cells, the paper's table beside ours, claim checks and the paper's metric conventions."""

import json
import math
import re
from dataclasses import replace
from types import SimpleNamespace

import datasets
import numpy as np
import pandas as pd
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import evaluate_lm
from mini_lib.core.grid import run_grid
from mini_lib.core.models import model_size
from mini_lib.core.tokenization import PackedBlocks, encode_corpus, pack_documents, train_tokenizer
from mini_lib.lab.profiles import notebook_settings
from mini_lib.papers.quality_quantity import analysis as qq_analysis
from mini_lib.papers.quality_quantity import data as qq_data
from mini_lib.papers.quality_quantity import experiment as qq_experiment
from mini_lib.papers.quality_quantity import paper as qq_paper
from mini_lib.papers.quality_quantity.duplication import paper_accuracy_per_window, size_variant_indices


@pytest.fixture(scope="module")
def settings():
    return replace(
        notebook_settings("03", "smoke"), n_stories=400, vocab_size=320, seq_len=32, d_model=32,
        size_fractions=(0.5, 1.0), duplication_rates=(0.0, 0.5, 1.0), n_seeds=2, steps=2, warmup_steps=1,
        eval_examples=8,
    )


@pytest.fixture(scope="module")
def data(settings):
    return qq_data.prepare_data(settings)


# ---- shared data: one split, one tokenizer, validation untouched ---------------------------------

def test_one_tokenizer_trained_on_the_clean_train_split(data, settings):
    again = train_tokenizer(data.train_texts, settings.vocab_size, model_max_length=settings.seq_len)
    assert again.get_vocab() == data.tokenizer.get_vocab()
    n_train = len(data.train_docs)
    assert n_train + data.n_val_docs == settings.n_stories and data.n_val_docs == 40
    assert not set(data.train_docs.doc_ids) & set(int(i) for i in data.val.doc_ids)


def test_encoded_docs_are_the_tokens_followed_by_eos(data):
    docs, eos = data.train_docs, data.tokenizer.eos_token_id
    for i in (0, 7, len(docs) - 1):
        ids = data.tokenizer(data.train_texts[i], add_special_tokens=False).input_ids
        piece = docs.stream[docs.starts[i] : docs.starts[i] + docs.lengths[i]]
        assert list(piece) == ids + [eos]
    assert docs.stream.size == docs.lengths.sum()
    with pytest.raises(ConfigError, match="document ids"):
        encode_corpus(data.tokenizer, ["a b", "c"], [1])


def test_variant_blocks_pack_exactly_as_pack_documents(data):
    docs = data.train_docs
    sources = np.array([3, 5, 5, 0, 5, 9, 2, 5, 11, 4, 5, 8])  # repeats, as a duplicated corpus has
    blocks = qq_data.VariantBlocks(docs, sources, seq_len=16)
    token_lists = [list(docs.stream[docs.starts[i] : docs.starts[i] + docs.lengths[i] - 1]) for i in sources]
    reference = pack_documents(token_lists, docs.doc_ids[sources], 16, data.tokenizer.eos_token_id)
    assert len(blocks) == len(reference) and blocks.n_tokens == reference.n_tokens
    assert np.array_equal(blocks.collate(np.arange(len(blocks)))["input_ids"].numpy(), reference.tokens)
    batch = blocks.collate([2, 0, 2])
    assert torch.equal(batch["input_ids"], batch["labels"]) and batch["input_ids"].dtype == torch.int64
    for b in range(len(blocks)):
        assert blocks.example_ids(b) == reference.example_ids(b)
    with pytest.raises(ConfigError, match="fewer than one block"):
        qq_data.VariantBlocks(docs, sources[:1], seq_len=10_000)


# ---- variants: size, the paper's duplication, the natural construction ---------------------------

@pytest.mark.parametrize("size,rate", [(0.25, 0.0), (0.5, 0.25), (1.0, 0.75), (1.0, 1.0)])
def test_paper_variant_counts_and_exactly_one_duplicated_document(data, size, rate):
    index = data.index()
    n = len(index)
    variant = qq_data.make_variant(index, size, rate, seed=3)
    kept = size_variant_indices(n, size, 3)
    assert len(variant.sources) == len(kept) == max(1, round(size * n))  # document count constant
    assert set(variant.sources) <= set(kept)
    counts = np.bincount(variant.sources, minlength=n)
    copies = math.floor(rate * (len(kept) - 1)) + 1
    repeated = np.flatnonzero(counts > 1)
    assert len(repeated) == (1 if copies > 1 else 0)  # exactly one duplicated document
    assert counts.max() == copies and variant.info.copies_per_duplicated_doc == copies
    assert variant.info.n_distinct_docs == len(kept) - copies + 1 == len(set(variant.sources))
    assert variant.name == f"size{round(size * 100):03d}_dup{round(rate * 100):03d}_seed3"


def test_variants_are_seeded(data):
    index = data.index()
    a, b = qq_data.make_variant(index, 0.5, 0.5, seed=1), qq_data.make_variant(index, 0.5, 0.5, seed=1)
    c = qq_data.make_variant(index, 0.5, 0.5, seed=2)
    assert np.array_equal(a.sources, b.sources) and a.info.duplicated_ids == b.info.duplicated_ids
    assert not np.array_equal(a.sources, c.sources)


def test_natural_construction_holds_documents_or_tokens(data):
    index = data.index()
    n = len(index)
    docs = qq_data.make_variant(index, 1.0, 0.4, seed=0, construction="many", k=4, hold="documents")
    counts = np.bincount(docs.sources, minlength=n)
    assert len(docs.sources) == n and set(counts[counts > 1]) == {4}
    assert (counts > 1).sum() == math.floor(0.4 * n / 4) == len(docs.info.duplicated_ids)
    assert docs.name == "size100_dup040_seed0_many-k4-documents"
    tokens = qq_data.make_variant(index, 1.0, 0.4, seed=0, construction="many", k=4, hold="tokens")
    lengths = data.train_docs.lengths - 1  # held in tokens of the shared tokenizer
    assert abs(lengths[tokens.sources].sum() - lengths.sum()) <= lengths.max()
    repeated = np.flatnonzero(np.bincount(tokens.sources, minlength=n) > 1)
    assert 4 * lengths[repeated].sum() == pytest.approx(0.4 * lengths.sum(), abs=4 * lengths.max())


def test_invalid_sizes_rates_and_settings_are_clear_errors(data, settings):
    index = data.index()
    for size in (0.0, -0.25, 1.5):
        with pytest.raises(ConfigError, match="size"):
            qq_data.make_variant(index, size, 0.0, seed=0)
    for rate in (-0.1, 1.25):
        with pytest.raises(ConfigError, match="rate"):
            qq_data.make_variant(index, 1.0, rate, seed=0)
    with pytest.raises(ConfigError, match="choose one of: one_document, many"):
        qq_data.make_variant(index, 1.0, 0.5, seed=0, construction="half")
    bad = [
        ({"duplication_rates": (0.0, 1.5)}, "duplication_rates"), ({"size_fractions": (0.0,)}, "size_fractions"),
        ({"size_fractions": ()}, "at least one"), ({"duplication_rates": (0.5, 0.5)}, "repeat"),
        ({"n_seeds": 0}, "n_seeds"), ({"hold": "bytes"}, "hold"), ({"construction": "x"}, "construction"),
    ]
    for change, message in bad:
        with pytest.raises(ConfigError, match=message):
            qq_data.make_variants(data, replace(settings, **change))
    with pytest.raises(ConfigError, match="corpus"):
        qq_data.prepare_data(replace(settings, corpus="tinystories"))


def test_duplication_table_matches_the_construction(data, settings):
    variants = [v for v in qq_data.make_variants(data, settings) if v.seed == settings.seed]
    table = qq_data.duplication_table(data, variants)
    assert len(table) == 6 and table["distinct_as_planned"].all()
    full = table[(table["size"] == 1.0) & (table["rate"] == 0.5)].iloc[0]
    n = len(data.train_docs)
    assert full.largest_cluster == math.floor(0.5 * (n - 1)) + 1 == full.copies_per_repeated_doc
    assert full.exact_dup_pct == pytest.approx(full.planned_dup_pct)


# ---- the grid -------------------------------------------------------------------------------------

def test_grid_cells_share_tokenizer_and_validation(data, settings, tmp_path):
    variants = qq_data.make_variants(data, settings)
    cells = qq_experiment.grid_cells(data, variants, settings, keep_models=True)
    assert len(cells) == 2 * 2 * 3 and len({c.name for c in cells}) == len(cells)
    for cell, variant in zip(cells, variants):
        assert cell.name == variant.name
        assert cell.tags["size"] == variant.size and cell.tags["rate"] == variant.rate
        assert cell.val_data is data.val  # the same validation blocks for every cell
        assert cell.train_data.docs is data.train_docs  # the same tokens, i.e. the same tokenizer
        assert np.array_equal(cell.train_data.sources, variant.sources)
        assert cell.config.seed == variant.seed and cell.config.beta2 == 0.99
        assert cell.config.min_lr_ratio == 0.1 and cell.config.warmup_steps == settings.warmup_steps
        assert cell.keep_model == (variant.seed == settings.seed)  # the first replicate only
    first, other = cells[0], cells[1]  # same replicate: same initial weights, different data
    a, b = first.make_model(), other.make_model()
    assert a.config.vocab_size == len(data.tokenizer) and a.config.tie_word_embeddings
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = cells[6].make_model()  # the next replicate: another seed
    assert not torch.equal(a.gpt_neox.embed_in.weight, c.gpt_neox.embed_in.weight)


def test_two_cells_train_and_save_the_first_replicate(data, settings, tmp_path):
    one = replace(settings, size_fractions=(1.0,), duplication_rates=(0.0, 1.0), n_seeds=1)
    cells = qq_experiment.grid_cells(data, qq_data.make_variants(data, one), one, keep_models=True)
    result = run_grid(cells, tmp_path / "grid")
    assert list(result.summary["rate"]) == [0.0, 1.0]
    assert np.isfinite(result.summary["val_loss"]).all()
    assert set(result.models) == {"size100_dup000_seed0", "size100_dup100_seed0"}
    assert (tmp_path / "grid" / "size100_dup100_seed0" / "result" / "model" / "config.json").is_file()
    metrics = qq_analysis.add_paper_metrics(result.summary)
    assert metrics["epochs"].tolist() == pytest.approx(
        (result.summary["tokens"] / result.summary["variant_tokens"]).tolist())


# ---- metrics, summaries, the paper beside ours -----------------------------------------------------

class ConstantLM(torch.nn.Module):
    """Always puts logit 1 on token ``favourite`` and 0 elsewhere."""

    def __init__(self, vocab: int, favourite: int):
        super().__init__()
        self.vocab, self.favourite = vocab, favourite
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids):
        logits = torch.zeros(*input_ids.shape, self.vocab)
        logits[..., self.favourite] = 1.0
        return SimpleNamespace(logits=logits)


def test_per_window_accuracy_and_perplexities_on_an_lmeval():
    blocks = PackedBlocks(tokens=np.array([[5, 5, 1, 5], [2, 5, 5, 5]]), doc_ids=np.array([0]), doc_starts=np.array([0]))
    result = evaluate_lm(ConstantLM(vocab=8, favourite=5), blocks, [0, 1], batch_size=1)
    assert result.n_tokens == 6 and result.accuracy == pytest.approx(5 / 6)  # 2 of 3, then 3 of 3
    assert paper_accuracy_per_window(result.accuracy) == pytest.approx(128 * 5 / 6)  # 106.67 per window
    right, wrong = math.log(math.e + 7) - 1, math.log(math.e + 7)
    assert result.loss == pytest.approx((5 * right + wrong) / 6)
    batch_losses = [(2 * right + wrong) / 3, right]
    assert result.perplexity == pytest.approx(math.exp(result.loss))
    assert result.perplexity_batch_mean == pytest.approx(np.mean(np.exp(batch_losses)))
    assert result.perplexity_batch_mean > result.perplexity  # Jensen


def fake_results(loss: dict, acc: dict, seeds=(0, 1)) -> pd.DataFrame:
    """A grid summary with the given mean loss / accuracy per (rate, size), +-0.01 over two seeds."""
    rows = []
    for (rate, size), value in loss.items():
        for seed, delta in zip(seeds, (-0.01, 0.01)):
            rows.append({"size": size, "rate": rate, "seed": seed, "val_loss": value + delta,
                         "val_perplexity": math.exp(value), "val_perplexity_batch_mean": math.exp(value),
                         "val_accuracy": acc[rate, size] / 128 + delta / 10, "final_train_loss": 1.0,
                         "tokens": 1000, "variant_tokens": 4000})
    return qq_analysis.add_paper_metrics(pd.DataFrame(rows))


def test_summaries_are_mean_and_std_over_seeds():
    results = fake_results({(0.0, 1.0): 4.0}, {(0.0, 1.0): 32.0})
    summary = qq_analysis.summarise(results)
    row = summary.iloc[0]
    assert row.val_loss_mean == pytest.approx(4.0) and row.val_loss_std == pytest.approx(0.01 * math.sqrt(2))
    assert row.val_accuracy_pct_mean == pytest.approx(25.0) and row.val_correct_per_128_mean == pytest.approx(32.0)
    assert row.n_seeds == 2 and row.epochs == 0.25


def test_paper_table_and_paper_vs_ours_has_every_cell():
    paper = qq_paper.paper_table()
    assert len(paper) == 15 and paper.val_loss.max() == 12.29
    assert paper.set_index(["rate", "size"]).loc[(0.0, 0.25), "accuracy_pct"] == pytest.approx(38.30, abs=0.01)
    ours = {(0.0, 1.0): 4.0, (0.25, 1.0): 4.2, (0.9, 1.0): 6.0}
    grid = qq_paper.paper_grid(qq_analysis.summarise(fake_results(ours, {k: 30.0 if k[0] < 0.9 else 10.0 for k in ours})))
    cells = set(zip(grid["rate"], grid["size"]))
    assert set(qq_paper.PAPER_RESULTS) | {(0.9, 1.0)} == cells and len(grid) == 16
    row = grid[(grid.rate == 0.25) & (grid["size"] == 1.0)].iloc[0]
    assert row.paper_correct_per_128 == 49.33 and row.paper_loss == 3.189 and row.n_seeds == 2
    assert row.ours_loss == pytest.approx(4.2) and row.ours_loss_change_pct == pytest.approx(5.0)
    assert row.paper_acc_change_pct == pytest.approx(100 * (49.33 / 49.19 - 1))
    missing = grid[(grid.rate == 0.5) & (grid["size"] == 0.25)].iloc[0]
    assert np.isnan(missing.ours_loss) and missing.n_seeds == 0 and missing.paper_loss == 3.252
    # the paper-vs-ours rows carry the same numbers: four quantities per cell, the seed spread in the note
    table = qq_paper.paper_vs_ours(grid).set_index(["setting", "quantity"])
    assert len(table) == 4 * len(grid)
    cell = table.loc["100% of the stories, 25% duplication"]
    assert cell.loc["validation loss", "paper"] == 3.189 and cell.loc["validation loss", "ours"] == pytest.approx(4.2)
    assert cell.loc["validation loss change vs own clean cell of the same size (%)", "ours"] == pytest.approx(5.0)
    assert cell.loc["validation loss", "note"].startswith("ours: mean of 2 seed(s), sd ")
    assert (cell.source == qq_paper.PAPER_SOURCE).all()
    gone = table.loc[("25% of the stories, 50% duplication", "validation loss")]
    assert np.isnan(gone.ours) and gone.paper == 3.252 and gone.note == "not in this run"
    extra = table.loc[("100% of the stories, 90% duplication", "validation loss")]
    assert np.isnan(extra.paper) and "not in the paper's table" in extra.note and extra.source == ""


def cells(accuracy: dict, loss: dict | None = None, epochs: dict | None = None) -> pd.DataFrame:
    """Per-seed cells: ``accuracy[(rate, size)]`` is a list of per-seed token accuracies (seed = position);
    loss defaults to 4 - accuracy, epochs of a size to 0.5."""
    rows = []
    for (rate, size), values in accuracy.items():
        for seed, value in enumerate(values):
            val_loss = (loss or {}).get((rate, size), [4.0 - value] * len(values))[seed]
            rows.append({"size": size, "rate": rate, "seed": seed, "val_loss": val_loss, "val_accuracy": value,
                         "val_perplexity": math.exp(val_loss), "val_perplexity_batch_mean": math.exp(val_loss),
                         "final_train_loss": 1.0, "tokens": 1000,
                         "variant_tokens": 1000 / (epochs or {}).get(size, 0.5)})
    return qq_analysis.add_paper_metrics(pd.DataFrame(rows))


def test_claims_hold_on_the_papers_own_single_seed_table():
    paper = {(rate, size): ([acc / 128], [loss]) for (rate, size), (acc, loss) in qq_paper.PAPER_RESULTS.items()}
    rows = qq_paper.claims(cells({k: v[0] for k, v in paper.items()}, {k: v[1] for k, v in paper.items()}))
    assert [row.verdict for row in rows] == ["holds"] * 4
    assert rows[1].paper == "2411.15821" and "0.87" in rows[1].source


def test_claims_follow_the_seed_margin_rules():
    sizes = (0.25, 1.0)
    clean = {(0.0, s): [0.300, 0.310, 0.320] for s in sizes}
    harmful = {(0.25, s): [0.285, 0.294, 0.304] for s in sizes}  # -5% in every seed
    noisy = {(0.25, s): [0.330, 0.279, 0.320] for s in sizes}  # +10%, -10%, 0%: too noisy to call neutral
    neutral = {(0.25, s): [0.3003, 0.3097, 0.3203] for s in sizes}  # within 0.1%
    heavy = {(0.75, s): [0.0, 0.0, 0.0] for s in sizes} | {(1.0, s): [0.01, 0.02, 0.03] for s in sizes}
    verdict = {name: [row.verdict for row in qq_paper.claims(cells(clean | case | heavy))]
               for name, case in (("harmful", harmful), ("noisy", noisy), ("neutral", neutral))}
    assert verdict["harmful"][1] == "reversed" and verdict["noisy"][1] == "within noise"
    assert verdict["neutral"] == ["holds"] * 4
    small_loss = {(0.75, s): [3.81, 3.80, 3.79] for s in sizes}  # loss +0.7%: not "sharp"
    rows = qq_paper.claims(cells(clean | neutral | heavy, loss={**{k: [3.7, 3.69, 3.68] for k in clean}, **small_loss}))
    assert rows[2].verdict == "within noise" and "margin 5.00%" in rows[2].ours
    size_matters = {(0.0, 0.25): [0.30, 0.31, 0.32], (0.0, 1.0): [0.36, 0.37, 0.38]}
    assert qq_paper.claims(cells(size_matters))[0].verdict == "reversed"
    assert [row.verdict for row in qq_paper.claims(cells({(0.0, 1.0): [0.3, 0.3]}))] == ["not run"] * 4


def test_neutral_claim_uses_only_the_papers_regime_and_notes_the_effect_by_epochs():
    clean = {(0.0, s): [0.300, 0.310, 0.320] for s in (0.05, 1.0)}
    dup = {(0.25, 1.0): [0.3003, 0.3097, 0.3203], (0.25, 0.05): [0.25, 0.26, 0.27]}  # harmful only at 4 epochs
    results = cells(clean | dup, epochs={1.0: 0.2, 0.05: 4.0})
    row = qq_paper.claims(results)[1]
    assert row.verdict == "holds" and "3 (size, seed) pairs" in row.ours
    assert "0.2 ep" in row.note and "4 ep -16" in row.note
    table = qq_analysis.duplication_by_epochs(results)
    assert table.clean_epochs.tolist() == pytest.approx([0.2, 4.0]) and table.verdict.tolist() == ["holds", "reversed"]


def test_epoch_sweep_sizes_hit_the_epochs_and_name_sub_percent_variants():
    data = SimpleNamespace(train_docs=SimpleNamespace(lengths=np.full(1000, 100)))  # 100,000 clean tokens
    settings = SimpleNamespace(steps=10, batch_size=10, seq_len=100, sweep_epochs=(0.5, 2.0, 3.0))
    assert qq_data.epoch_sweep_sizes(data, settings) == [0.2, 0.05, 0.0333]
    with pytest.raises(ConfigError, match="sweep_epochs 0.05 needs 2 of the corpus"):
        qq_data.epoch_sweep_sizes(data, SimpleNamespace(**{**vars(settings), "sweep_epochs": (0.05,)}))
    index = datasets.Dataset.from_dict({"id": np.arange(1000), "n_tokens": np.full(1000, 99)})
    names = {qq_data.make_variant(index, size, 0.25, seed=0).name for size in (0.0333, 0.033, 0.03, 0.05)}
    assert names == {"size003p330_dup025_seed0", "size003p300_dup025_seed0", "size003_dup025_seed0",
                     "size005_dup025_seed0"}


def test_paired_changes_are_relative_to_the_clean_cell_of_the_same_size_and_seed():
    results = pd.DataFrame({
        "size": [1.0, 1.0, 1.0, 1.0, 0.5, 0.5], "seed": [0, 0, 1, 1, 0, 0], "rate": [0.0, 0.5, 0.0, 0.5, 0.0, 0.5],
        "val_loss": [4.0, 5.0, 2.0, 3.0, 8.0, 8.0], "val_accuracy": [0.5, 0.25, 0.4, 0.3, 0.2, 0.3],
    })
    out = qq_analysis.paired_changes(results)
    assert out["loss_change_pct"].tolist() == pytest.approx([0, 25, 0, 50, 0, 0])
    assert out["acc_change_pct"].tolist() == pytest.approx([0, -50, 0, -25, 0, 50])


def test_setup_table_sets_this_run_beside_the_paper(data, settings):
    table = qq_paper.setup_table(settings, data).set_index("setting")
    assert list(table.columns) == ["paper", "this run"]
    assert table.loc["tokens per model", "this run"] == f"{settings.steps * settings.batch_size * settings.seq_len:,}"
    assert table.loc["seeds per cell", "this run"] == str(settings.n_seeds)
    size = model_size(qq_experiment.paper_model(settings, len(data.tokenizer)), settings.seq_len)
    assert table.loc["parameters", "this run"] == f"{size.total:,}"
    assert f"{len(data.train_docs):,} / {data.n_val_docs:,}" in table.loc["corpus (train / validation stories)", "this run"]


# ---- the budget control: duplication priced in clean steps -------------------------------------------

def test_repeated_token_share_counts_every_occurrence_of_a_repeated_story():
    docs = SimpleNamespace(lengths=np.array([10, 30, 20, 40]), starts=np.array([0, 10, 40, 60]), stream=np.zeros(100))
    blocks = qq_data.VariantBlocks(docs, np.array([0, 1, 1, 2, 1]), seq_len=4)  # story 1 in 3 of 5 slots
    assert blocks.repeated_token_share == pytest.approx(90 / 120)  # 3 x 30 of 10 + 90 + 20 tokens: slots != tokens
    assert qq_data.VariantBlocks(docs, np.arange(4), seq_len=4).repeated_token_share == 0


def test_budget_cells_are_the_clean_cells_trained_shorter_with_their_own_schedule(data, settings):
    budget = replace(settings, steps=40, warmup_steps=4, budget_fractions=(0.5, 0.75))
    cells = qq_experiment.budget_cells(data, budget)
    grid = {c.name: c for c in qq_experiment.grid_cells(data, qq_data.make_variants(data, budget), budget)}
    assert [c.name for c in cells] == ["size100_dup000_seed0_steps00020", "size100_dup000_seed1_steps00020",
                                       "size100_dup000_seed0_steps00030", "size100_dup000_seed1_steps00030"]
    for cell in cells:
        twin = grid[cell.name.split("_steps")[0]]  # the grid's clean cell of the same seed, all stories
        assert np.array_equal(cell.train_data.sources, twin.train_data.sources) and cell.val_data is twin.val_data
        assert cell.config == replace(twin.config, steps=cell.tags["steps"], warmup_steps=cell.tags["steps"] // 10)
        assert torch.equal(cell.make_model().gpt_neox.embed_in.weight, twin.make_model().gpt_neox.embed_in.weight)
        assert cell.tags["repeated_token_share"] == 0 and twin.tags["steps"] == 40
    other = qq_experiment.budget_cells(data, replace(budget, budget_fractions=(0.625,)))
    assert other[0].name.endswith("_steps00025") and other[0].config.steps == 25  # a new fraction, a new cell


def test_budget_fractions_are_checked_before_any_work(settings):
    with pytest.raises(ConfigError, match=r"parameter budget_fractions got 1.0; it must be a number in \(0, 1\)"):
        notebook_settings("03", "cpu", {"budget_fractions": [0.5, 1.0]})
    with pytest.raises(ConfigError, match="parameter budget_fractions got 0"):
        notebook_settings("03", "cpu", {"budget_fractions": "0,0.5"})
    assert notebook_settings("03", "smoke", {"budget_fractions": "0.5,0.75"}).budget_fractions == (0.5, 0.75)
    with pytest.raises(ConfigError, match=r"budget_fractions \(0.5, 0.51\) give \[1, 1\] steps of 2"):
        qq_data.budget_steps(replace(settings, budget_fractions=(0.5, 0.51)))  # steps=2: one cell twice
    with pytest.raises(ConfigError, match="budget_fractions must be a fraction in"):
        qq_data.budget_steps(replace(settings, budget_fractions=(1.5,)))


def lost_steps_frames(dup_losses: list[float]):
    """Clean runs at 50 / 75 / 100 steps with losses 4.4 / 4.2 / 4.0 for every seed, the 25% cell at 100 steps
    with ``dup_losses[seed]``, the copied story filling 20% + seed x 5% of the tokens."""
    grid, budget = [], []
    for seed, dup in enumerate(dup_losses):
        grid += [{"size": 1.0, "rate": 0.0, "seed": seed, "steps": 100, "val_loss": 4.0, "repeated_token_share": 0.0},
                 {"size": 1.0, "rate": 0.25, "seed": seed, "steps": 100, "val_loss": dup,
                  "repeated_token_share": 0.2 + 0.05 * seed},
                 {"size": 0.5, "rate": 0.0, "seed": seed, "steps": 100, "val_loss": 9.0, "repeated_token_share": 0.0}]
        budget += [{"size": 1.0, "rate": 0.0, "seed": seed, "steps": n, "val_loss": loss, "repeated_token_share": 0.0}
                   for n, loss in ((75, 4.2), (50, 4.4))]
    return pd.DataFrame(grid), pd.DataFrame(budget)


def test_duplication_as_lost_steps_reads_each_seeds_clean_curve():
    lost = qq_analysis.duplication_as_lost_steps(*lost_steps_frames([4.1, 4.24, 4.5, 3.9]))
    assert lost.seed.tolist() == [0, 1, 2, 3]
    assert lost.equivalent_steps.tolist() == pytest.approx([87.5, 70, 50, 100])
    assert lost.equivalent_fraction.tolist() == pytest.approx([0.875, 0.7, 0.5, 1.0])
    assert lost.outside.tolist() == ["", "", "below", "above"]  # clipped to the curve's ends, and flagged
    assert lost.repeated_token_share.tolist() == pytest.approx([0.2, 0.25, 0.3, 0.35])
    assert lost.clean_val_loss.tolist() == [4.0] * 4 and lost.steps.tolist() == [100] * 4
    note = qq_analysis.lost_steps_note(lost)
    assert note.startswith("25% duplication trains like a clean run of 77% of the steps (per seed 88%, 70%, <=50%, "
                           ">=100%; <=, >=: outside the clean curve, clipped to its end)")
    assert note.endswith("the copied story fills 28% of the tokens (per seed 20%, 25%, 30%, 35%)")


def test_the_neutral_claims_note_prices_duplication_in_steps_without_changing_its_verdict():
    results, budget = lost_steps_frames([4.1, 4.1, 4.1])
    results = results.assign(val_accuracy=0.3, tokens=1000, variant_tokens=4000,
                             val_perplexity=1.0, val_perplexity_batch_mean=1.0, final_train_loss=1.0)
    with_budget = qq_paper.claims(qq_analysis.add_paper_metrics(results), budget)
    without = qq_paper.claims(qq_analysis.add_paper_metrics(results))
    assert [r.verdict for r in with_budget] == [r.verdict for r in without]
    assert "trains like a clean run of 88% of the steps" in with_budget[1].note
    assert "trains like" not in without[1].note and without[1].note.startswith("25% accuracy change by epochs")


def test_lost_steps_figure_marks_each_seeds_duplicated_cell_at_its_equivalent_steps():
    import matplotlib.pyplot as plt

    from mini_lib.papers.quality_quantity.plots import lost_steps_figure

    results, budget = lost_steps_frames([4.1, 4.24])
    lost = qq_analysis.duplication_as_lost_steps(results, budget)
    fig = lost_steps_figure(results, budget, lost)
    curve_ax, share_ax = fig.axes
    dashed = [line.get_xydata().tolist() for line in curve_ax.lines if line.get_linestyle() == "--" and len(line.get_xdata())]
    assert np.allclose(dashed, [[[87.5, 4.1], [100, 4.1]], [[70, 4.24], [100, 4.24]]])  # from the clean curve to the grid's steps
    points = [line.get_xydata().tolist() for line in share_ax.lines if line.get_marker() == "o"]
    assert np.allclose(points, [[[0.2, 0.875]], [[0.25, 0.7]]])
    plt.close(fig)
    empty = lost_steps_figure(results.iloc[:0], budget.iloc[:0], lost.iloc[:0])  # smoke: no budget cells
    assert "no budget cells" in empty.axes[1].texts[0].get_text()
    plt.close(empty)


# ---- claims read the right way, at the setting they name ----------------------------------------

def test_claims_name_their_setting_and_say_their_verdict_plainly():
    paper = {(rate, size): ([acc / 128], [loss]) for (rate, size), (acc, loss) in qq_paper.PAPER_RESULTS.items()}
    rows = qq_paper.claims(cells({k: v[0] for k, v in paper.items()}, {k: v[1] for k, v in paper.items()}))
    percent = re.compile(r"\d+(?:\.\d+)?%")
    assert ["%" in row.claim for row in rows] == [False, True, True, True]
    for row in rows:  # every percentage in the claim is where ours is measured
        assert set(percent.findall(row.claim)) <= set(percent.findall(row.ours)), (row.claim, row.ours)
    assert [row.no_difference for row in rows] == [True, True, False, False]  # size and 25% claim no difference
    assert rows[0].in_short == "Our run cannot tell them apart either, as the paper says."
    assert rows[3].in_short == "Our run shows it too, beyond its noise."
    size_matters = qq_paper.claims(cells({(0.0, 0.25): [0.30, 0.31, 0.32], (0.0, 1.0): [0.36, 0.37, 0.38]}))[0]
    assert size_matters.verdict == "reversed" and "finds a difference where the paper finds none" in size_matters.in_short
    assert all(row.no_difference == (i < 2) for i, row in enumerate(qq_paper.claims(cells({(0.0, 1.0): [0.3]}))))


# ---- training loss beside validation loss ---------------------------------------------------------

def test_training_losses_and_train_vs_validation(tmp_path):
    results = pd.DataFrame([{"name": f"dup{rate}_seed{seed}", "size": 1.0, "rate": rate, "seed": seed,
                             "final_train_loss": 4.0 - 3 * rate, "val_loss": 4.0 + rate}
                            for rate in (0.0, 1.0) for seed in (0, 1)])
    for cell in results.itertuples():
        (tmp_path / cell.name).mkdir()
        lines = [{"step": s, "loss": 5.0 - s} for s in (1, 2, 3)] + [{"step": 3, "loss": 1.5}]  # step 3 resumed
        (tmp_path / cell.name / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    losses = qq_analysis.training_losses(tmp_path, results)
    assert len(losses) == 12 and losses[losses.step == 3].train_loss.tolist() == [1.5] * 4
    curves = pd.DataFrame([{"size": 1.0, "rate": rate, "seed": seed, "step": step,
                            "val_loss": {0.0: {2: 4.5, 4: 4.0}, 1.0: {2: 4.4, 4: 5.0}}[rate][step] + 0.1 * (seed - 0.5)}
                           for rate in (0.0, 1.0) for seed in (0, 1) for step in (2, 4)])
    table = qq_analysis.train_vs_validation(results, curves).set_index("rate")
    assert table.loc[0.0, "lowest_at_step"] == 4 and table.loc[0.0, "climb_after_lowest"] == pytest.approx(0.0)
    assert table.loc[1.0, "lowest_at_step"] == 2 and table.loc[1.0, "climb_after_lowest"] == pytest.approx(0.6)
    assert table.loc[1.0, "final_train_loss"] == pytest.approx(1.0) and table.loc[1.0, "val_loss_lowest"] == pytest.approx(4.4)


def test_loss_curves_figure_draws_training_lines_and_validation_points():
    import matplotlib.pyplot as plt

    from mini_lib.papers.quality_quantity.plots import loss_curves_figure

    train = pd.DataFrame([{"size": 1.0, "rate": rate, "seed": 0, "step": s, "train_loss": 4.0 - rate * s / 10}
                          for rate in (0.0, 1.0) for s in range(1, 21)])
    curves = pd.DataFrame([{"size": 1.0, "rate": rate, "seed": 0, "step": s, "val_loss": 4.0 + rate * s / 10}
                           for rate in (0.0, 1.0) for s in (10, 20)])
    seeds = pd.concat([curves, curves.assign(seed=1, val_loss=curves.val_loss + 0.2)])  # sd 0.1414 at every step
    fig = loss_curves_figure(train, seeds, 1.0, smooth=1)
    (ax,) = fig.axes
    drawn = [line for line in ax.lines if len(line.get_xdata()) and line.get_marker() in ("None", "o")]  # not caps
    assert [len(line.get_xdata()) for line in drawn] == [20, 2, 20, 2]  # per rate: training line, validation points
    assert drawn[2].get_ydata()[-1] == pytest.approx(2.0) and drawn[3].get_marker() == "o"
    assert drawn[3].get_ydata().tolist() == pytest.approx([5.1, 6.1])  # the mean over seeds
    bars = [c for c in ax.collections if len(c.get_segments()) == 2]
    assert [seg[1][1] - seg[0][1] for seg in bars[1].get_segments()] == pytest.approx([2 * 0.2 / 2 ** 0.5] * 2)
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["0%", "100%"]
    plt.close(fig)


# ---- the heatmaps: the collapsed row must not take the colour scale ------------------------------

def test_duplication_heatmap_scales_colour_to_the_rows_below_100_percent():
    import matplotlib.pyplot as plt

    from mini_lib.papers.quality_quantity.plots import duplication_heatmap

    fig, ax = plt.subplots()
    duplication_heatmap(qq_paper.paper_table(), "val_loss", ax)
    (image,) = ax.images
    assert image.get_clim() == (3.184, 3.468)  # the rows below 100%, not the 12.29 of the collapsed row
    assert image.get_array().mask[-1].all() and not image.get_array().mask[:-1].any()
    assert ax.get_yticklabels()[-1].get_text() == "100%\n(off scale)"
    assert [t.get_text() for t in ax.texts][-3:] == ["12.290", "12.260", "12.020"] and len(ax.texts) == 15
    plt.close(fig)
    smoke = pd.DataFrame({"size": [1.0, 1.0], "rate": [0.0, 1.0], "val_loss": [4.8, 5.6]})  # one cell on the scale
    fig, ax = plt.subplots()
    duplication_heatmap(smoke, "val_loss", ax)
    low, high = ax.images[0].get_clim()
    assert low < 4.8 < high and ax.get_yticklabels()[-1].get_text() == "100%\n(off scale)"
    plt.close(fig)
    inside = pd.DataFrame({"size": [1.0] * 3, "rate": [0.0, 0.5, 1.0], "val_loss": [4.0, 5.0, 4.5]})
    fig, ax = plt.subplots()
    duplication_heatmap(inside, "val_loss", ax)  # a 100% row inside the others' range keeps its colour
    assert not ax.images[0].get_array().mask.any() and "off scale" not in ax.get_yticklabels()[-1].get_text()
    plt.close(fig)
