"""The corpus the samplers choose from, and the proxy LM's data, for the data-selection experiment of
notebook 06 ("How to Train Data-Efficient LLMs", arXiv 2402.09668).

The paper selects from C4, whose documents carry no quality labels. Ours is storyworld with injected
low-quality documents of known kinds (``corpora.noise``) and k-fold repeated documents
(``corpora.duplication``), so every sampler's kept set can be checked against the labels. ``proxy_data``
prepares the clean stories the perplexity-filtering proxy LM is trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mini_lib.core.errors import check_fraction
from mini_lib.core.recipe import PreparedData, prepare_lm_data
from mini_lib.corpora.duplication import duplicate_many
from mini_lib.corpora.noise import CLEAN, inject_low_quality
from mini_lib.corpora.storyworld import generate_stories
from mini_lib.papers.data_selection.settings import DataSelectionSettings

# ---- corpus ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionCorpus:
    """Documents in training order with their ground truth: ``quality`` ("clean" or a low-quality
    kind), ``is_duplicate`` (a repeat of a document seen earlier) and the source story id."""

    texts: list[str]
    quality: np.ndarray
    is_duplicate: np.ndarray
    source_id: np.ndarray

    @property
    def is_good(self) -> np.ndarray:
        return self.quality == CLEAN

    def __len__(self) -> int:
        return len(self.texts)


def build_corpus(
    n_stories: int,
    *,
    noise_fraction: float,
    duplicate_rate: float,
    repeat_k: int,
    seed: int = 0,
    tier: str = "simple",
    kinds: Sequence[str] | None = None,
) -> SelectionCorpus:
    """``n_stories`` storyworld stories, a ``noise_fraction`` of them replaced by low-quality documents,
    then a ``duplicate_rate`` of the rows made of ``repeat_k``-fold repeats (row count kept)."""
    check_fraction("noise_fraction", noise_fraction)
    check_fraction("duplicate_rate", duplicate_rate)
    ds = generate_stories(n_stories, seed=seed, tier=tier)
    ds = inject_low_quality(ds, noise_fraction, seed=seed, **({"kinds": tuple(kinds)} if kinds else {}))
    if duplicate_rate > 0:
        ds, _ = duplicate_many(ds, duplicate_rate, repeat_k, seed=seed)
        is_dup = np.asarray(ds["is_duplicate"], dtype=bool)
        source = np.asarray(ds["source_id"])
    else:
        is_dup = np.zeros(len(ds), dtype=bool)
        source = np.asarray(ds["id"])
    return SelectionCorpus(list(ds["text"]), np.asarray(ds["quality"]), is_dup, source)


def noisy_corpus(s: DataSelectionSettings) -> "SelectionCorpus":
    """The notebook's labelled noisy corpus (``build_corpus`` with the settings' sizes and rates)."""
    return build_corpus(s.n_stories, noise_fraction=s.noise_fraction, duplicate_rate=s.duplicate_rate,
                        repeat_k=s.repeat_k, seed=s.seed, tier=s.tier)


def proxy_data(s: DataSelectionSettings) -> PreparedData:
    """The proxy LM's data: ``proxy_docs`` clean stories of another seed than the corpus (so not the documents
    it will score), 20% held out; its tokenizer and validation blocks serve every model of the notebook."""
    return prepare_lm_data(corpus="storyworld", n_stories=s.proxy_docs, vocab_size=s.vocab_size, seq_len=s.seq_len,
                           val_fraction=0.2, seed=s.seed + 1, tier=s.tier)
