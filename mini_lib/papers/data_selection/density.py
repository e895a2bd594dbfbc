"""Density sampling: kernel density from an LSH count sketch, then inverse-propensity sampling.

Follows the Density sampler of "How to Train Data-Efficient LLMs" (arXiv 2402.09668):
estimate how crowded each example's neighbourhood is in embedding space, then draw a subset with
probability proportional to 1/density, so the sample is closer to uniform over the embedding space
(redundant regions are thinned, rare topics kept).

The kernel sum is estimated with the locality-sensitive-hashing count sketch the paper uses
(Coleman & Shrivastava's RACE sketch): ``R`` independent hash functions, each with its own array of
``B`` counters. Each hash is built from p-stable (Gaussian) projections,

    g_rk(x) = floor((a_rk . x + b_rk) / bandwidth),    a_rk ~ N(0, I),  b_rk ~ U[0, bandwidth)

and with ``n_concat = K`` projections per hash the K codes are combined into one bucket,

    h_r(x) = (sum_k m_rk * g_rk(x)) mod B      (random odd multipliers m_rk; K = 1 uses m = 1,
                                               i.e. exactly h_r(x) = floor((a.x + b)/bandwidth) mod B).

Every example increments one counter per hash; its score is the mean, over the R hashes, of the
count in its own bucket. Two points share a bucket with a probability that falls with their
distance over ``bandwidth`` (the p-stable collision probability, raised to the power K), so the
score estimates a kernel sum at that point. One projection per hash (K = 1) gives a kernel with a
heavy 1/distance tail that follows a Gaussian KDE poorly; K = 4 follows it best (K = 8 is worse).

How many hashes? Each hash is a noisy estimate and real sentence embeddings have a narrow range of
densities (planted clusters have a wide one), so the noise decides the ranking. Measured on 3,704
real English sentences (Python's reference documentation, ``pydoc_data.topics``, and installed
packages' descriptions) embedded with MiniLM (384 dims), Spearman against the exact Gaussian KDE
(bandwidth 0.5) with K = 4, bandwidth 1, three seeds: 64 hashes 0.55-0.58, 256 0.81, 512
0.88-0.89, 1,024 0.94. It does not depend on n (1,000 or 3,704 sentences: the same), so the
default is a fixed 1,024 hashes x 4,096 buckets. Its cost per example: 4,096 projections of 384
dims, computed twice (once to count, once to read the counts), about 0.2 ms of CPU time (1M
examples: about 4 CPU-minutes; 64 hashes took 16x less); memory: 32 MB of counters whatever n,
about 250 MB of temporaries for one chunk of ``chunk_size`` rows, and nothing per example but its
score. Everything is vectorised in row chunks (``benchmarks/bench_density.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.keep import as_scores, n_to_keep


@dataclass(frozen=True)
class SketchConfig:
    """Shape and randomness of the LSH count sketch (R hashes x B buckets, kernel width)."""

    n_hashes: int = 1024  # Spearman 0.94 against the exact KDE on real sentences (module docstring)
    n_buckets: int = 4096
    bandwidth: float = 1.0
    n_concat: int = 4
    seed: int = 0
    chunk_size: int = 4096  # rows projected at once: 4096 x (n_hashes * n_concat) float32

    def __post_init__(self) -> None:
        for name in ("n_hashes", "n_buckets", "n_concat", "chunk_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"SketchConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not self.bandwidth > 0:
            raise ConfigError(f"SketchConfig.bandwidth must be > 0, got {self.bandwidth}")


class LSHCountSketch:
    """R hash functions (each K p-stable projections), each with B counters; query returns the
    mean own-bucket count."""

    def __init__(self, dim: int, config: SketchConfig = SketchConfig()) -> None:
        if config.n_hashes * config.n_buckets >= 2**31:
            raise ConfigError("SketchConfig.n_hashes * n_buckets must be < 2**31 counters")
        if dim < 1:
            raise ConfigError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        self.config = config
        rng = np.random.default_rng(config.seed)
        n_proj = config.n_hashes * config.n_concat
        self.projections = rng.standard_normal((dim, n_proj), dtype=np.float32)
        self.offsets = rng.uniform(0.0, config.bandwidth, size=n_proj).astype(np.float32)
        if config.n_concat == 1:
            self.multipliers = np.ones((1,), dtype=np.int64)
        else:
            self.multipliers = 2 * rng.integers(1, 2**20, size=config.n_concat, dtype=np.int64) + 1
        self.counts = np.zeros((config.n_hashes, config.n_buckets), dtype=np.int64)
        self.n_added = 0

    def buckets(self, x: np.ndarray) -> np.ndarray:
        """Bucket of each row under each hash: an ``(n, R)`` int64 array with values in [0, B)."""
        x = self._check(x)
        cfg = self.config
        proj = x @ self.projections
        proj += self.offsets
        proj *= np.float32(1.0 / cfg.bandwidth)
        np.floor(proj, out=proj)
        codes = proj.astype(np.int64).reshape(len(x), cfg.n_hashes, cfg.n_concat) @ self.multipliers
        if cfg.n_buckets & (cfg.n_buckets - 1) == 0:
            # B a power of two: the bit mask equals the non-negative mod, and is 5x faster.
            return codes & (cfg.n_buckets - 1)
        return np.mod(codes, cfg.n_buckets)

    def add(self, x: np.ndarray) -> None:
        """Count every row of ``x`` once in each of the R hash tables."""
        x = self._check(x)
        n_cells = self.config.n_hashes * self.config.n_buckets
        for start in range(0, len(x), self.config.chunk_size):
            flat = self.flat_buckets(x[start : start + self.config.chunk_size])
            self.counts += np.bincount(flat.ravel(), minlength=n_cells).reshape(self.counts.shape)
        self.n_added += len(x)

    def query(self, x: np.ndarray) -> np.ndarray:
        """Mean count of each row's buckets over the R hashes (a kernel-sum estimate), float64."""
        x = self._check(x)
        flat_counts = self.counts.ravel()
        out = np.empty(len(x), dtype=np.float64)
        for start in range(0, len(x), self.config.chunk_size):
            flat = self.flat_buckets(x[start : start + self.config.chunk_size])
            out[start : start + len(flat)] = flat_counts[flat].mean(axis=1)
        return out

    def flat_buckets(self, x: np.ndarray) -> np.ndarray:
        """Buckets offset by ``r * B`` so all R tables index one flat counter array."""
        hash_offsets = np.arange(self.config.n_hashes, dtype=np.int64) * self.config.n_buckets
        return self.buckets(x) + hash_offsets

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ConfigError(f"embeddings must have shape (n, {self.dim}), got {x.shape}")
        return x


