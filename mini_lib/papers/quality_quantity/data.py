"""The data of the quality-vs-quantity grid (arXiv 2411.15821): one packed corpus and the size and
duplication variants every grid cell trains on.

* The corpus is split once into train / validation documents; every cell evaluates on the same
  validation blocks, which no construction ever touches (as in the paper).
* The tokenizer is trained once, on the clean training split, and shared by every cell. A tokenizer
  trained per variant would learn the duplicated story: at 75% duplication its merges would turn
  whole phrases of that one story into single tokens, so cells would differ in their vocabulary
  (and in what "a token" and "loss per token" mean) as well as in their data, and their losses could
  not be compared. The paper's GPT-2 BPE was fixed in the same way.
* The data are the one recipe's (``mini_lib.core.recipe``): the clean training split is tokenised once
  (``tokenization.EncodedDocs``); a cell's variant is only an array of document indices, and
  ``VariantBlocks`` packs those documents into blocks on the fly, exactly as
  ``tokenization.pack_documents`` would (tested), so 45 variants of a large corpus cost 45 index
  arrays, not 45 copies of the token stream.
* Replicate ``r`` uses seed ``settings.seed + r`` for everything random in a variant: which stories a
  size variant keeps, which story is duplicated and where (``experiment`` gives the same seed to the
  model's initial weights and the batch order).

A variant (``make_variant``) keeps a random share of the stories, then duplicates one story over
floor(p (N-1)) other story slots (``duplication.py``), or many stories (``construction="many"``).
``epoch_sweep`` adds variants whose clean data is seen several times in the grid's steps, and
``duplication_table`` checks each variant against what its construction planned. The checks of the
grid's settings are here too (``budget_steps``), since ``make_variants`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import datasets
import numpy as np
import pandas as pd
import torch

from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.core.recipe import prepare_lm_data
from mini_lib.core.tokenization import EncodedDocs, PackedBlocks
from mini_lib.corpora.duplication import HOLD_CHOICES, DuplicationInfo, duplicate_many
from mini_lib.papers.quality_quantity.dedup import analyse_duplication
from mini_lib.papers.quality_quantity.duplication import duplicate_one_document, size_variant
from mini_lib.papers.quality_quantity.settings import QualityQuantitySettings

CONSTRUCTIONS = ("one_document", "many")
SWEEP_RATES = (0.0, 0.25)  # the epoch sweep trains only what the 25% claim needs


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


# ---- checks of the grid's settings (``make_variants`` runs them) ------------------------------

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
