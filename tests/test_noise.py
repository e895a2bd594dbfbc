"""Low-quality document injection: exact counts, even spread, determinism, each kind's shape, errors."""

import collections
import re

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.corpora.noise import (
    CLEAN,
    DEFAULT_KINDS,
    DERIVED_KINDS,
    LOW_QUALITY_KINDS,
    inject_low_quality,
    make_low_quality,
    word_pool,
)
from mini_lib.corpora.storyworld import generate_stories, split_sentences

WORD = re.compile(r"[A-Za-z]+")


@pytest.fixture(scope="module")
def stories():
    return generate_stories(400, seed=2)


@pytest.fixture(scope="module")
def noisy(stories):
    return inject_low_quality(stories, 0.5, seed=7)


@pytest.mark.parametrize("fraction", [0.0, 0.013, 0.25, 0.5, 1.0])
def test_exactly_round_fraction_n_documents_are_replaced(stories, fraction):
    out = inject_low_quality(stories, fraction, seed=1)
    quality = list(out["quality"])
    assert len(out) == len(stories)
    assert sum(q != CLEAN for q in quality) == round(fraction * len(stories))
    assert list(out["id"]) == list(stories["id"])
    assert len(set(out["id"])) == len(out)


def test_default_kinds_are_spread_evenly(noisy):
    counts = collections.Counter(q for q in noisy["quality"] if q != CLEAN)
    assert set(counts) == set(DEFAULT_KINDS) < set(LOW_QUALITY_KINDS)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_kinds_follow_given_weights(stories):
    out = inject_low_quality(stories, 0.4, seed=3, kinds={"shuffled": 3, "word_salad": 1})
    counts = collections.Counter(q for q in out["quality"] if q != CLEAN)
    assert counts == {"shuffled": 120, "word_salad": 40}
    only = inject_low_quality(stories, 0.1, seed=3, kinds=["truncated"])
    assert collections.Counter(only["quality"]) == {CLEAN: 360, "truncated": 40}


def test_deterministic_for_a_seed(stories):
    first, second = inject_low_quality(stories, 0.3, seed=5), inject_low_quality(stories, 0.3, seed=5)
    assert first.to_dict() == second.to_dict()
    other = inject_low_quality(stories, 0.3, seed=6)
    assert list(other["quality"]) != list(first["quality"])


def test_clean_rows_are_untouched_and_columns_kept(stories, noisy):
    assert noisy.column_names == stories.column_names + ["quality"]
    before, after = stories.to_dict(), noisy.to_dict()
    for i, quality in enumerate(after["quality"]):
        row_before = {name: before[name][i] for name in before}
        row_after = {name: after[name][i] for name in before}
        if quality == CLEAN:
            assert row_after == row_before
        else:
            assert row_after["text"] != row_before["text"] and row_after["id"] == row_before["id"]
            for name in before:
                if name in ("id", "text"):
                    continue
                expected = row_before[name] if quality in DERIVED_KINDS else None
                assert row_after[name] == expected, (quality, name)


def _pairs(stories, noisy, kind):
    originals = dict(zip(stories["id"], stories["text"]))
    return [(originals[i], text) for i, text, q in zip(noisy["id"], noisy["text"], noisy["quality"]) if q == kind]


def test_shuffled_keeps_the_sentences_in_another_order(stories, noisy):
    pairs = _pairs(stories, noisy, "shuffled")
    assert pairs
    for original, text in pairs:
        assert sorted(split_sentences(text)) == sorted(split_sentences(original))
        assert split_sentences(text) != split_sentences(original)


def test_truncated_is_a_short_prefix_cut_mid_sentence(stories, noisy):
    for original, text in _pairs(stories, noisy, "truncated"):
        assert original.startswith(text)
        assert 1 <= len(text.split()) <= 12
        assert text[-1] not in '.!?"'


def test_word_salad_uses_corpus_words(stories, noisy):
    vocabulary = {w.lower() for text in stories["text"] for w in WORD.findall(text)}
    for original, text in _pairs(stories, noisy, "word_salad"):
        salad = [w.lower() for w in WORD.findall(text)]
        assert set(salad) <= vocabulary
        assert len(salad) == len(WORD.findall(original))
        assert len(split_sentences(text)) >= 2


def test_boilerplate_and_off_topic_shapes(stories, noisy):
    for _, text in _pairs(stories, noisy, "boilerplate"):
        lines = text.split("\n")
        assert len(lines) >= 6 and len(lines) > len(set(lines))
        assert lines[-1].startswith("Copyright")
    heroes = set(stories["hero"])
    for _, text in _pairs(stories, noisy, "off_topic"):
        assert re.search(r"\d", text)
        assert "\n" in text or text.startswith("Record")
        assert not any(re.search(rf"\b{name}\b", text) for name in heroes)


def test_keyword_spam_and_repeated_first_sentence(stories):
    out = inject_low_quality(stories, 0.2, seed=4, kinds=["keyword_list", "repeated"])
    assert collections.Counter(q for q in out["quality"] if q != CLEAN) == {"keyword_list": 40, "repeated": 40}
    for _, text in _pairs(stories, out, "keyword_list"):
        phrases = text.split(", ")
        assert 5 <= len(phrases) <= 9 and len(set(phrases)) == len(phrases)
        assert "\n" not in text and not text.endswith(".")
    for original, text in _pairs(stories, out, "repeated"):
        first = split_sentences(original)[0]
        assert 4 <= len(split_sentences(text)) <= 8 and set(split_sentences(text)) == {first}


def test_make_low_quality_works_on_any_clean_text():
    rng = np.random.default_rng(0)
    source = "Owls hunt at night. They eat mice and voles. Owls can turn their heads far."
    pool = word_pool([source], rng)
    assert set(pool) == {w.lower() for w in WORD.findall(source)}
    for kind in LOW_QUALITY_KINDS:
        assert make_low_quality(kind, source, rng, pool) != source, kind
    with pytest.raises(ConfigError, match="keyword_list, repeated"):
        make_low_quality("spam", source, rng, pool)


def test_bad_arguments_raise_config_error(stories):
    for fraction in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="fraction"):
            inject_low_quality(stories, fraction)
    with pytest.raises(ConfigError, match="word_salad, shuffled, boilerplate, truncated, off_topic, keyword_list"):
        inject_low_quality(stories, 0.1, kinds=["spam"])
    with pytest.raises(ConfigError, match="weight"):
        inject_low_quality(stories, 0.1, kinds={"shuffled": -1})
    with pytest.raises(ConfigError, match="at least one"):
        inject_low_quality(stories, 0.1, kinds=[])
    with pytest.raises(ConfigError, match="text"):
        inject_low_quality(stories.remove_columns("text"), 0.1)
    with pytest.raises(ConfigError, match="quality"):
        inject_low_quality(inject_low_quality(stories, 0.1), 0.1)
