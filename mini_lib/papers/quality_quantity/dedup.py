"""How duplicated is a corpus? Exact and near duplicates, for the quality-vs-quantity paper.

The paper (arXiv 2411.15821) degrades TinyStories by copying one story over others; this module
measures duplication in any corpus, so a notebook can show what a construction did (or find
duplicates a corpus already has):

* **exact duplicates**: documents whose normalised text (lower-cased, whitespace collapsed)
  repeats an earlier document;
* **near duplicates**: MinHash signatures of word 5-gram shingles, candidate pairs from
  locality-sensitive hashing (``datasketch.MinHash`` / ``MinHashLSH``), kept when the estimated
  Jaccard similarity reaches ``threshold``, then joined into clusters (union-find).

Exact duplicates are collapsed first, so a corpus that is half copies of one story costs one
MinHash, not millions of pair checks. Shingles are hashed with xxHash (installed with
``datasets``) instead of datasketch's default SHA-1: 2x faster, still deterministic; 20,000 short
stories take about 2-4 s on one CPU core.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import datasets
import xxhash
from datasketch import MinHash, MinHashLSH

from mini_lib.core.errors import ConfigError


@dataclass
class DuplicationReport:
    """Duplication in a corpus; fractions count documents that repeat an earlier document."""

    n_docs: int
    n_distinct_texts: int
    exact_duplicate_fraction: float
    near_duplicate_fraction: float  # includes exact duplicates
    largest_cluster_size: int  # 1 when nothing is duplicated
    clusters: list[list[int]] = field(default_factory=list)  # row positions, clusters of 2+, largest first
    threshold: float = 0.8
    num_perm: int = 128
    shingle_size: int = 5

    def __str__(self) -> str:
        return (
            f"{self.n_docs:,} docs, {self.n_distinct_texts:,} distinct texts: "
            f"{self.exact_duplicate_fraction:.1%} exact duplicates, "
            f"{self.near_duplicate_fraction:.1%} near duplicates (Jaccard >= {self.threshold:g} on word "
            f"{self.shingle_size}-grams), {len(self.clusters):,} clusters, largest {self.largest_cluster_size:,}"
        )


def analyse_duplication(
    texts: "Iterable[str] | datasets.Dataset",
    threshold: float = 0.8,
    num_perm: int = 128,
    shingle_size: int = 5,
    seed: int = 1,
) -> DuplicationReport:
    """Exact and near-duplicate statistics of ``texts`` (or of a Dataset's ``text`` column)."""
    if not 0 < threshold < 1:
        raise ConfigError(f"threshold must be a Jaccard similarity in (0, 1), got {threshold!r}")
    if not isinstance(shingle_size, int) or shingle_size < 1:
        raise ConfigError(f"shingle_size must be a positive integer number of words, got {shingle_size!r}")
    if isinstance(texts, datasets.Dataset):
        texts = texts["text"]

    # 1. exact duplicates: group rows by normalised text
    first_row: dict[str, int] = {}
    group_of_row = []
    for row, text in enumerate(texts):
        group_of_row.append(first_row.setdefault(" ".join(text.lower().split()), len(first_row)))
    n_docs, distinct = len(group_of_row), list(first_row)
    if n_docs == 0:
        raise ConfigError("analyse_duplication got no documents")

    # 2. near duplicates among the distinct texts: MinHash + LSH candidates, verified
    signatures = MinHash.bulk(
        [_shingles(text, shingle_size) for text in distinct],
        num_perm=num_perm, seed=seed, hashfunc=xxhash.xxh32_intdigest,
    )
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for g, signature in enumerate(signatures):
            session.insert(g, signature)
    parent = list(range(len(distinct)))
    for g, signature in enumerate(signatures):
        for other in lsh.query(signature):
            if other < g and signature.jaccard(signatures[other]) >= threshold:
                parent[_root(parent, g)] = _root(parent, other)

    # 3. clusters of rows
    members: dict[int, list[int]] = {}
    for row, g in enumerate(group_of_row):
        members.setdefault(_root(parent, g), []).append(row)
    clusters = sorted((rows for rows in members.values() if len(rows) > 1), key=len, reverse=True)
    return DuplicationReport(
        n_docs=n_docs,
        n_distinct_texts=len(distinct),
        exact_duplicate_fraction=(n_docs - len(distinct)) / n_docs,
        near_duplicate_fraction=(n_docs - len(members)) / n_docs,
        largest_cluster_size=len(clusters[0]) if clusters else 1,
        clusters=clusters,
        threshold=threshold,
        num_perm=num_perm,
        shingle_size=shingle_size,
    )


def _shingles(text: str, n: int) -> set[bytes]:
    """Word n-grams of a normalised text (the whole text if it has fewer than n words)."""
    words = text.encode().split(b" ")
    return {b" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def _root(parent: list[int], i: int) -> int:
    """Union-find root with path halving."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i
