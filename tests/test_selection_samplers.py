"""Baseline samplers (random, perplexity, SemDeDup, SSL Prototypes) and the SAMPLERS / select registry."""

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.clustering import KMeansConfig, kmeans_clusters, normalise_rows
from mini_lib.papers.data_selection.keep import keep_top, n_to_keep
from mini_lib.papers.data_selection.prototypes import prototype_subset, prototypicality_distances
from mini_lib.papers.data_selection.samplers import SAMPLERS, perplexity_subset, random_subset, select
from mini_lib.papers.data_selection.semdedup import duplicate_scores, semdedup_keep_threshold, semdedup_subset


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def planted_duplicates(seed=0):
    """60 distinct random directions; 10 of them get 1-3 near-copies (cosine > 0.99)."""
    rng = np.random.default_rng(seed)
    base = unit(rng.standard_normal((60, 64)))
    rows, group = [base], list(range(60))
    for g in range(10):
        copies = int(rng.integers(1, 4))
        rows.append(unit(base[g] + 0.01 * rng.standard_normal((copies, 64))))
        group += [g] * copies
    x = np.concatenate(rows).astype(np.float32)
    order = rng.permutation(len(x))
    return x[order], np.array(group)[order]


def test_semdedup_keeps_exactly_one_of_each_duplicate_group():
    x, group = planted_duplicates()
    config = KMeansConfig(n_clusters=8, seed=0)
    kept = semdedup_keep_threshold(x, eps=0.05, config=config)
    assert sorted(group[kept].tolist()) == list(range(60))  # every group once, nothing else dropped
    # The survivor of each group is the member farthest from its cluster centroid.
    xn = normalise_rows(x)
    labels, centroids = kmeans_clusters(xn, config)
    cos = np.einsum("ij,ij->i", xn, centroids[labels])
    for g in range(10):
        members = np.flatnonzero(group == g)
        assert set(kept) & set(members) == {members[np.argmin(cos[members])]}


def test_semdedup_at_a_keep_fraction_drops_duplicates_first():
    x, group = planted_duplicates()
    n_dupes = len(x) - 60
    kept = semdedup_subset(x, 60 / len(x), n_clusters=8)
    assert len(kept) == 60 and len(set(group[kept])) == 60
    scores = duplicate_scores(x, KMeansConfig(n_clusters=8))
    assert (scores > 0.99).sum() == n_dupes


def clustered_with_core_and_rim(seed=0):
    """3 clusters: 20 core points (tiny noise) and 20 rim points (large noise) each."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((3, 32)))
    x, is_rim = [], []
    for c in centres:
        x += [unit(c + 0.02 * rng.standard_normal((20, 32))), unit(c + 0.15 * rng.standard_normal((20, 32)))]
        is_rim += [False] * 20 + [True] * 20
    return np.concatenate(x), np.array(is_rim)


def test_prototypes_drop_the_points_nearest_their_centroid():
    x, is_rim = clustered_with_core_and_rim()
    kept = prototype_subset(x, 0.5, n_clusters=3)
    assert is_rim[kept].all() and len(kept) == 60
    dist = prototypicality_distances(x, KMeansConfig(n_clusters=3))
    dropped = np.setdiff1d(np.arange(len(x)), kept)
    assert dist[kept].min() >= dist[dropped].max()


def test_perplexity_low_and_middle_bands():
    ppl = np.array([50.0, 3.0, 9.0, 400.0, 20.0, 7.0, 1000.0, 12.0, 5.0, 30.0])
    np.testing.assert_array_equal(perplexity_subset(ppl, 0.3), [1, 5, 8])  # 3, 7, 5
    # Sorted: 3 5 7 9 12 20 30 50 400 1000 -> middle four: 9 12 20 30
    np.testing.assert_array_equal(perplexity_subset(ppl, 0.4, band="middle"), [2, 4, 7, 9])
    with pytest.raises(ConfigError, match="low, middle"):
        perplexity_subset(ppl, 0.4, band="high")


def test_random_subset_is_seeded_and_exact_size():
    a, b = random_subset(1000, 0.2, seed=1), random_subset(1000, 0.2, seed=1)
    np.testing.assert_array_equal(a, b)
    assert len(a) == 200 and len(np.unique(a)) == 200 and (np.diff(a) > 0).all()
    assert not np.array_equal(a, random_subset(1000, 0.2, seed=2))


def test_keep_rules():
    assert n_to_keep(10, 0.01) == 1 and n_to_keep(10, 1.0) == 10 and n_to_keep(7, 0.5) == 4
    np.testing.assert_array_equal(keep_top(np.array([1.0, 3.0, 3.0, 2.0]), 0.5), [1, 2])
    np.testing.assert_array_equal(keep_top(np.array([2.0, 1.0, 1.0]), 0.34, largest=False), [1])


def test_registry_runs_every_sampler():
    rng = np.random.default_rng(0)
    emb = unit(rng.standard_normal((80, 16))).astype(np.float32)
    scores = rng.uniform(0, 1, 80)
    for name in SAMPLERS:
        opts = {"n_clusters": 4} if name in ("semdedup", "prototypes") else {}
        kept = select(name, 0.25, scores=scores, embeddings=emb, seed=3, **opts)
        assert len(kept) == 20 and (np.diff(kept) > 0).all(), name
    np.testing.assert_array_equal(select("askllm", 0.25, scores=scores), keep_top(scores, 0.25))
    assert len(select("random", 0.5, n=9)) == 4 or len(select("random", 0.5, n=9)) == 5


def test_registry_rejects_bad_requests():
    with pytest.raises(ConfigError, match="random, askllm, perplexity"):
        select("nonsense", 0.5, n=10)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ConfigError, match=r"keep_fraction must be a fraction in \(0, 1\]"):
            select("random", bad, n=10)
    with pytest.raises(ConfigError, match="needs scores"):
        select("askllm", 0.5, embeddings=np.ones((3, 2)))
    with pytest.raises(ConfigError, match="needs n"):
        select("random", 0.5)
    with pytest.raises(ConfigError, match="its options: n_clusters"):
        select("semdedup", 0.5, embeddings=np.ones((3, 2)), bandwidth=2.0)
    with pytest.raises(ConfigError, match="finite"):
        select("perplexity", 0.5, scores=np.array([1.0, np.nan]))
