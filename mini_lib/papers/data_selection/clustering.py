"""k-means on L2-normalised embeddings: the clustering step shared by SemDeDup and SSL Prototypes.

Both baselines of arXiv 2402.09668 work on unit-norm embeddings (cosine geometry) clustered by
seeded scikit-learn k-means (MiniBatchKMeans for large corpora), with centroids re-normalised so
cosine similarity to a centroid is a dot product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mini_lib.core.errors import ConfigError


@dataclass(frozen=True)
class KMeansConfig:
    """k-means on normalised embeddings (sklearn); MiniBatchKMeans above ``minibatch_above`` rows."""

    n_clusters: int = 100
    seed: int = 0
    minibatch_above: int = 50_000

    def __post_init__(self) -> None:
        if self.n_clusters < 1:
            raise ConfigError(f"n_clusters must be >= 1, got {self.n_clusters}")


def normalise_rows(embeddings: np.ndarray) -> np.ndarray:
    """Unit-norm rows (float32), so cosine similarity is a dot product."""
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ConfigError(f"embeddings must be a non-empty (n, dim) array, got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(norms)):
        raise ConfigError("embeddings must be finite with no all-zero rows")
    return x / norms


def kmeans_clusters(x: np.ndarray, config: KMeansConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, unit-norm centroids)`` of seeded k-means on the unit-norm rows ``x``."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    k = min(config.n_clusters, len(x))
    if len(x) > config.minibatch_above:
        km = MiniBatchKMeans(n_clusters=k, random_state=config.seed, n_init=3, batch_size=4096)
    else:
        km = KMeans(n_clusters=k, random_state=config.seed, n_init=3)
    labels = km.fit_predict(x)
    centroids = km.cluster_centers_.astype(np.float32)
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    return labels, centroids / np.where(norms == 0, 1, norms)
