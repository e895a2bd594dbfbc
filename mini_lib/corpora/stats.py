"""Corpus statistics a reader should see before training on a corpus: word frequencies, Zipf's
law, vocabulary growth and n-gram diversity (how repetitive the text is)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words (letters with inner apostrophes); numbers and punctuation are not words."""
    return WORD.findall(text.lower())


def word_counts(texts: Iterable[str]) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        counts.update(words(text))
    return counts


@dataclass(frozen=True)
class ZipfFit:
    """log(frequency) = intercept + slope * log(rank); Zipf's law is a slope near -1."""

    slope: float
    intercept: float
    r2: float
    n_ranks: int


def zipf_fit(counts: Counter, top: int = 500) -> ZipfFit:
    """Least-squares line through the rank-frequency curve of the ``top`` most frequent words."""
    freqs = np.array(sorted(counts.values(), reverse=True)[:top], dtype=float)
    if len(freqs) < 3:
        raise ValueError("need at least 3 distinct words for a Zipf fit")
    x, y = np.log(np.arange(1, len(freqs) + 1)), np.log(freqs)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    r2 = 1 - residual.var() / y.var()
    return ZipfFit(float(slope), float(intercept), float(r2), len(freqs))


def distinct_ngram_fraction(texts: Sequence[str], n: int = 3) -> float:
    """Distinct n-grams / all n-grams: 1.0 means nothing repeats, near 0 means very formulaic text."""
    seen: set = set()
    total = 0
    for text in texts:
        w = words(text)
        grams = list(zip(*(w[i:] for i in range(n))))
        seen.update(grams)
        total += len(grams)
    return len(seen) / max(total, 1)


def corpus_summary(texts: Sequence[str]) -> dict:
    """A one-row description of a corpus for tables: sizes, vocabulary, Zipf slope, diversity."""
    counts = word_counts(texts)
    n_words = sum(counts.values())
    fit = zipf_fit(counts)
    return {
        "documents": len(texts),
        "words": n_words,
        "mb": sum(len(t.encode()) for t in texts) / 1e6,
        "word_types": len(counts),
        "mean_words_per_doc": n_words / max(len(texts), 1),
        "zipf_slope": fit.slope,
        "zipf_r2": fit.r2,
        "distinct_3gram_fraction": distinct_ngram_fraction(texts, 3),
    }
