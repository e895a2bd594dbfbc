"""The storyworld corpus: distinct plans, determinism, the two vocabulary tiers, Zipf, metadata."""

import collections
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.corpora import _storyworld_words as words
from mini_lib.corpora.storyworld import (
    FEATURES,
    MAX_SENTENCES,
    TIERS,
    StoryPlan,
    generate_stories,
    realise,
    simple_vocabulary,
    split_sentences,
    story_plan,
)

WORD = re.compile(r"[A-Za-z]+")


def tokens(text: str) -> list[str]:
    """Lower-case words split on non-letters, as the simplified-vocabulary paper's filter sees them."""
    return [w.lower() for w in WORD.findall(text)]


@pytest.fixture(scope="module")
def simple_ds():
    return generate_stories(2000, seed=0, tier="simple")


@pytest.fixture(scope="module")
def rich_ds():
    return generate_stories(2000, seed=0, tier="rich")


def zipf_fit(counts: collections.Counter, top: int = 300) -> tuple[float, float]:
    """Slope and R^2 of log frequency against log rank over the ``top`` most frequent words."""
    freq = np.array(sorted(counts.values(), reverse=True)[:top], dtype=float)
    log_rank, log_freq = np.log(np.arange(1, len(freq) + 1)), np.log(freq)
    slope, intercept = np.polyfit(log_rank, log_freq, 1)
    residual = log_freq - (slope * log_rank + intercept)
    return slope, 1 - residual.var() / log_freq.var()


def test_at_least_20000_distinct_plans_before_repeating():
    plans = [story_plan(i) for i in range(20_001)]
    assert len({plan.facts() for plan in plans}) == len(plans)
    # Still distinct when the story's shape (its beats) is ignored: the facts alone differ.
    assert len({plan.facts()[:-1] for plan in plans}) == len(plans)
    assert list(plans[0].to_dict())[-1] == "beats"  # so facts()[:-1] above drops exactly the beats


def test_plan_depends_only_on_its_index_and_seed():
    forward = [story_plan(i, seed=5) for i in range(50)]
    backward = [story_plan(i, seed=5) for i in reversed(range(50))][::-1]
    assert forward == backward
    assert story_plan(7, seed=5) != story_plan(7, seed=6)
    assert story_plan(np.int64(7), seed=np.int32(5)) == forward[7]
    window = generate_stories(5, seed=5, start=40)
    assert list(window["id"]) == list(range(40, 45))
    assert list(window["text"]) == [realise(forward[i]) for i in range(40, 45)]


def test_same_seed_gives_byte_identical_corpus():
    for tier in TIERS:
        first, second = generate_stories(300, seed=3, tier=tier), generate_stories(300, seed=3, tier=tier)
        assert list(first["text"]) == list(second["text"]) and list(first["plan"]) == list(second["plan"])
    assert list(generate_stories(300, seed=4)["text"]) != list(generate_stories(300, seed=3)["text"])


def _corpus_digest(n: int = 200) -> str:
    ds_simple, ds_rich = generate_stories(n, seed=11), generate_stories(n, seed=11, tier="rich")
    blob = "\n".join(list(ds_simple["text"]) + list(ds_rich["text"]) + list(ds_simple["plan"]))
    return hashlib.sha256(blob.encode()).hexdigest()


def test_corpus_does_not_depend_on_python_hash_seed():
    """A fresh interpreter with another string-hash seed writes the same bytes (no set-order leaks)."""
    code = "from tests.test_storyworld import _corpus_digest; print(_corpus_digest())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _corpus_digest()


def test_columns_types_and_plan_round_trip(simple_ds):
    assert simple_ds.features == FEATURES
    assert simple_ds.column_names[:2] == ["id", "text"]
    for row in simple_ds.select(range(50)):
        plan = StoryPlan.from_dict(json.loads(row["plan"]))
        assert plan == story_plan(row["id"])
        for name in ("hero", "hero_kind", "friend", "place", "object", "goal", "obstacle",
                     "feeling_start", "feeling_end", "outcome"):
            assert row[name] == getattr(plan, name)
        assert row["n_sentences"] == plan.n_sentences == len(plan.beats)
        assert realise(plan) == row["text"]


def test_both_tiers_tell_the_same_plans(simple_ds, rich_ds):
    assert simple_ds.remove_columns("text").to_dict() == rich_ds.remove_columns("text").to_dict()
    for simple, rich, n in zip(list(simple_ds["text"]), list(rich_ds["text"]), list(simple_ds["n_sentences"])):
        assert len(split_sentences(simple)) == len(split_sentences(rich)) == n
    assert sum(s != r for s, r in zip(list(simple_ds["text"]), list(rich_ds["text"]))) == len(simple_ds)


def test_sentence_counts_span_3_to_12(simple_ds):
    lengths = collections.Counter(list(simple_ds["n_sentences"]))
    assert min(lengths) >= 3 and max(lengths) <= MAX_SENTENCES
    assert set(lengths) == set(range(3, MAX_SENTENCES + 1))
    assert max(lengths.values()) < 0.3 * len(simple_ds)