def density_scores(embeddings: np.ndarray, config: SketchConfig = SketchConfig()) -> np.ndarray:
    """Sketch every embedding, then score each by its mean bucket count (higher = denser region).

    Two passes (count, then read the counts), hashing every row twice: keeping the bucket ids of
    all rows instead would take ``4 * n_hashes`` bytes per row (4 GB for 1M rows and 1,024 hashes).
    """
    embeddings = _as_matrix(embeddings)
    sketch = LSHCountSketch(embeddings.shape[1], config)
    sketch.add(embeddings)
    return sketch.query(embeddings)


def exact_kde(embeddings: np.ndarray, bandwidth: float, *, chunk_size: int = 2048) -> np.ndarray:
    """Exact Gaussian kernel density ``mean_j exp(-|x_i - x_j|^2 / (2 bandwidth^2))``: the reference
    the sketch approximates (quadratic cost, so for checks on small data only)."""
    if not bandwidth > 0:
        raise ConfigError(f"bandwidth must be > 0, got {bandwidth}")
    x = _as_matrix(embeddings).astype(np.float64)
    sq = (x * x).sum(axis=1)
    out = np.empty(len(x))
    for start in range(0, len(x), chunk_size):
        block = x[start : start + chunk_size]
        d2 = np.maximum(sq[start : start + len(block), None] + sq[None, :] - 2.0 * block @ x.T, 0.0)
        out[start : start + len(block)] = np.exp(-d2 / (2.0 * bandwidth**2)).mean(axis=1)
    return out


def inverse_propensity_sample(scores: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """Draw ``k`` distinct indices with probability proportional to ``1 / score``; sorted.

    Weighted sampling without replacement by the Gumbel-top-k trick: with weights w_i = 1/score_i,
    the k largest keys ``log w_i + Gumbel_i`` are distributed exactly as k successive draws without
    replacement, each proportional to the remaining weights. One vectorised pass, O(n).
    """
    scores = as_scores(scores)
    if np.any(scores <= 0):
        raise ConfigError("scores must be > 0 to be inverted into sampling weights")
    if not 1 <= k <= len(scores):
        raise ConfigError(f"k must be in [1, {len(scores)}], got {k}")
    rng = np.random.default_rng(seed)
    keys = -np.log(scores) + rng.gumbel(size=len(scores))
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(top)


def density_subset(
    embeddings: np.ndarray, keep_fraction: float, *, config: SketchConfig = SketchConfig(), seed: int = 0
) -> np.ndarray:
    """The Density sampler: sketch scores, then keep ``keep_fraction`` by inverse propensity."""
    k = n_to_keep(len(_as_matrix(embeddings)), keep_fraction)
    return inverse_propensity_sample(density_scores(embeddings, config), k, seed=seed)


def _as_matrix(embeddings: np.ndarray) -> np.ndarray:
    x = np.asarray(embeddings)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ConfigError(f"embeddings must be a non-empty (n, dim) array, got shape {x.shape}")
    return x
