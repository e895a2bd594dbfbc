"""Size variants and duplicated corpora for the quality-vs-quantity paper (arXiv 2411.15821).

The paper trains the same small GPT on TinyStories variants:

* **size**: a random 25% / 50% / 100% of the stories (``size_variant``);
* **duplication** p in {0, 25, 50, 75, 100}%: one story is chosen and floor(p (N - 1)) randomly
  chosen slots of the OTHER stories are overwritten by copies of it, so the story count stays N
  (``duplicate_one_document``). At p = 100% the corpus is N copies of one story.

``mini_lib.corpora.duplication.duplicate_many`` is this package's more natural extension: a fraction of
the corpus made of k-fold repeats of many documents, with the document count or the token count held constant.

Every construction works on index arrays (``*_indices``) and, on top of them, on a
``datasets.Dataset`` with a ``text`` column (plus ``id`` and any metadata). Rows keep all columns
of the document whose text they carry, and get ``source_id`` (the id of that document) and
``is_duplicate`` (True for a copy placed in another row; a document's first occurrence is False).
The functions only ever see the training split: the validation set stays untouched, as in the
paper. Each returns a ``DuplicationInfo`` for the notebook to show.

The two metric conventions of the paper's tables are here as pure-number helpers; loss and
accuracy themselves are measured by ``mini_lib.core.evaluate``.
"""

from __future__ import annotations

import math

import datasets
import numpy as np

from mini_lib.core.errors import check_fraction
from mini_lib.corpora.duplication import DuplicationInfo, check_corpus_size, corpus_ids, rows_from_sources

PAPER_SIZE_FRACTIONS = (0.25, 0.5, 1.0)
PAPER_DUPLICATION_RATES = (0.0, 0.25, 0.5, 0.75, 1.0)
PAPER_WINDOW = 128  # the paper's "accuracy" counts correct next tokens in a 128-token window


# ---- size variants --------------------------------------------------------------------------

def size_variant_indices(n_docs: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a random ``fraction`` of ``n_docs`` documents (at least one)."""
    check_fraction("fraction", fraction, allow_zero=False)
    check_corpus_size(n_docs)
    n_keep = max(1, round(fraction * n_docs))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_docs, size=n_keep, replace=False))


def size_variant(ds: datasets.Dataset, fraction: float, seed: int) -> datasets.Dataset:
    """A random ``fraction`` of the documents, in their original order (the paper: 25%, 50%)."""
    return ds.select(size_variant_indices(len(ds), fraction, seed))


# ---- the paper's construction: one document copied over other slots ------------------------

def duplicate_one_document_indices(n_docs: int, rate: float, seed: int) -> tuple[np.ndarray, int]:
    """Source index of each slot, and the chosen document: floor(rate (N-1)) other slots copy it."""
    check_fraction("rate", rate)
    check_corpus_size(n_docs)
    rng = np.random.default_rng(seed)
    chosen = int(rng.integers(n_docs))
    others = np.delete(np.arange(n_docs), chosen)
    n_replaced = math.floor(round(rate * (n_docs - 1), 9))  # round: 0.29 * 100 must give 29
    sources = np.arange(n_docs)
    sources[rng.choice(others, size=n_replaced, replace=False)] = chosen
    return sources, chosen


def duplicate_one_document(
    ds: datasets.Dataset, rate: float, seed: int
) -> tuple[datasets.Dataset, DuplicationInfo]:
    """The paper's duplication: one document overwrites floor(rate (N-1)) other document slots.

    The row count stays N. ``id`` keeps the slot's original id (unique); the text and all other
    columns come from the document the slot now carries, named by ``source_id``.
    """
    sources, chosen = duplicate_one_document_indices(len(ds), rate, seed)
    ids = corpus_ids(ds)
    out = rows_from_sources(ds, sources, row_ids=ids, is_duplicate=sources != np.arange(len(ds)))
    n_copies = int((sources == chosen).sum())
    info = DuplicationInfo(
        construction="one_document",
        rate=float(rate),
        seed=seed,
        n_docs_in=len(ds),
        n_rows_out=len(ds),
        n_duplicate_rows=n_copies - 1,
        n_distinct_docs=len(ds) - (n_copies - 1),
        duplicated_ids=[ids[chosen]],
        copies_per_duplicated_doc=n_copies,
    )
    return out, info


# ---- the paper's metric conventions (pure numbers) ------------------------------------------

def paper_accuracy_per_window(token_accuracy: float, window: int = PAPER_WINDOW) -> float:
    """The paper's "accuracy": correct next-token predictions per ``window`` predictions.

    Its table's 49.0 is 49.0 / 128 = 38.3% token accuracy (a 128-token block gives 128 predictions).
    """
    check_fraction("token_accuracy", token_accuracy)
    return token_accuracy * window
