"""Vocabulary sources for the simplified-vocabulary paper: files, corpora, the built-in list."""

import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.zero_shot_tasks import storyworld_tasks
from mini_lib.corpora.storyworld import generate_stories, realise, simple_vocabulary, story_plan
from mini_lib.papers.simplified_vocab.span_filter import filter_corpus, in_vocabulary, words
from mini_lib.papers.simplified_vocab.vocabulary import (
    builtin_vocabulary,
    load_word_list,
    simplify,
    vocabulary_from_corpus,
)


def test_paper_csv_loads_all_21037_words(aochildes_vocab_path):
    vocab = load_word_list(aochildes_vocab_path)
    assert len(vocab) == 21037
    assert {"dont", "whats", "chicken", "true", "false"} <= vocab  # read as text: TRUE stays a word
    assert all(w == w.lower() for w in vocab)


def test_txt_and_csv_word_lists(tmp_path):
    txt = tmp_path / "words.txt"
    txt.write_text("# a comment\nDog\n\ncat \nDOG\n", encoding="utf-8")
    assert load_word_list(txt) == frozenset({"dog", "cat"})
    csv = tmp_path / "words.csv"
    csv.write_text("idx,word,frequency\n0,Null,3\n1,nan,2\n", encoding="utf-8")
    assert load_word_list(csv) == frozenset({"null", "nan"})


def test_bad_word_list_files(tmp_path):
    with pytest.raises(ConfigError, match="word list not found"):
        load_word_list(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("idx,token\n0,dog\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no 'word' column; columns found: \['idx', 'token'\]"):
        load_word_list(bad)


def test_vocabulary_from_corpus_takes_the_most_frequent_words():
    texts = ["The dog saw the cat.", "THE dog ran; don\u2019t run, dog!"]
    assert vocabulary_from_corpus(texts, 2) == frozenset({"the", "dog"})
    assert "don't" in vocabulary_from_corpus(texts, 100)  # split exactly as the filter splits
    with pytest.raises(ConfigError, match="top_k"):
        vocabulary_from_corpus(texts, 0)
    with pytest.raises(ConfigError, match="no words"):
        vocabulary_from_corpus(["123 !!"], 5)


def test_builtin_vocabulary_is_a_real_child_vocabulary():
    vocab = builtin_vocabulary()
    assert len(vocab) >= 500
    assert {"the", "mommy", "dog", "ran", "running", "happy", "dont"} <= vocab
    assert not {"photosynthesis", "quantum", "jurisdiction"} & vocab
    assert all(w.isalpha() and w == w.lower() for w in vocab)


def _oov_words(texts, vocabulary):
    return {w for text in texts for w in words(text) if not in_vocabulary(w, vocabulary)}


def test_builtin_vocabulary_covers_every_word_of_the_simple_tier():
    """Without ../shared/data notebook 02 uses the built-in list: the simple tier must pass it whole."""
    vocab = builtin_vocabulary()
    for seed in (0, 1, 2, 1234):  # 6,000 stories, names included (the filter sees every word)
        texts = [realise(story_plan(i, seed), "simple") for i in range(1500)]
        assert not _oov_words(texts, vocab), f"seed {seed}: simple-tier words missing from the built-in list"
    _, stats = filter_corpus(generate_stories(300, seed=0)["text"], vocab)  # notebook 02's check
    assert stats.n_docs_kept >= 0.99 * stats.n_docs and stats.kept_fraction >= 0.99, stats
    tasks = storyworld_tasks(16, tier="simple", seed=0)  # "every item should pass" the task simplification
    assert all(len(simplify(items, vocab).kept) == len(items) for items in tasks.values())


def test_rich_tier_words_stay_outside_the_builtin_vocabulary():
    """The list is a child vocabulary, not every word storyworld knows: the rich tier's synonyms fail it."""
    vocab = builtin_vocabulary()
    rich_texts = [realise(story_plan(i, 0), "rich") for i in range(1500)]
    rich_only = {w for text in rich_texts for w in words(text)} - simple_vocabulary()
    assert len(rich_only) >= 500
    outside = _oov_words(rich_texts, vocab) & rich_only
    assert len(outside) >= 0.75 * len(rich_only), f"only {len(outside)}/{len(rich_only)} rich-only words are OOV"
    _, stats = filter_corpus(rich_texts[:300], vocab)
    assert stats.kept_fraction < 0.05, stats


def test_builtin_vocabulary_is_a_subset_of_aochildes(aochildes_vocab_path):
    assert builtin_vocabulary() <= load_word_list(aochildes_vocab_path)


def test_word_list_file_and_corpus_vocabularies(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("sun\nmoon\n", encoding="utf-8")
    assert load_word_list(path) == frozenset({"sun", "moon"})
    assert vocabulary_from_corpus(["a a b"], top_k=1) == frozenset({"a"})
