"""The quality-vs-quantity grid (arXiv 2411.15821): data size x duplication rate x seeds, and the
paper's table beside ours.

The paper trains one small GPT (4 layers, 4 heads, d=128, context 128) on TinyStories variants: a
random 25% / 50% / 100% of the stories, each with p in {0, 25, 50, 75, 100}% duplication (ONE story
copied over floor(p (N-1)) other story slots, see ``duplication.py``), for the same 1000 steps, and
reports validation loss and "accuracy" (correct next tokens per 128-token window). This module turns
that recipe into ``grid.GridCell``s for the one training loop:

* The corpus is split ONCE into train / validation documents; every cell evaluates on the same
  validation blocks, which no construction ever touches (as in the paper).
* The tokenizer is trained ONCE, on the clean training split, and shared by every cell. A tokenizer
  trained per variant would learn the duplicated story: at 75% duplication its merges would turn
  whole phrases of that one story into single tokens, so cells would differ in their vocabulary
  (and in what "a token" and "loss per token" mean) as well as in their data, and their losses could
  not be compared. The paper's GPT-2 BPE was fixed in the same way.
* The data are the one recipe's (``mini_lib.core.recipe``): the clean training split is tokenised once
  (``tokenization.EncodedDocs``); a cell's variant is only an array of document indices, and
  ``VariantBlocks`` packs those documents into blocks on the fly, exactly as
  ``tokenization.pack_documents`` would (tested), so 45 variants of a large corpus cost 45 index
  arrays, not 45 copies of the token stream.
* Replicate ``r`` uses seed ``settings.seed + r`` for everything random in a cell: which stories a
  size variant keeps, which story is duplicated and where, the model's initial weights and the
  batch order. Within a replicate, cells differ only in their data (a paired comparison).

The paper's table is ``PAPER_RESULTS`` (arXiv 2411.15821, its results table); ``paper_grid``
puts it beside our numbers cell by cell, ``paper_vs_ours`` turns that grid into the paper-vs-ours rows every
notebook shows (``mini_lib.core.claims.PaperRow``), and ``claims`` states the paper's four claims as ``mini_lib.core.claims.Claim``
rows, each decided over seeds by ``compare_seeds`` with a rule fixed here. ``abstract_vs_table`` shows
where the abstract's percentages disagree with that table.

The paper's models never see a story twice (4.1M training tokens from 2.12M stories); ``epoch_sweep``
adds cells whose clean data is seen several times in the same number of steps, so the 25% duplication
effect can be read as a function of epochs over the clean data (``duplication_by_epochs``).

The budget control prices duplication in training steps: ``budget_cells`` trains each seed's clean cell
for ``budget_fractions`` of the steps (each with its own schedule), and ``duplication_as_lost_steps``
reads the 25% cell's loss off that clean learning curve, beside the share of the tokens the copied
story fills (the paper's rate counts story slots, not tokens).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import datasets
import numpy as np
import pandas as pd
import torch

from mini_lib.papers.quality_quantity.dedup import analyse_duplication
from mini_lib.corpora.duplication import HOLD_CHOICES, DuplicationInfo, duplicate_many
from mini_lib.papers.quality_quantity.duplication import (
    PAPER_WINDOW,
    duplicate_one_document,
    paper_accuracy_per_window,
    size_variant,
)
from mini_lib.core.claims import Claim, PaperRow, SeedComparison, compare_seeds, paper_vs_ours_table
from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.core.grid import GridCell
from mini_lib.core.models import ModelShape, build_model, model_size, neox_config
from mini_lib.core.recipe import prepare_lm_data
from mini_lib.core.tokenization import EncodedDocs, PackedBlocks
from mini_lib.core.train import TrainConfig
from mini_lib.papers.quality_quantity.settings import QualityQuantitySettings

CONSTRUCTIONS = ("one_document", "many")
PAPER_ID = "2411.15821"

# The paper's results table (arXiv 2411.15821): (duplication rate, size fraction) ->
# (validation accuracy as correct tokens per 128-token window, validation loss). One seed each.
# The same numbers (to 4 decimals) are in the official repository,
# github.com/Aryan-Sajith/URV-Data_Quantity_VS_Data_Quality-Research-Summer-2024,
# data/tinyStories/outputs/graphing/graph.py (valuation_accuracy, valuation_loss).
PAPER_SOURCE = "arXiv 2411.15821 results table (= official repo data/tinyStories/outputs/graphing/graph.py)"
PAPER_RESULTS: dict[tuple[float, float], tuple[float, float]] = {
    (0.00, 0.25): (49.02, 3.184), (0.00, 0.50): (49.20, 3.185), (0.00, 1.00): (49.19, 3.186),
    (0.25, 0.25): (49.45, 3.184), (0.25, 0.50): (49.27, 3.190), (0.25, 1.00): (49.33, 3.189),
    (0.50, 0.25): (48.30, 3.252), (0.50, 0.50): (48.26, 3.256), (0.50, 1.00): (48.23, 3.252),
    (0.75, 0.25): (45.62, 3.453), (0.75, 0.50): (45.46, 3.468), (0.75, 1.00): (45.67, 3.457),
    (1.00, 0.25): (6.48, 12.29), (1.00, 0.50): (7.56, 12.26), (1.00, 1.00): (7.35, 12.02),
}

# The abstract's percentages, the same in v1 (24 Nov 2024), v3 and v4 (15 Jul 2025; v2 not checked):
# claim -> (abstract value in %, the duplication rate it is about, the quantity it is a change of).
# The table reproduces the first two (from its 25%- and 50%-size columns); no cell gives -40%: the
# table's 100% duplication cells are -85% to -87% of their clean accuracy.
PAPER_ABSTRACT: dict[str, tuple[float, float, str]] = {
    "25% duplication: accuracy change": (0.87, 0.25, "accuracy"),
    "25% duplication: perplexity change": (0.52, 0.25, "perplexity"),
    "100% duplication: accuracy change": (-40.0, 1.00, "accuracy"),
}
# The table's perplexities (official graph.py, valuation_perplexity), needed for the abstract's +0.52%.
PAPER_PERPLEXITY: dict[tuple[float, float], float] = {
    (0.00, 0.25): 24.2228, (0.00, 0.50): 24.2482, (0.00, 1.00): 24.2707,
    (0.25, 0.25): 24.2176, (0.25, 0.50): 24.3762, (0.25, 1.00): 24.3521,
}
ABSTRACT_SOURCE = "arXiv 2411.15821 abstract (v1, v3, v4)"

# The claims' rules, fixed before any run (``claims``). The paper's own single-seed table passes all four
# (spread 0.06%, +0.14..+0.88%, +8.4..+8.9%, -85..-88%). Every difference must also exceed
# SEED_MARGIN_K seed standard deviations (``mini_lib.core.claims.compare_seeds``).
SEED_MARGIN_K = 2.0
SIZE_TOLERANCE_PCT = 1.0  # "size barely matters": smallest vs largest size, clean loss within 1%
NEUTRAL_TOLERANCE_PCT = 1.0  # "neutral": 25% duplication costs at most 1% accuracy
SHARP_LOSS_INCREASE_PCT = 5.0  # "degrades sharply": 75% duplication raises the loss by more than 5%
COLLAPSE_ACCURACY_DROP_PCT = 50.0  # "collapses": 100% duplication at least halves the accuracy
PAPER_REGIME_EPOCHS = 1.0  # the paper's regime: the clean data is seen at most once
SWEEP_RATES = (0.0, 0.25)  # the epoch sweep trains only what the 25% claim needs
PAPER_CLAIMS: dict[str, tuple[str, str, str]] = {  # key -> (claim, paper's evidence, where)
    "size": ("size barely matters at this budget (clean cells)", "0.06% loss spread (3.184 / 3.185 / 3.186)",
             "results table"),
    "neutral": ("25% duplication is neutral to slightly positive", "accuracy +0.14% .. +0.88% (one seed per size)",
                "results table; abstract: +0.87%"),
    "sharp": ("heavy (75%) duplication degrades sharply", "loss +8.4% .. +8.9% (50%: +2.1%)", "results table"),
    "collapse": ("100% duplication collapses", "accuracy -84.6% .. -86.8%", "results table"),
}


# ---- data: one split, one tokenizer, one tokenised training split -----------------------------

class VariantBlocks:
    """A variant's documents (``sources``: indices into ``docs``, repeats allowed), packed into
    ``seq_len`` blocks on the fly: the same blocks ``pack_documents`` builds from the variant's
    token lists (the tail that does not fill a block is dropped), without copying any tokens."""

    def __init__(self, docs: EncodedDocs, sources: np.ndarray, seq_len: int) -> None:
        if seq_len < 2:
            raise ConfigError(f"seq_len must be >= 2, got {seq_len}")
        self.docs, self.sources, self.seq_len = docs, np.asarray(sources, dtype=np.int64), seq_len
        lengths = docs.lengths[self.sources]
        self.starts = np.zeros(len(lengths), dtype=np.int64)  # where each document begins in the variant
        np.cumsum(lengths[:-1], out=self.starts[1:])
        self.n_blocks = int(lengths.sum()) // seq_len
        if self.n_blocks == 0:
            raise ConfigError(f"the variant has {int(lengths.sum())} tokens, fewer than one block of {seq_len}")

    def __len__(self) -> int:
        return self.n_blocks

    @property
    def n_tokens(self) -> int:
        return self.n_blocks * self.seq_len

    @property
    def repeated_token_share(self) -> float:
        """Share of the variant's tokens in documents it holds more than once. The paper's rate counts story
        SLOTS, and stories differ in length, so 25% duplication fills more or less than 25% of the tokens."""
        _, position, count = np.unique(self.sources, return_inverse=True, return_counts=True)
        lengths = self.docs.lengths[self.sources]
        return float(lengths[count[position] > 1].sum() / lengths.sum())

    def block_tokens(self, indices: Sequence[int]) -> np.ndarray:
        """(len(indices), seq_len) token ids: each position looked up in its document."""
        positions = np.asarray(indices, dtype=np.int64)[:, None] * self.seq_len + np.arange(self.seq_len)
        row = np.searchsorted(self.starts, positions, side="right") - 1
        return self.docs.stream[self.docs.starts[self.sources[row]] + positions - self.starts[row]]

    def collate(self, indices: Sequence[int]) -> dict:
        """A training batch: labels = inputs (shifted in the loss), as ``PackedBlocks``."""
        input_ids = torch.from_numpy(self.block_tokens(indices).astype(np.int64))
        return {"input_ids": input_ids, "labels": input_ids.clone()}

    def example_ids(self, index: int) -> list[int]:
        """Corpus ids of the documents in block ``index`` (a duplicated story may appear twice)."""
        first = int(np.searchsorted(self.starts, index * self.seq_len, side="right")) - 1
        last = int(np.searchsorted(self.starts, (index + 1) * self.seq_len, side="left"))
        return [int(i) for i in self.docs.doc_ids[self.sources[max(first, 0) : last]]]


@dataclass
class QualityQuantityData:
    """The shared pieces of every cell: tokenizer, clean training split (texts and tokens), validation blocks."""

    tokenizer: Any
    train_texts: list[str]
    train_docs: EncodedDocs
    val: PackedBlocks
    n_val_docs: int
    seq_len: int

    def index(self) -> datasets.Dataset:
        """A text-free table of the training split (``id`` = position, ``n_tokens``) for the
        constructions in ``duplication.py``, which only move rows around."""
        return datasets.Dataset.from_dict({
            "id": np.arange(len(self.train_docs)), "n_tokens": self.train_docs.lengths - 1,
        })


def prepare_data(settings: QualityQuantitySettings) -> QualityQuantityData:
    """The data recipe (``mini_lib.core.recipe``): corpus -> seeded train/validation split -> tokenizer on
    the clean train split -> the train split tokenised once, validation blocks.

    ``settings.corpus``: "storyworld" (built in), "local" (``corpus_path``: txt/jsonl/parquet, e.g.
    TinyStories saved to disk) or "hub" (``corpus_name``, e.g. roneneldan/TinyStories; needs network).
    ``n_stories`` 0 means the whole file or hub split.
    """
    choose("corpus", settings.corpus, ("storyworld", "local", "hub"))
    data = prepare_lm_data(
        corpus=settings.corpus, n_stories=settings.n_stories, vocab_size=settings.vocab_size,
        seq_len=settings.seq_len, val_fraction=settings.val_fraction, seed=settings.seed, tier=settings.tier,
        corpus_path=settings.corpus_path, corpus_name=settings.corpus_name,
    )
    return QualityQuantityData(
        tokenizer=data.tokenizer,
        train_texts=list(data.train_split["text"]),
        train_docs=data.train_docs,
        val=data.val,
        n_val_docs=len(data.val_split),
        seq_len=settings.seq_len,
    )


# ---- variants ---------------------------------------------------------------------------------

@dataclass
class Variant:
    """One training corpus of the grid: which clean training documents it holds, in which slots."""

    size: float
    rate: float
    seed: int
    sources: np.ndarray  # positions in the clean training split, one per row (repeats = copies)
    info: DuplicationInfo
    construction: str = "one_document"  # or e.g. "many-k4-documents"

    @property
    def name(self) -> str:
        """Folder name of the variant's model: the paper's construction is the unmarked default."""
        percent = self.size * 100
        size = f"{round(percent):03d}" if np.isclose(percent, round(percent)) else f"{percent:07.3f}".replace(".", "p")
        name = f"size{size}_dup{round(self.rate * 100):03d}_seed{self.seed}"
        return name if self.construction == "one_document" else f"{name}_{self.construction}"


def make_variant(
    index: datasets.Dataset,
    size: float,
    rate: float,
    seed: int,
    construction: str = "one_document",
    k: int = 4,
    hold: str = "documents",
) -> Variant:
    """A random ``size`` of the documents, then ``rate`` duplication by ``construction``:
    "one_document" (the paper) or "many" (k-fold repeats of many documents, document or token
    count held constant by ``hold``, token counts from the shared tokenizer)."""
    check_fraction("size", size, allow_zero=False)
    check_fraction("rate", rate)
    choose("construction", construction, CONSTRUCTIONS)
    sized = size_variant(index, size, seed)
    if construction == "one_document":
        rows, info = duplicate_one_document(sized, rate, seed)
    else:
        rows, info = duplicate_many(sized, rate, k, seed, hold=hold, length_column="n_tokens")
        construction = f"many-k{k}-{hold}"
    return Variant(float(size), float(rate), seed, np.asarray(rows["source_id"]), info, construction)


def make_variants(data: QualityQuantityData, settings: QualityQuantitySettings) -> list[Variant]:
    """Every (seed, size, rate) variant of the grid, replicates outermost."""
    _check_grid_settings(settings)
    index = data.index()
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one "Flattening the indices" bar per variant says nothing
    try:
        return [
            make_variant(index, size, rate, settings.seed + r, settings.construction, settings.repeat_k, settings.hold)
            for r in range(settings.n_seeds)
            for size in settings.size_fractions
            for rate in settings.duplication_rates
        ]
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()


def epoch_sweep_sizes(data: QualityQuantityData, settings: QualityQuantitySettings) -> list[float]:
    """The size fractions at which the clean data is seen ``settings.sweep_epochs`` times in the same
    ``steps * batch_size * seq_len`` tokens (4 decimals; a size above 1 cannot be reached)."""
    budget = settings.steps * settings.batch_size * settings.seq_len
    clean_tokens = int(data.train_docs.lengths.sum())
    sizes = []
    for epochs in settings.sweep_epochs:
        size = round(budget / (epochs * clean_tokens), 4)
        if not 0 < size <= 1:
            raise ConfigError(f"sweep_epochs {epochs:g} needs {size:g} of the corpus ({clean_tokens:,} tokens for "
                              f"{budget:,} training tokens): use epochs >= {budget / clean_tokens:.3g} or more n_stories")
        sizes.append(size)
    return sizes


def epoch_sweep(data: QualityQuantityData, settings: QualityQuantitySettings) -> list[Variant]:
    """Clean and 25% variants (``SWEEP_RATES``) at every ``epoch_sweep_sizes`` size, every seed: the same
    steps as the grid, only the clean data is smaller, so it is repeated for the given epochs."""
    index = data.index()
    return [make_variant(index, size, rate, settings.seed + r, settings.construction, settings.repeat_k, settings.hold)
            for r in range(settings.n_seeds) for size in epoch_sweep_sizes(data, settings) for rate in SWEEP_RATES]


def duplication_table(data: QualityQuantityData, variants: Sequence[Variant], **analyser: Any) -> pd.DataFrame:
    """The analyser (exact + MinHash near duplicates) on each variant's texts, beside what the
    construction says it did. ``distinct_as_planned`` holds when the measured distinct texts equal
    the construction's distinct documents (true when the base corpus has no duplicates of its own;
    its clean rows show how many it has)."""
    rows = []
    for variant in variants:
        report = analyse_duplication([data.train_texts[i] for i in variant.sources], **analyser)
        info = variant.info
        rows.append({
            "size": variant.size, "rate": variant.rate, "seed": variant.seed,
            "documents": report.n_docs,
            "planted_copies": info.n_duplicate_rows,
            "copies_per_repeated_doc": info.copies_per_duplicated_doc if info.duplicated_ids else 1,
            "largest_cluster": report.largest_cluster_size,
            "distinct_planned": info.n_distinct_docs,
            "distinct_measured": report.n_distinct_texts,
            "exact_dup_pct": 100 * report.exact_duplicate_fraction,
            "near_dup_pct": 100 * report.near_duplicate_fraction,
            "planned_dup_pct": 100 * info.duplicate_fraction,
            "distinct_as_planned": report.n_distinct_texts == info.n_distinct_docs,
        })
    return pd.DataFrame(rows)


# ---- the grid ---------------------------------------------------------------------------------

def paper_model(settings: QualityQuantitySettings, vocab_size: int):
    """The model config: the paper's GPT shape (4 layers, 4 heads, d 128 in the gpu profile) in
    GPT-NeoX form, embeddings tied as in nanoGPT when ``settings.tie_embeddings``."""
    shape = ModelShape(settings.n_layers, settings.d_model, settings.n_heads)
    return neox_config(shape, vocab_size, settings.seq_len, tie_embeddings=settings.tie_embeddings)


def setup_table(settings: QualityQuantitySettings, data: QualityQuantityData) -> pd.DataFrame:
    """The paper's set-up (arXiv 2411.15821, its experimental set-up section) beside this run's, so a
    reader sees at once how far a profile shrinks the model, the schedule and the corpus."""
    s, size = settings, model_size(paper_model(settings, len(data.tokenizer)), settings.seq_len)
    rows = [
        ("model (layers / heads / d / context)", "4 / 4 / 128 / 128 (GPT-2 BPE, 50257 tokens)",
         f"{s.n_layers} / {s.n_heads} / {s.d_model} / {s.seq_len} (our BPE, {len(data.tokenizer)} tokens)"),
        ("parameters", "~7.2M", f"{size.total:,}"),
        ("schedule", "batch 32, 1000 steps, lr 1e-3 -> 1e-4, 100 warmup",
         f"batch {s.batch_size}, {s.steps} steps, lr {s.lr:g} -> {s.lr * s.min_lr_ratio:g}, {s.warmup_steps} warmup"),
        ("tokens per model", "4.1M", f"{s.steps * s.batch_size * s.seq_len:,}"),
        ("corpus (train / validation stories)", "TinyStories 2.12M / 22K",
         f"{s.corpus} {len(data.train_docs):,} / {data.n_val_docs:,}"),
        ("seeds per cell", "1", str(s.n_seeds)),
    ]
    return pd.DataFrame(rows, columns=["setting", "paper", "this run"])


def grid_cells(
    data: QualityQuantityData,
    variants: Sequence[Variant],
    settings: QualityQuantitySettings,
    keep_models: bool = False,
) -> list[GridCell]:
    """One ``GridCell`` per variant: its own blocks, the shared validation blocks and tokenizer,
    the paper's optimiser settings from ``settings``, seed = the variant's seed.

    ``keep_models``: keep the first replicate's final models (saved in the grid, returned in
    ``GridResult.models``) so a notebook can sample from them.
    """
    vocab = len(data.tokenizer)
    config_of_model = paper_model(settings, vocab)
    cells = []
    for variant in variants:
        blocks = VariantBlocks(data.train_docs, variant.sources, data.seq_len)
        config = TrainConfig.from_settings(settings, seed=variant.seed, progress=False)
        cells.append(GridCell(
            name=variant.name,
            tags={
                "size": variant.size, "rate": variant.rate, "seed": variant.seed, "steps": settings.steps,
                "train_documents": len(variant.sources), "distinct_documents": variant.info.n_distinct_docs,
                "variant_tokens": blocks.n_tokens, "repeated_token_share": blocks.repeated_token_share,
            },
            make_model=lambda seed=variant.seed: build_model(config_of_model, seed=seed),
            train_data=blocks,
            val_data=data.val,
            config=config,
            keep_model=keep_models and variant.seed == settings.seed,
        ))
    return cells


# ---- the budget control: duplication priced in clean training steps ----------------------------

def budget_settings(settings: QualityQuantitySettings, fraction: float) -> QualityQuantitySettings:
    """A clean run ``fraction`` as long, with its own schedule: round(steps * fraction) steps, the warmup
    scaled alike (so it stays 10% of the steps in every profile), cosine to the same floor."""
    return replace(settings, steps=round(settings.steps * fraction),
                   warmup_steps=round(settings.warmup_steps * fraction))


def budget_steps(settings: QualityQuantitySettings) -> list[int]:
    """The step count of each ``budget_fractions`` run; each must be a distinct count between 1 and
    ``steps - 1`` (a repeat would train one cell twice, ``steps`` itself is the grid's clean cell)."""
    steps = []
    for fraction in settings.budget_fractions:
        check_fraction("budget_fractions", fraction, allow_zero=False, allow_one=False)
        steps.append(budget_settings(settings, fraction).steps)
    if len(set(steps)) < len(steps) or not all(1 <= n < settings.steps for n in steps):
        raise ConfigError(f"budget_fractions {settings.budget_fractions} give {steps} steps of {settings.steps}: "
                          f"choose fractions that give distinct counts between 1 and {settings.steps - 1}")
    return steps


def budget_cells(data: QualityQuantityData, settings: QualityQuantitySettings) -> list[GridCell]:
    """Clean cells on all the stories, one per seed and ``settings.budget_fractions``: the grid's clean
    cell of that seed (the same stories, initial weights and batch order) trained for fewer steps with
    its own schedule (``budget_settings``). The steps are in the name, so a changed fraction is a new cell."""
    clean = make_variants(data, replace(settings, size_fractions=(1.0,), duplication_rates=(0.0,)))
    return [replace(cell, name=f"{cell.name}_steps{cell.config.steps:05d}")
            for fraction in settings.budget_fractions
            for cell in grid_cells(data, clean, budget_settings(settings, fraction))]


def clean_curves(results: pd.DataFrame, budget: pd.DataFrame) -> pd.DataFrame:
    """Each seed's clean learning curve on all the stories: the ``budget`` cells and the grid's clean cell,
    one row per (seed, steps), in order of steps."""
    clean = pd.concat([frame[(frame.rate == 0) & np.isclose(frame["size"], 1.0)] for frame in (results, budget)])
    return clean.sort_values(["seed", "steps"], ignore_index=True)


def duplication_as_lost_steps(results: pd.DataFrame, budget: pd.DataFrame, rate: float = 0.25) -> pd.DataFrame:
    """Per seed, the training steps a clean run needs to reach the validation loss of the ``rate`` cell
    (all the stories, the grid's steps): read off that seed's clean learning curve, i.e. the ``budget``
    cells and the grid's clean cell, linearly between them.

    ``equivalent_fraction`` = those steps / the grid's steps. A loss outside the curve is clipped to its
    end and flagged in ``outside``: "below" (worse than the shortest clean run), "above" (better than the
    full clean run). ``repeated_token_share``: the share of the training tokens the copied story fills.
    """
    columns = ["seed", "steps", "repeated_token_share", "val_loss", "clean_val_loss", "equivalent_steps",
               "equivalent_fraction", "outside"]
    full = results[np.isclose(results["size"], 1.0)]
    copied = full[np.isclose(full.rate, rate)].set_index("seed")
    rows = []
    for seed, curve in clean_curves(results, budget).groupby("seed"):
        if seed not in copied.index or len(curve) < 2:
            continue
        cell = copied.loc[seed]
        steps, outside = _steps_at_loss(curve.steps.to_numpy(float), curve.val_loss.to_numpy(float), cell.val_loss)
        rows.append({"seed": seed, "steps": cell.steps, "repeated_token_share": cell.repeated_token_share,
                     "val_loss": cell.val_loss, "clean_val_loss": curve.val_loss.iloc[-1], "equivalent_steps": steps,
                     "equivalent_fraction": steps / cell.steps, "outside": outside})
    return pd.DataFrame(rows, columns=columns)


def _steps_at_loss(steps: np.ndarray, losses: np.ndarray, loss: float) -> tuple[float, str]:
    """Where a learning curve (``losses`` at increasing ``steps``) first comes down to ``loss``, linearly
    between its points; clipped to its ends and flagged "below" / "above" outside it."""
    if loss > losses[0]:
        return float(steps[0]), "below"
    for (s0, l0), (s1, l1) in zip(zip(steps, losses), zip(steps[1:], losses[1:])):
        if l1 <= loss <= l0:
            return float(s0 + (s1 - s0) * (l0 - loss) / (l0 - l1) if l0 > l1 else s0), ""
    return float(steps[-1]), "above"


def lost_steps_note(lost: pd.DataFrame, rate: float = 0.25) -> str:
    """``duplication_as_lost_steps`` in one sentence for the claim's note."""
    marks = {"below": "<=", "above": ">=", "": ""}
    per_seed = ", ".join(f"{marks[row.outside]}{row.equivalent_fraction:.0%}" for row in lost.itertuples())
    clipped = "; <=, >=: outside the clean curve, clipped to its end" if (lost.outside != "").any() else ""
    shares = ", ".join(f"{share:.0%}" for share in lost.repeated_token_share)
    return (f"{rate:.0%} duplication trains like a clean run of {lost.equivalent_fraction.mean():.0%} of the steps "
            f"(per seed {per_seed}{clipped}); the copied story fills {lost.repeated_token_share.mean():.0%} of the "
            f"tokens (per seed {shares})")


# ---- metrics, summaries, the paper beside ours ------------------------------------------------

def add_paper_metrics(summary: pd.DataFrame) -> pd.DataFrame:
    """Grid summary + accuracy in %, the paper's correct tokens per 128-token window, and epochs
    (training tokens / the variant's tokens)."""
    out = summary.copy()
    out["val_accuracy_pct"] = 100 * out["val_accuracy"]
    out["val_correct_per_128"] = [paper_accuracy_per_window(a) for a in out["val_accuracy"]]
    out["epochs"] = out["tokens"] / out["variant_tokens"]
    return out


SUMMARY_METRICS = ("val_loss", "val_perplexity", "val_perplexity_batch_mean", "val_accuracy_pct",
                   "val_correct_per_128", "final_train_loss")


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (over seeds, ddof 1) of every metric per (size, rate)."""
    grouped = results.groupby(["size", "rate"])
    out = grouped[list(SUMMARY_METRICS)].agg(["mean", "std"])
    out.columns = [f"{metric}_{stat}" for metric, stat in out.columns]
    out["n_seeds"] = grouped.size()
    out["epochs"] = grouped["epochs"].mean()
    return out.reset_index()


def paired_changes(results: pd.DataFrame) -> pd.DataFrame:
    """Each cell's change relative to the clean (0%) cell of the same size AND seed, in %:
    ``loss_change_pct`` and ``acc_change_pct`` (paired, so seed-to-seed noise partly cancels)."""
    clean = results[results.rate == 0].set_index(["size", "seed"])
    keys = pd.MultiIndex.from_frame(results[["size", "seed"]])
    out = results.copy()
    out["loss_change_pct"] = 100 * (results["val_loss"].to_numpy() / clean["val_loss"].reindex(keys).to_numpy() - 1)
    out["acc_change_pct"] = 100 * (results["val_accuracy"].to_numpy() / clean["val_accuracy"].reindex(keys).to_numpy() - 1)
    if "epochs" in results:
        out["clean_epochs"] = clean["epochs"].reindex(keys).to_numpy()
    return out


def duplication_by_epochs(results: pd.DataFrame, rate: float = 0.25) -> pd.DataFrame:
    """The accuracy change at ``rate`` (paired with the clean cell of the same size and seed) per size,
    with the epochs of its clean data and the verdict of the "neutral" rule (``neutral_comparison``)."""
    changes = paired_changes(results)
    rows = []
    for size, group in changes[np.isclose(changes.rate, rate)].dropna(subset=["acc_change_pct"]).groupby("size"):
        comparison, verdict = neutral_comparison(group["acc_change_pct"].to_numpy(), NEUTRAL_TOLERANCE_PCT)
        rows.append({"size": size, "clean_epochs": group["clean_epochs"].mean(), "n_seeds": len(group),
                     "acc_change_pct_mean": comparison.difference, "acc_change_pct_std": comparison.spread,
                     "margin_pct": comparison.margin, "verdict": verdict})
    columns = ["size", "clean_epochs", "n_seeds", "acc_change_pct_mean", "acc_change_pct_std", "margin_pct", "verdict"]
    return pd.DataFrame(rows, columns=columns).sort_values("clean_epochs", ignore_index=True)


def neutral_comparison(changes_pct: np.ndarray, tolerance: float, two_sided: bool = False) -> tuple[SeedComparison, str]:
    """"No (harmful) effect" over seeds: ``reversed`` when the mean change is below zero (or, ``two_sided``,
    away from zero) by more than max(``tolerance``, k seed sd); ``holds`` when it is not and the margin is
    the tolerance itself (seed noise below it; a single seed counts at face value); else ``within noise``
    (the seeds are too noisy to tell a neutral effect from a harmful one)."""
    changes_pct = np.asarray(changes_pct, dtype=float)
    comparison = compare_seeds(changes_pct, np.zeros_like(changes_pct), direction=1, k=SEED_MARGIN_K,
                               floor=tolerance)
    harmful = comparison.verdict == "reversed" or (two_sided and comparison.verdict == "holds")
    if harmful:
        return comparison, "reversed"
    return comparison, "holds" if comparison.margin <= tolerance else "within noise"


def claims(results: pd.DataFrame, budget: pd.DataFrame | None = None) -> list[Claim]:
    """The paper's four claims as ``Claim`` rows, decided on per-seed values (rules: the constants above).

    ``results``: one row per trained cell (``add_paper_metrics``), with an ``epochs`` column. Every
    size's paired changes are pooled; the 25% claim uses only the cells in the paper's regime
    (clean data seen at most ``PAPER_REGIME_EPOCHS`` times). A claim whose cells were not run is "not run".
    ``budget``: the shorter clean runs (``budget_cells``); with them the 25% claim's note prices the
    duplication in clean steps (``duplication_as_lost_steps``). Notes never change a verdict.
    """
    changes = paired_changes(results)
    in_regime = changes[changes.clean_epochs <= PAPER_REGIME_EPOCHS]
    k = f"{SEED_MARGIN_K:g} seed sd"
    clean = in_regime[in_regime.rate == 0]
    sizes = sorted(clean["size"].unique())
    size_change = np.array([])
    if len(sizes) >= 2:
        by_seed = clean.pivot_table(index="seed", columns="size", values="val_loss").dropna()
        size_change = 100 * (by_seed[sizes[0]] / by_seed[sizes[-1]] - 1).to_numpy()
    rows = [
        _claim("size", size_change, f"clean loss of size {sizes[0]:g} vs {sizes[-1]:g}" if len(sizes) >= 2 else "",
               f"holds: |change| <= {SIZE_TOLERANCE_PCT:g}% with {k} <= {SIZE_TOLERANCE_PCT:g}%; "
               f"reversed: |change| > max({SIZE_TOLERANCE_PCT:g}%, {k})",
               lambda v: neutral_comparison(v, SIZE_TOLERANCE_PCT, two_sided=True)),
        _claim("neutral", _at_rate(in_regime, 0.25, "acc_change_pct"),
               f"accuracy change, cells with clean data seen <= {PAPER_REGIME_EPOCHS:g} epoch",
               f"reversed: change < -max({NEUTRAL_TOLERANCE_PCT:g}%, {k}); holds: not, and {k} <= "
               f"{NEUTRAL_TOLERANCE_PCT:g}%", lambda v: neutral_comparison(v, NEUTRAL_TOLERANCE_PCT)),
        _claim("sharp", _at_rate(changes, 0.75, "loss_change_pct"), "loss change",
               f"holds: change > max({SHARP_LOSS_INCREASE_PCT:g}%, {k})",
               lambda v: _verdict(compare_seeds(v, np.zeros_like(v), direction=1, k=SEED_MARGIN_K,
                                                floor=SHARP_LOSS_INCREASE_PCT))),
        _claim("collapse", _at_rate(changes, 1.0, "acc_change_pct"), "accuracy change",
               f"holds: change < -max({COLLAPSE_ACCURACY_DROP_PCT:g}%, {k})",
               lambda v: _verdict(compare_seeds(v, np.zeros_like(v), direction=-1, k=SEED_MARGIN_K,
                                                floor=COLLAPSE_ACCURACY_DROP_PCT))),
    ]
    by_epochs = duplication_by_epochs(results)
    lost = duplication_as_lost_steps(results, budget) if budget is not None and len(budget) else pd.DataFrame()
    notes = []
    if len(by_epochs):
        notes.append("25% accuracy change by epochs over the clean data: " + "; ".join(
            f"{row.clean_epochs:.2g} ep {row.acc_change_pct_mean:+.2f}% ({row.verdict})" for row in by_epochs.itertuples()))
    if len(lost):
        notes.append(lost_steps_note(lost))
    if notes and rows[1].verdict != "not run":
        rows[1] = replace(rows[1], note="; ".join(notes))
    return rows


def paper_table() -> pd.DataFrame:
    """``PAPER_RESULTS`` as a frame, with the token accuracy each window count implies and its source."""
    return pd.DataFrame([
        {"size": size, "rate": rate, "correct_per_128": acc, "accuracy_pct": 100 * acc / PAPER_WINDOW, "val_loss": loss,
         "source": PAPER_SOURCE}
        for (rate, size), (acc, loss) in PAPER_RESULTS.items()
    ])


def abstract_vs_table() -> pd.DataFrame:
    """Each percentage of the abstract beside the change the results table gives, per size column, with sources."""
    rows = []
    for claim, (stated, rate, quantity) in PAPER_ABSTRACT.items():
        values = ({k: v[0] for k, v in PAPER_RESULTS.items()} if quantity == "accuracy" else PAPER_PERPLEXITY)
        changes = {size: 100 * (values[(rate, size)] / values[(0.0, size)] - 1) for size in (0.25, 0.50, 1.00)}
        rows.append({"claim": claim, "abstract_pct": stated, "abstract_source": ABSTRACT_SOURCE,
                     **{f"table_pct_size_{int(100 * size)}": change for size, change in changes.items()},
                     "table_source": PAPER_SOURCE})
    return pd.DataFrame(rows)


def paper_grid(summary: pd.DataFrame) -> pd.DataFrame:
    """Every cell of the paper's table and of ours (outer join), the paper's numbers beside ours.

    Absolute numbers differ by construction (GPT-2 BPE on TinyStories vs our tokenizer and corpus),
    so each side also gets its change relative to its own clean (0%) cell of the same size:
    ``*_loss_change_pct`` and ``*_acc_change_pct``.
    """
    paper = paper_table().rename(columns={"correct_per_128": "paper_correct_per_128",
                                          "val_loss": "paper_loss", "accuracy_pct": "paper_accuracy_pct"})
    ours = summary.rename(columns={
        "val_correct_per_128_mean": "ours_correct_per_128", "val_correct_per_128_std": "ours_correct_per_128_std",
        "val_loss_mean": "ours_loss", "val_loss_std": "ours_loss_std",
    })[["size", "rate", "ours_correct_per_128", "ours_correct_per_128_std", "ours_loss", "ours_loss_std", "n_seeds"]]
    table = paper.merge(ours, on=["size", "rate"], how="outer").sort_values(["size", "rate"], ignore_index=True)
    for side in ("paper", "ours"):
        clean = table[table.rate == 0].set_index("size")
        base_loss = table["size"].map(clean[f"{side}_loss"])
        base_acc = table["size"].map(clean[f"{side}_correct_per_128"])
        table[f"{side}_loss_change_pct"] = 100 * (table[f"{side}_loss"] / base_loss - 1)
        table[f"{side}_acc_change_pct"] = 100 * (table[f"{side}_correct_per_128"] / base_acc - 1)
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    return table[["size", "rate", "paper_correct_per_128", "ours_correct_per_128", "ours_correct_per_128_std",
                  "paper_loss", "ours_loss", "ours_loss_std", "paper_acc_change_pct", "ours_acc_change_pct",
                  "paper_loss_change_pct", "ours_loss_change_pct", "n_seeds"]]


GRID_QUANTITIES = {  # paper_grid column stem -> quantity; each side's change is against its own clean cell
    "correct_per_128": "correct next tokens per 128-token window",
    "loss": "validation loss",
    "acc_change_pct": "accuracy change vs own clean cell of the same size (%)",
    "loss_change_pct": "validation loss change vs own clean cell of the same size (%)",
}


def paper_vs_ours(grid: pd.DataFrame) -> pd.DataFrame:
    """``paper_grid`` as ``PaperRow``s: per cell (size, duplication rate), the four quantities of ``GRID_QUANTITIES``;
    a note gives our seed spread, or says which side did not run the cell. Absolute numbers differ by
    construction (GPT-2 BPE on TinyStories vs our tokenizer and corpus), the changes are comparable."""
    rows = []
    for cell in grid.itertuples():
        setting = f"{cell.size:.0%} of the stories, {cell.rate:.0%} duplication"
        for stem, quantity in GRID_QUANTITIES.items():
            paper, ours = getattr(cell, f"paper_{stem}"), getattr(cell, f"ours_{stem}")
            spread = getattr(cell, f"ours_{stem}_std", None)
            notes = ["not in this run" if cell.n_seeds == 0 else
                     "" if spread is None else f"ours: mean of {cell.n_seeds} seed(s), "
                     + ("one seed: no sd" if np.isnan(spread) else f"sd {spread:.3g}"),
                     "not in the paper's table" if np.isnan(paper) else ""]
            rows.append(PaperRow(quantity, setting, paper, ours, "; ".join(n for n in notes if n),
                                 "" if np.isnan(paper) else PAPER_SOURCE))
    return paper_vs_ours_table(rows)


def _at_rate(changes: pd.DataFrame, rate: float, column: str) -> np.ndarray:
    """Per (size, seed) values of ``column`` at ``rate`` (pooled over sizes)."""
    return changes.loc[np.isclose(changes.rate, rate), column].dropna().to_numpy()


def _verdict(comparison: SeedComparison) -> tuple[SeedComparison, str]:
    return comparison, comparison.verdict


def _claim(key: str, values: np.ndarray, what: str, rule: str, decide) -> Claim:
    claim, paper_value, source = PAPER_CLAIMS[key]
    if len(values) == 0:
        return Claim(PAPER_ID, claim, source, paper_value, "cells not in this run", rule, "not run")
    comparison, verdict = decide(np.asarray(values, dtype=float))
    ours = f"{what}: {comparison.describe('%', 2)}, {len(values)} (size, seed) pairs"
    return Claim(PAPER_ID, claim, source, paper_value, ours, rule, verdict)


def _check_grid_settings(settings: QualityQuantitySettings) -> None:
    if not settings.size_fractions or not settings.duplication_rates:
        raise ConfigError("size_fractions and duplication_rates must each list at least one value")
    for size in settings.size_fractions:
        check_fraction("size_fractions", size, allow_zero=False)
    for rate in settings.duplication_rates:
        check_fraction("duplication_rates", rate)
    if len(set(settings.size_fractions)) != len(settings.size_fractions) or \
            len(set(settings.duplication_rates)) != len(settings.duplication_rates):
        raise ConfigError("size_fractions and duplication_rates must not repeat values")
    if settings.n_seeds < 1:
        raise ConfigError(f"n_seeds must be >= 1, got {settings.n_seeds}")
    choose("construction", settings.construction, CONSTRUCTIONS)
    choose("hold", settings.hold, HOLD_CHOICES)
    budget_steps(settings)
