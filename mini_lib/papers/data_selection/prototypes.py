"""SSL Prototypes: drop the most prototypical examples, those nearest their k-means centroid.

A baseline sampler of "How to Train Data-Efficient LLMs" (arXiv 2402.09668), after Sorscher et al.,
"Beyond neural scaling laws" (2022): cluster the normalised embeddings with k-means and score each
example by its cosine distance to its own centroid. Examples close to a centroid are "easy" (well
represented by the prototype); the sampler keeps the hardest, least prototypical fraction.
"""

from __future__ import annotations

import numpy as np

from mini_lib.papers.data_selection.clustering import KMeansConfig, kmeans_clusters, normalise_rows
from mini_lib.papers.data_selection.keep import keep_top


def prototypicality_distances(embeddings: np.ndarray, config: KMeansConfig = KMeansConfig()) -> np.ndarray:
    """Cosine distance of each example to its own k-means centroid (small = prototypical)."""
    x = normalise_rows(embeddings)
    labels, centroids = kmeans_clusters(x, config)
    return 1.0 - np.einsum("ij,ij->i", x, centroids[labels]).astype(np.float64)


def prototype_subset(
    embeddings: np.ndarray, keep_fraction: float, *, n_clusters: int = 100, seed: int = 0
) -> np.ndarray:
    """Sorted indices of the ``keep_fraction`` examples farthest from their centroid."""
    distances = prototypicality_distances(embeddings, KMeansConfig(n_clusters=n_clusters, seed=seed))
    return keep_top(distances, keep_fraction, largest=True)
