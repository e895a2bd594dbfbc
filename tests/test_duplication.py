"""Size variants, the paper's one-document duplication, k-fold repeats, the duplication analyser
and the paper's metric conventions."""

import math

import datasets
import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import perplexity_mean_of_batches
from mini_lib.corpora.duplication import duplicate_many, duplicate_many_indices
from mini_lib.papers.quality_quantity.dedup import analyse_duplication
from mini_lib.papers.quality_quantity.duplication import (
    duplicate_one_document,
    duplicate_one_document_indices,
    paper_accuracy_per_window,
    size_variant,
    size_variant_indices,
)


@pytest.fixture(scope="module")
def corpus():
    n = 41
    return datasets.Dataset.from_dict({
        "id": [f"s{i}" for i in range(n)],
        "text": [f"story {i} " + "la " * (i % 7) for i in range(n)],
        "moral": [i % 3 for i in range(n)],
    })


# ---- size variants ------------------------------------------------------------------------

@pytest.mark.parametrize("fraction,expected", [(0.25, 10), (0.5, 20), (1.0, 41), (0.01, 1)])
def test_size_variant_keeps_a_random_fraction_in_order(corpus, fraction, expected):
    out = size_variant(corpus, fraction, seed=3)
    assert len(out) == expected
    positions = [int(i[1:]) for i in out["id"]]
    assert positions == sorted(set(positions))
    assert out["text"][0] == corpus["text"][positions[0]]


def test_size_variant_is_seeded_and_rejects_bad_fractions(corpus):
    assert list(size_variant_indices(100, 0.5, 1)) == list(size_variant_indices(100, 0.5, 1))
    assert list(size_variant_indices(100, 0.5, 1)) != list(size_variant_indices(100, 0.5, 2))
    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(ConfigError, match="fraction"):
            size_variant(corpus, bad, seed=0)


# ---- the paper's duplication -----------------------------------------------------------------

@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_one_document_overwrites_floor_rate_n_minus_1_other_slots(corpus, rate):
    out, info = duplicate_one_document(corpus, rate, seed=7)
    n = len(corpus)
    k = math.floor(rate * (n - 1))
    assert len(out) == n and out["id"] == corpus["id"]  # slots keep their ids
    (chosen,) = info.duplicated_ids
    assert out["source_id"].count(chosen) == k + 1  # its own slot plus k copies
    assert sum(out["is_duplicate"]) == info.n_duplicate_rows == k
    assert info.n_distinct_docs == n - k
    for row in out:
        assert row["is_duplicate"] == (row["source_id"] != row["id"])
        source = int(row["source_id"][1:])
        assert row["text"] == corpus["text"][source] and row["moral"] == source % 3  # metadata follows text
        assert row["source_id"] in (chosen, row["id"])  # only the chosen document is copied


def test_one_document_indices_edge_cases():
    sources, chosen = duplicate_one_document_indices(101, 0.29, seed=0)
    assert (sources == chosen).sum() == 1 + 29  # floor(0.29 * 100) = 29 despite float rounding
    sources, chosen = duplicate_one_document_indices(1, 1.0, seed=0)
    assert list(sources) == [0] and chosen == 0
    for bad in (-0.1, 1.01):
        with pytest.raises(ConfigError, match="rate"):
            duplicate_one_document_indices(10, bad, seed=0)
    with pytest.raises(ConfigError, match="empty"):
        duplicate_one_document_indices(0, 0.5, seed=0)


def test_one_document_without_id_column_uses_positions():
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c", "d"]})
    out, info = duplicate_one_document(ds, 1.0, seed=1)
    assert out["id"] == [0, 1, 2, 3]
    assert set(out["text"]) == {ds["text"][info.duplicated_ids[0]]}
    assert info.to_dict()["duplicate_fraction"] == 0.75


# ---- extension: many documents repeated k times ---------------------------------------------

def test_many_holds_the_document_count():
    lengths = np.full(1000, 10)
    sources, repeated = duplicate_many_indices(lengths, 0.3, k=4, seed=0, hold="documents")
    assert len(sources) == 1000 and len(repeated) == 75  # floor(0.3 * 1000 / 4)
    counts = np.bincount(sources, minlength=1000)
    assert set(counts[repeated]) == {4}
    assert (np.delete(counts, repeated) <= 1).all()
    assert (counts >= 2).sum() * 4 / len(sources) == pytest.approx(0.3)


def test_many_holds_the_token_count_approximately():
    lengths = np.random.default_rng(0).integers(20, 400, size=2000)
    sources, repeated = duplicate_many_indices(lengths, 0.5, k=3, seed=1, hold="tokens")
    total = lengths.sum()
    assert abs(lengths[sources].sum() - total) <= lengths.max()
    assert lengths[sources].sum() <= total
    repeated_tokens = 3 * lengths[repeated].sum()
    assert 0.5 * total - 3 * lengths.max() <= repeated_tokens <= 0.5 * total
    assert duplicate_many_indices(lengths, 0.0, k=3, seed=1, hold="tokens")[1].size == 0


