"""How good is a selection? Label-based checks of kept sets and scorers, and the paper's summary numbers.

* ``selection_quality``: with ground-truth quality labels (e.g. the injected low-quality documents of
  ``mini_lib.corpora.noise``), what share of the low-quality documents a sampler removed and what
  share of the clean ones it kept.
* ``scorer_auroc``: how well a score ranks clean above low-quality documents, independent of any
  keep fraction (0.5 = chance, 1 = perfect).
* ``scorer_of_auroc``: a synthetic scorer of chosen AUROC (the true label blended with noise), so the
  value of a quality sampler can be measured against the quality of its scorer.
* ``over_scaling``: the summary metric of "How to Train Data-Efficient LLMs" (arXiv 2402.09668).
* ``equal_token_budget_epochs``: the paper trains every subset on the same token budget, repeating
  smaller samples for more epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.keep import as_scores


@dataclass(frozen=True)
class SelectionQuality:
    """Counts and rates of a kept set against clean / low-quality labels."""

    n_kept: int
    n_clean_kept: int
    n_clean: int
    n_low_quality: int
    precision: float  # share of the kept set that is clean
    clean_kept: float  # recall of clean documents: share of them that were kept
    low_quality_removed: float  # share of low-quality documents that were dropped


def selection_quality(kept: np.ndarray, is_good: np.ndarray) -> SelectionQuality:
    """Precision of ``kept`` (indices) for clean documents, share of clean kept, share of bad removed.

    A rate whose denominator is empty (no clean, or no low-quality documents) is NaN.
    """
    labels = _as_labels(is_good)
    kept = np.asarray(kept)
    if kept.ndim != 1 or not np.issubdtype(kept.dtype, np.integer):
        raise ConfigError("kept must be a 1-D array of integer indices")
    if kept.size and (kept.min() < 0 or kept.max() >= len(labels)):
        raise ConfigError(f"kept indices must lie in [0, {len(labels)})")
    if len(np.unique(kept)) != len(kept):
        raise ConfigError("kept indices must be distinct")
    n_clean = int(labels.sum())
    n_bad = len(labels) - n_clean
    n_clean_kept = int(labels[kept].sum())
    n_bad_kept = len(kept) - n_clean_kept
    return SelectionQuality(
        n_kept=len(kept),
        n_clean_kept=n_clean_kept,
        n_clean=n_clean,
        n_low_quality=n_bad,
        precision=n_clean_kept / len(kept) if len(kept) else float("nan"),
        clean_kept=n_clean_kept / n_clean if n_clean else float("nan"),
        low_quality_removed=(n_bad - n_bad_kept) / n_bad if n_bad else float("nan"),
    )


def scorer_auroc(scores: np.ndarray, is_good: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` (higher = better) for the ``is_good`` labels.

    The probability that a random clean document outscores a random low-quality one, ties counting
    one half (Mann-Whitney U over average ranks). For a lower-is-better score such as perplexity,
    pass its negation.
    """
    from scipy.stats import rankdata

    scores = as_scores(scores)
    labels = _as_labels(is_good)
    if len(scores) != len(labels):
        raise ConfigError(f"scores and is_good differ in length: {len(scores)} vs {len(labels)}")
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ConfigError("AUROC needs both clean and low-quality examples in is_good")
    ranks = rankdata(scores)  # average ranks: ties count one half
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def scorer_of_auroc(is_good: np.ndarray, target_auroc: float, *, seed: int = 0) -> np.ndarray:
    """Scores ``strength * is_good + noise`` whose AUROC for ``is_good`` is ``target_auroc`` in [0.5, 1].

    Why: Ask-LLM is only as good as its scorer; sweeping scorers of known quality shows where a
    quality sampler starts to pay. The noise is standard normal (fixed by ``seed``); ``strength`` is
    then found by bisection, which hits the target to within one clean/low-quality pair, because
    for fixed noise each pair is won by the clean document once ``strength`` exceeds the pair's
    noise gap (the empirical AUROC is a non-decreasing step function of ``strength``).
    """
    labels = _as_labels(is_good)
    if not 0.5 <= float(target_auroc) <= 1.0:
        raise ConfigError(f"target_auroc must lie in [0.5, 1] (0.5 = chance, 1 = perfect), got {target_auroc}")
    noise = np.random.default_rng(seed).standard_normal(len(labels))
    low, high = -1.0, float(noise.max() - noise.min()) + 1.0  # AUROC at ``high`` is exactly 1
    for _ in range(60):
        mid = (low + high) / 2
        if scorer_auroc(mid * labels + noise, labels) < target_auroc:
            low = mid
        else:
            high = mid
    return high * labels + noise


def over_scaling(metric_sampler: float, metric_full: float, metric_small_full: float) -> float:
    """Over-scaling (%) of a sampler, as used in arXiv 2402.09668 (its "over-scaling" column).

        over_scaling = 100 * (M(large, sampler) - M(large, full)) / (M(large, full) - M(small, full))

    ``metric_sampler``: the larger model trained on the sampler's subset (same token budget);
    ``metric_full``: the larger model on the full data; ``metric_small_full``: the smaller model on
    the full data (T5-Large and T5-Small in the paper). It is the sampler's gain over full-data
    training, in units of the gain that scaling the model up brings; +100% means the subset helps
    as much as going from the small to the large model. The paper reports, for T5-Large at 20%,
    Ask-LLM +33.0, Density +2.8, Random -6.5, Perplexity -32.7 (arXiv 2402.09668, its T5-Large
    results). The formula is our reading of the paper's description (the
    relative improvement over full data, normalised by the small-to-large improvement). Being a
    ratio of differences, it needs no direction flag: for a lower-is-better metric (loss,
    perplexity) both differences change sign together.
    """
    values = np.array([metric_sampler, metric_full, metric_small_full], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ConfigError("over_scaling needs three finite metric values")
    scale_gain = metric_full - metric_small_full
    if scale_gain == 0:
        raise ConfigError(
            "metric_full equals metric_small_full: the model-scaling gain is zero, over-scaling is undefined"
        )
    return float(100.0 * (metric_sampler - metric_full) / scale_gain)


def equal_token_budget_epochs(subset_tokens: int, budget_tokens: int) -> float:
    """Epochs over a subset of ``subset_tokens`` tokens that spend ``budget_tokens`` (may be fractional).

    The paper trains every sampled subset for the same number of tokens as full-data training, so a
    20% sample is seen 5 times; ``epochs * subset_tokens == budget_tokens``.
    """
    for name, value in (("subset_tokens", subset_tokens), ("budget_tokens", budget_tokens)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer token count, got {value!r}")
    return budget_tokens / subset_tokens


def _as_labels(is_good: np.ndarray) -> np.ndarray:
    labels = np.asarray(is_good)
    if labels.ndim != 1 or labels.size == 0:
        raise ConfigError(f"is_good must be a non-empty 1-D array of booleans, got shape {labels.shape}")
    if labels.dtype != bool:
        if not np.all(np.isin(labels, (0, 1))):
            raise ConfigError("is_good must hold booleans (or 0/1)")
        labels = labels.astype(bool)
    return labels
