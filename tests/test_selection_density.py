"""Density sampling: LSH count-sketch properties, agreement with exact KDE, inverse-propensity draws."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.density import (
    LSHCountSketch,
    SketchConfig,
    density_scores,
    density_subset,
    exact_kde,
    inverse_propensity_sample,
)


def planted_clusters(sizes, dim=384, spread=0.02, seed=0):
    """Unit vectors around random centres; the cluster sizes set the local density."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.concatenate([c + spread * rng.standard_normal((s, dim)) for c, s in zip(centres, sizes)])
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels


def test_each_hash_counts_every_example_once():
    x, _ = planted_clusters([50, 30, 7], dim=16)
    config = SketchConfig(n_hashes=12, n_buckets=64, chunk_size=10)
    sketch = LSHCountSketch(16, config)
    sketch.add(x)
    assert sketch.counts.shape == (12, 64)
    assert (sketch.counts.sum(axis=1) == len(x)).all()
    b = sketch.buckets(x)
    assert b.shape == (len(x), 12) and b.min() >= 0 and b.max() < 64
    # A point's score is at least 1 (it shares every bucket with itself), at most n.
    scores = sketch.query(x)
    assert scores.min() >= 1 and scores.max() <= len(x)
    np.testing.assert_allclose(scores, density_scores(x, config))


def test_single_projection_hash_is_the_p_stable_formula():
    config = SketchConfig(n_hashes=5, n_buckets=7, bandwidth=0.3, n_concat=1, seed=3)
    sketch = LSHCountSketch(8, config)
    x = np.random.default_rng(1).standard_normal((20, 8)).astype(np.float32)
    by_hand = np.mod(np.floor((x @ sketch.projections + sketch.offsets) / 0.3).astype(np.int64), 7)
    np.testing.assert_array_equal(sketch.buckets(x), by_hand)


def test_denser_planted_clusters_score_higher():
    x, labels = planted_clusters([400, 100, 25])
    scores = density_scores(x, SketchConfig(n_hashes=64, bandwidth=1.0, seed=1))
    means = [scores[labels == c].mean() for c in range(3)]
    assert means[0] > means[1] > means[2]
    # Every point of the densest cluster outscores every point of the sparsest.
    assert scores[labels == 0].min() > scores[labels == 2].max()


def test_sketch_ranks_like_exact_gaussian_kde():
    rng = np.random.default_rng(0)
    sizes = rng.integers(10, 150, size=15)
    x, _ = planted_clusters(sizes, spread=0.04, seed=2)
    kde = exact_kde(x, bandwidth=0.3)
    sketch = density_scores(x, SketchConfig(n_hashes=128, bandwidth=1.0, n_concat=4, seed=0))
    rho = spearmanr(sketch, kde)[0]
    assert rho > 0.7, rho


def test_exact_kde_matches_a_direct_sum():
    x = np.random.default_rng(0).standard_normal((30, 5))
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(exact_kde(x, 0.7, chunk_size=7), np.exp(-d2 / (2 * 0.49)).mean(1), rtol=1e-10)


def test_inverse_propensity_draws_exactly_k_distinct_sorted():
    scores = np.random.default_rng(0).uniform(1, 50, size=500)
    kept = inverse_propensity_sample(scores, 123, seed=4)
    assert len(kept) == 123 and len(np.unique(kept)) == 123
    assert (np.diff(kept) > 0).all()
    np.testing.assert_array_equal(kept, inverse_propensity_sample(scores, 123, seed=4))
    assert len(inverse_propensity_sample(scores, 500, seed=4)) == 500


def test_rare_points_are_kept_more_often():
    # 10 rare points (score 1) among 190 common ones (score 20): keep 20 per draw.
    scores = np.r_[np.ones(10), np.full(190, 20.0)]
    counts = np.zeros(200)
    for seed in range(300):
        counts[inverse_propensity_sample(scores, 20, seed=seed)] += 1
    assert counts[:10].mean() > 5 * counts[10:].mean()


def test_single_draw_follows_inverse_score_probabilities():
    scores = np.array([1.0, 2.0, 4.0])  # weights 1, 1/2, 1/4 -> probabilities 4/7, 2/7, 1/7
    hits = np.bincount([inverse_propensity_sample(scores, 1, seed=s)[0] for s in range(4000)], minlength=3)
    np.testing.assert_allclose(hits / 4000, [4 / 7, 2 / 7, 1 / 7], atol=0.03)


def test_density_subset_thins_the_dense_cluster():
    x, labels = planted_clusters([400, 40])
    kept = density_subset(x, 0.2, seed=0)
    assert len(kept) == 88
    share_sparse = (labels[kept] == 1).mean()
    assert share_sparse > 0.2  # 40/440 = 9% of the data: more than twice its share of the sample


def test_invalid_inputs_are_config_errors():
    with pytest.raises(ConfigError, match="bandwidth"):
        SketchConfig(bandwidth=0)
    with pytest.raises(ConfigError, match="n_hashes"):
        SketchConfig(n_hashes=0)
    with pytest.raises(ConfigError, match="shape"):
        LSHCountSketch(4).add(np.zeros((3, 5)))
    with pytest.raises(ConfigError, match="k must be"):
        inverse_propensity_sample(np.ones(5), 6)
    with pytest.raises(ConfigError, match="> 0"):
        inverse_propensity_sample(np.array([1.0, 0.0]), 1)
    with pytest.raises(ConfigError, match="keep_fraction"):
        density_subset(np.ones((4, 3)), 0.0)


def english_sentences(limit: int) -> list[str]:
    """Prose sentences of Python's own reference documentation (``pydoc_data.topics``, in every
    CPython install): real English that is not storyworld, available offline. Code blocks and
    short or symbol-heavy sentences are left out."""
    import re
    from pydoc_data.topics import topics

    found: dict[str, None] = {}
    for key in sorted(topics):
        for paragraph in re.split(r"\n\s*\n", topics[key]):
            if paragraph.startswith(("   ", "\t")) or ">>>" in paragraph:
                continue
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(paragraph.split())):
                prose = sum(c.isalpha() or c == " " for c in sentence) / max(len(sentence), 1)
                if 40 <= len(sentence) <= 300 and prose > 0.85 and sentence[0].isupper() and sentence[-1] == ".":
                    found[sentence] = None
    sentences = list(found)
    return [sentences[i] for i in np.random.default_rng(0).permutation(len(sentences))[:limit]]


def test_default_sketch_ranks_real_sentence_embeddings_like_the_exact_kde():
    """Real text has a narrow range of densities: 64 hashes (the old default) rank it poorly."""
    from mini_lib.papers.data_selection.embeddings import embed_texts, minilm_dir

    try:
        minilm_dir()
    except ConfigError as missing:
        pytest.skip(f"no offline sentence encoder: {missing}")
    sentences = english_sentences(250)
    assert len(sentences) == 250
    x = embed_texts(sentences)
    kde = exact_kde(x, 0.5)
    default = [spearmanr(density_scores(x, SketchConfig(seed=seed)), kde).statistic for seed in (0, 1)]
    assert min(default) >= 0.85, default
    few = spearmanr(density_scores(x, SketchConfig(n_hashes=64)), kde).statistic
    assert few < 0.75, few