def test_outcomes_are_balanced(simple_ds):
    happy = list(simple_ds["outcome"]).count("happy") / len(simple_ds)
    assert 0.4 <= happy <= 0.6
    assert set(list(simple_ds["outcome"])) == {"happy", "sad"}


def test_feelings_match_the_outcome(simple_ds):
    for row in simple_ds.select(range(500)):
        assert row["feeling_end"] in words.FEELINGS_END[row["outcome"]]
        assert row["feeling_start"] in words.FEELINGS_START


def test_plan_facts_are_told_in_the_simple_text(simple_ds):
    for row in simple_ds.select(range(500)):
        plan, text = StoryPlan.from_dict(json.loads(row["plan"])), row["text"]
        assert plan.hero in text and plan.place in text and plan.time in text
        assert plan.weather in text and plan.feeling_start in text and plan.feeling_end in text
        for optional in (plan.friend, plan.parent, plan.spot):
            assert optional in text  # "" when the story has none
        if plan.hero_kind in words.PEOPLE_KINDS:  # animals are sometimes only "Rex the dog"
            assert plan.hero_kind in text


def test_text_style(simple_ds, rich_ds):
    for text in list(simple_ds["text"]) + list(rich_ds["text"]):
        assert text.isascii() and "'" not in text and "\n" not in text
        assert "  " not in text and " ," not in text and " ." not in text
        assert text.count('"') % 2 == 0
        assert not re.search(r"\b[Aa] [aeiouAEIOU]", text), text
        assert not re.search(r"\b[Aa]n [b-df-hj-np-tv-z]", text), text
        for sentence in split_sentences(text):
            assert sentence[0].isupper() or (sentence[0] == '"' and sentence[1].isupper()), sentence
            assert re.search(r'[.!?]"?$', sentence), sentence


def test_simple_tier_uses_only_aochildes_words(aochildes_vocab_path, simple_ds):
    with open(aochildes_vocab_path, newline="") as f:
        child_words = {row["word"].lower() for row in csv.DictReader(f)}
    assert len(child_words) > 20_000
    assert simple_vocabulary() <= child_words, sorted(simple_vocabulary() - child_words)
    used = {w for text in list(simple_ds["text"]) for w in tokens(text)}
    assert used <= simple_vocabulary(), sorted(used - simple_vocabulary())
    assert used <= child_words


def test_rich_tier_has_rarer_words_and_longer_sentences(aochildes_vocab_path, simple_ds, rich_ds):
    with open(aochildes_vocab_path, newline="") as f:
        child_words = {row["word"].lower() for row in csv.DictReader(f)}
    rich_types = {w for text in list(rich_ds["text"]) for w in tokens(text)}
    assert len(rich_types - child_words) >= 0.10 * len(rich_types)

    def words_per_sentence(texts):
        sentences = [s for text in texts for s in split_sentences(text)]
        return sum(len(tokens(s)) for s in sentences) / len(sentences)

    assert words_per_sentence(list(rich_ds["text"])) > words_per_sentence(list(simple_ds["text"])) + 0.5


@pytest.mark.parametrize("tier", TIERS)
def test_word_frequencies_are_zipf_like(tier, simple_ds, rich_ds):
    ds = simple_ds if tier == "simple" else rich_ds
    slope, r2 = zipf_fit(collections.Counter(w for text in list(ds["text"]) for w in tokens(text)))
    assert -1.5 <= slope <= -0.7
    assert r2 >= 0.9


def test_many_distinct_sentences(simple_ds):
    sentences = [s for text in list(simple_ds["text"]) for s in split_sentences(text)]
    assert len(set(sentences)) >= 0.6 * len(sentences)
    assert len(set(list(simple_ds["text"]))) == len(simple_ds)


def test_an_edited_plan_is_told_with_the_same_beats():
    plan = next(p for p in map(story_plan, range(100)) if not p.lesson and p.goal != "find")
    other = "sad" if plan.outcome == "happy" else "happy"
    flipped = replace(plan, outcome=other, feeling_end=next(iter(words.FEELINGS_END[other])))
    assert realise(flipped) != realise(plan)
    assert len(split_sentences(realise(flipped))) == plan.n_sentences
    assert flipped.feeling_end in realise(flipped)


def test_bad_input_raises_config_error():
    with pytest.raises(ConfigError, match="simple, rich"):
        realise(story_plan(0), tier="fancy")
    with pytest.raises(ConfigError, match="tier"):
        generate_stories(3, tier="complex")
    for n in (0, -2, 2.5):
        with pytest.raises(ConfigError, match="n must be"):
            generate_stories(n)
    with pytest.raises(ConfigError, match="start"):
        generate_stories(3, start=-1)
    with pytest.raises(ConfigError, match="index"):
        story_plan(-1)
