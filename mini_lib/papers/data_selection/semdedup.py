"""SemDeDup: remove semantic near-duplicates within k-means clusters of embeddings.

A baseline sampler of "How to Train Data-Efficient LLMs" (arXiv 2402.09668), after Abbas et al.,
"SemDeDup" (2023): cluster the L2-normalised embeddings with k-means, then inside each cluster
compare every pair by cosine similarity. Members are visited from the farthest to the nearest to
their centroid; a member whose similarity to an *earlier* member (farther from the centroid)
exceeds the threshold is a duplicate and is dropped. So each group of near-duplicates keeps
exactly one member, the one farthest from the centroid, as SemDeDup does.

Each example's ``duplicate_score`` is its largest similarity to an earlier member of its cluster
(-inf for the first); dropping every score above ``1 - eps`` is SemDeDup with threshold ``eps``,
and keeping the lowest-scoring fraction is SemDeDup with the ``eps`` that keeps that fraction.
"""

from __future__ import annotations

import numpy as np

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.clustering import KMeansConfig, kmeans_clusters, normalise_rows
from mini_lib.papers.data_selection.keep import keep_top


def duplicate_scores(embeddings: np.ndarray, config: KMeansConfig = KMeansConfig()) -> np.ndarray:
    """Each example's largest cosine similarity to a member of its cluster farther from the centroid."""
    x = normalise_rows(embeddings)
    labels, centroids = kmeans_clusters(x, config)
    scores = np.full(len(x), -np.inf)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        # Farthest from the centroid first (lowest cosine similarity); ties by index.
        members = members[np.argsort(x[members] @ centroids[c], kind="stable")]
        scores[members] = _max_similarity_to_earlier(x[members])
    return scores


def _max_similarity_to_earlier(v: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """For each row j of ``v``, max over i < j of ``v_i . v_j`` (-inf for row 0), in row chunks."""
    out = np.full(len(v), -np.inf)
    for start in range(1, len(v), chunk):
        stop = min(start + chunk, len(v))
        sims = v[start:stop] @ v[:stop].T  # rows j in [start, stop), columns i < stop
        later = np.arange(stop)[None, :] >= np.arange(start, stop)[:, None]
        sims[later] = -np.inf
        out[start:stop] = sims.max(axis=1)
    return out


def semdedup_keep_threshold(embeddings: np.ndarray, eps: float, config: KMeansConfig = KMeansConfig()) -> np.ndarray:
    """Sorted indices SemDeDup keeps with threshold ``eps``: drop similarity > 1 - eps to an earlier member."""
    if not 0 <= eps <= 2:
        raise ConfigError(f"eps must be in [0, 2] (cosine distance), got {eps}")
    return np.flatnonzero(duplicate_scores(embeddings, config) <= 1.0 - eps)


def semdedup_subset(
    embeddings: np.ndarray, keep_fraction: float, *, n_clusters: int = 100, seed: int = 0
) -> np.ndarray:
    """Sorted indices of the ``keep_fraction`` least duplicated examples (SemDeDup at a target size)."""
    scores = duplicate_scores(embeddings, KMeansConfig(n_clusters=n_clusters, seed=seed))
    # -inf (first of a cluster) is always kept first; as_scores needs finite values.
    return keep_top(np.where(np.isfinite(scores), scores, -2.0), keep_fraction, largest=False)
