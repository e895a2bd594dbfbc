"""Repeated documents in a corpus, and the record of what a duplication did (``DuplicationInfo``).

``duplicate_many`` makes a fraction of a corpus out of k-fold repeats of many documents, with the
document count or the token count held constant: how repeated web pages look, and what notebook 06's
samplers must find. The quality-vs-quantity paper's own construction (one document copied over other
slots) builds on the same rows (``mini_lib.papers.quality_quantity.duplication``).

Rows keep all columns of the document whose text they carry, and get ``source_id`` (the id of that
document) and ``is_duplicate`` (True for a copy placed in another row; a document's first occurrence is
False). Every construction works on index arrays (``*_indices``) and, on top of them, on a
``datasets.Dataset`` with a ``text`` column (plus ``id`` and any metadata).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import datasets
import numpy as np

from mini_lib.core.errors import ConfigError, check_fraction, choose

HOLD_CHOICES = ("documents", "tokens")


@dataclass
class DuplicationInfo:
    """What a duplication construction did, for tables and plots."""

    construction: str  # "one_document" or "many"
    rate: float
    seed: int
    n_docs_in: int
    n_rows_out: int
    n_duplicate_rows: int  # rows carrying a copy (is_duplicate)
    n_distinct_docs: int  # different documents left in the corpus
    duplicated_ids: list = field(default_factory=list)  # ids of the repeated documents
    copies_per_duplicated_doc: int = 1  # occurrences of each repeated document
    tokens_in: int | None = None  # only for duplicate_many(hold="tokens")
    tokens_out: int | None = None

    @property
    def duplicate_fraction(self) -> float:
        """Fraction of output rows that are copies."""
        return self.n_duplicate_rows / self.n_rows_out if self.n_rows_out else 0.0

    def to_dict(self) -> dict:
        """JSON-ready summary (ids as plain Python values)."""
        out = asdict(self)
        out["duplicated_ids"] = [_plain(i) for i in self.duplicated_ids]
        out["duplicate_fraction"] = self.duplicate_fraction
        return out

    def __str__(self) -> str:
        shown = ", ".join(map(str, self.duplicated_ids[:3])) + (", ..." if len(self.duplicated_ids) > 3 else "")
        return (
            f"{self.construction} rate={self.rate:g}: {self.n_rows_out:,} rows from {self.n_docs_in:,} docs, "
            f"{self.n_duplicate_rows:,} copies ({self.duplicate_fraction:.1%}) of "
            f"{len(self.duplicated_ids):,} doc(s) [{shown}] x{self.copies_per_duplicated_doc}, "
            f"{self.n_distinct_docs:,} distinct docs"
        )


def duplicate_many_indices(
    lengths: np.ndarray, rate: float, k: int, seed: int, hold: str = "documents"
) -> tuple[np.ndarray, np.ndarray]:
    """Source index of every output row (in random order), and the repeated documents.

    A fraction ``rate`` of the output (rounded down to whole repeated documents) is made of
    documents repeated ``k`` times; the rest are distinct documents seen once. ``hold="documents"`` keeps the row count N
    (floor(rate N / k) repeated documents); ``hold="tokens"`` keeps the total length
    sum(``lengths``) approximately: repeated documents are drawn until their k copies reach
    ``rate`` of it, then single documents until the total would pass it.
    """
    check_fraction("rate", rate)
    choose("hold", hold, HOLD_CHOICES)
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ConfigError(f"k (copies per repeated document) must be an integer >= 2, got {k!r}")
    lengths = np.asarray(lengths, dtype=np.int64)
    n_docs = len(lengths)
    check_corpus_size(n_docs)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_docs)
    if hold == "documents":
        n_repeated = math.floor(round(rate * n_docs / k, 9))
        repeated = order[:n_repeated]
        singles = order[n_repeated : n_docs - (k - 1) * n_repeated]
    else:
        budget = int(lengths.sum())
        repeated_mass = np.cumsum(k * lengths[order])
        n_repeated = int(np.searchsorted(repeated_mass, rate * budget, side="right")) if rate else 0
        repeated = order[:n_repeated]
        used = int(repeated_mass[n_repeated - 1]) if n_repeated else 0
        single_mass = used + np.cumsum(lengths[order[n_repeated:]])
        singles = order[n_repeated : n_repeated + int(np.searchsorted(single_mass, budget, side="right"))]
    sources = np.concatenate([np.repeat(repeated, k), singles])
    return sources[rng.permutation(len(sources))], np.sort(repeated)


def duplicate_many(
    ds: datasets.Dataset,
    rate: float,
    k: int,
    seed: int,
    hold: str = "documents",
    length_column: str | None = None,
) -> tuple[datasets.Dataset, DuplicationInfo]:
    """Extension: ``rate`` of the corpus is k-fold repeats of many documents (see the indices version).

    Lengths for ``hold="tokens"`` are whitespace words of ``text``, or ``length_column`` (e.g. a
    token count). Rows come in a random (seeded) order and get new ids 0..M-1; ``source_id`` is
    the original id.
    """
    if length_column is not None and length_column not in ds.column_names:
        raise ConfigError(f"length_column {length_column!r} is not a column; columns: {ds.column_names}")
    lengths = (
        np.asarray(list(ds[length_column]), dtype=np.int64) if length_column is not None
        else np.fromiter((len(t.split()) for t in ds["text"]), dtype=np.int64, count=len(ds))
    )
    sources, repeated = duplicate_many_indices(lengths, rate, k, seed, hold)
    ids = corpus_ids(ds)
    first = np.zeros(len(sources), dtype=bool)
    first[np.unique(sources, return_index=True)[1]] = True
    out = rows_from_sources(ds, sources, row_ids=np.arange(len(sources)), is_duplicate=~first)
    info = DuplicationInfo(
        construction="many",
        rate=float(rate),
        seed=seed,
        n_docs_in=len(ds),
        n_rows_out=len(sources),
        n_duplicate_rows=int((~first).sum()),
        n_distinct_docs=int(first.sum()),
        duplicated_ids=[ids[i] for i in repeated],
        copies_per_duplicated_doc=int(k),
        tokens_in=int(lengths.sum()) if hold == "tokens" else None,
        tokens_out=int(lengths[sources].sum()) if hold == "tokens" else None,
    )
    return out, info


def check_corpus_size(n_docs: int) -> None:
    """An empty corpus cannot be sampled or duplicated: one line instead of an index error."""
    if n_docs < 1:
        raise ConfigError("the corpus is empty: nothing to sample or duplicate")


def corpus_ids(ds: datasets.Dataset) -> list:
    """The ``id`` column, or row positions when there is none."""
    return list(ds["id"]) if "id" in ds.column_names else list(range(len(ds)))


def rows_from_sources(
    ds: datasets.Dataset, sources: np.ndarray, row_ids, is_duplicate: np.ndarray
) -> datasets.Dataset:
    """Row r carries document ``sources[r]`` (all its columns), with id ``row_ids[r]``, ``source_id`` and
    ``is_duplicate``."""
    ids = corpus_ids(ds)
    out = ds.select(sources)
    if "id" in out.column_names:
        out = out.remove_columns("id")
    out = out.add_column("id", list(row_ids))
    out = out.add_column("source_id", [ids[i] for i in sources])
    return out.add_column("is_duplicate", is_duplicate.tolist())


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