def test_many_on_a_dataset(corpus):
    out, info = duplicate_many(corpus, 0.6, k=3, seed=2)
    assert len(out) == len(corpus) and out["id"] == list(range(len(corpus)))
    assert info.copies_per_duplicated_doc == 3 and len(info.duplicated_ids) == 8  # floor(0.6*41/3)
    assert sum(out["is_duplicate"]) == info.n_duplicate_rows == 16
    seen = set()
    for row in out:  # first occurrence is the original, later ones are copies
        assert row["is_duplicate"] == (row["source_id"] in seen)
        seen.add(row["source_id"])
        assert row["text"] == corpus["text"][int(row["source_id"][1:])]
    tokens, tinfo = duplicate_many(corpus, 0.5, k=2, seed=2, hold="tokens")
    assert tinfo.tokens_out <= tinfo.tokens_in == sum(len(t.split()) for t in corpus["text"])


def test_many_rejects_bad_settings(corpus):
    with pytest.raises(ConfigError, match="k "):
        duplicate_many(corpus, 0.5, k=1, seed=0)
    with pytest.raises(ConfigError, match="choose one of: documents, tokens"):
        duplicate_many(corpus, 0.5, k=2, seed=0, hold="bytes")
    with pytest.raises(ConfigError, match="length_column"):
        duplicate_many(corpus, 0.5, k=2, seed=0, hold="tokens", length_column="n_tokens")


# ---- metric conventions -------------------------------------------------------------------------

def test_paper_accuracy_is_correct_tokens_per_128_window():
    assert paper_accuracy_per_window(0.383) == pytest.approx(49.0, abs=0.03)  # 0.383 * 128 = 49.02
    assert paper_accuracy_per_window(0.5, window=64) == 32.0
    with pytest.raises(ConfigError):
        paper_accuracy_per_window(49.0)


def test_perplexity_conventions():
    """The paper's perplexity (``evaluate.LMEval.perplexity_batch_mean``) vs exp of the mean loss."""
    losses = [1.0, 3.0]
    assert perplexity_mean_of_batches(losses) == pytest.approx((math.e + math.e**3) / 2)  # 11.401
    assert perplexity_mean_of_batches(losses) > math.exp(2.0)  # 7.389: Jensen's inequality
    assert perplexity_mean_of_batches([2.0, 2.0]) == pytest.approx(math.exp(2.0))


# ---- duplication analyser (exact + MinHash/LSH near duplicates) ---------------------------------

WORDS = ("cat dog sun moon tree ball red blue big small ran sat jumped happy sad home park "
         "boat fish bird cake milk bed toy car hat box book star rain snow").split()


def story(seed: int, n: int = 60) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(WORDS[i] for i in rng.integers(len(WORDS), size=n))


def test_exact_duplicates_ignore_case_and_whitespace():
    texts = ["The cat  sat.", "the cat sat.", "A dog ran.", "the cat sat.\n"]
    report = analyse_duplication(texts)
    assert report.n_docs == 4 and report.n_distinct_texts == 2
    assert report.exact_duplicate_fraction == 0.5  # rows 1 and 3 repeat row 0
    assert report.clusters == [[0, 1, 3]] and report.largest_cluster_size == 3


def test_near_duplicates_above_the_threshold_are_clustered():
    base = story(0).split()
    edited = base.copy()
    edited[30] = "zebra"  # one word changed: 5 of 56 shingles differ, Jaccard 51/61 = 0.84
    texts = [" ".join(base), story(1), " ".join(edited), story(2)]
    report = analyse_duplication(texts, threshold=0.7)
    assert report.exact_duplicate_fraction == 0.0
    assert report.near_duplicate_fraction == 0.25
    assert report.clusters == [[0, 2]]
    strict = analyse_duplication(texts, threshold=0.95)
    assert strict.clusters == [] and strict.largest_cluster_size == 1


def test_the_papers_one_document_duplication_is_measured_exactly():
    n, rate = 300, 0.5
    ds = datasets.Dataset.from_dict({"id": list(range(n)), "text": [story(i, 40) for i in range(n)]})
    dup, info = duplicate_one_document(ds, rate, seed=0)
    report = analyse_duplication(dup)  # a Dataset is read through its text column
    k = math.floor(rate * (n - 1))
    assert report.largest_cluster_size == k + 1 == info.copies_per_duplicated_doc
    assert report.exact_duplicate_fraction == pytest.approx(k / n)
    assert report.near_duplicate_fraction == pytest.approx(k / n)
    assert sorted(report.clusters[0]) == [i for i, s in enumerate(dup["source_id"]) if s == info.duplicated_ids[0]]


def test_k_fold_repeats_give_clusters_of_k():
    ds = datasets.Dataset.from_dict({"text": [story(i, 40) for i in range(200)]})
    dup, info = duplicate_many(ds, 0.3, k=3, seed=0)
    report = analyse_duplication(dup)
    assert len(report.clusters) == len(info.duplicated_ids) == 20
    assert {len(c) for c in report.clusters} == {3}
    assert report.exact_duplicate_fraction == pytest.approx(info.duplicate_fraction)


def test_short_and_empty_documents():
    report = analyse_duplication(["hi", "hi", "", " ", "a b"])
    assert report.exact_duplicate_fraction == pytest.approx(2 / 5)
    assert sorted(map(sorted, report.clusters)) == [[0, 1], [2, 3]]


def test_bad_settings():
    with pytest.raises(ConfigError, match="threshold"):
        analyse_duplication(["a"], threshold=1.0)
    with pytest.raises(ConfigError, match="shingle_size"):
        analyse_duplication(["a"], shingle_size=0)
    with pytest.raises(ConfigError, match="no documents"):
        analyse_duplication([])
