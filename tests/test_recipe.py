"""The one data recipe: the same blocks as the steps it chains, reused from the store, never stale."""

import numpy as np
import pytest

from mini_lib.core import tokenization
from mini_lib.core.errors import ConfigError
from mini_lib.core.recipe import DataRecipe, prepare_lm_data
from mini_lib.core.tokenization import pack_documents, train_tokenizer
from mini_lib.corpora.loaders import train_val_split
from mini_lib.corpora.storyworld import generate_stories

# PackedBlocks.fingerprint of storyworld's blocks (60 simple-tier stories, seed 4, 10% validation, vocab
# 300, 24-token blocks) as the separate steps (train_tokenizer, pack_corpus) built them before the recipe
EXPECTED = {"train": ((609, 24), "9ba87447b5991117"), "val": ((75, 24), "b685b309a1b62eee")}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINI_LIB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _steps_by_hand(corpus, recipe):
    """The recipe written out: split, tokenizer on the training split, each split encoded and packed."""
    train, val = train_val_split(corpus, recipe.val_fraction, seed=recipe.seed)
    tokenizer = train_tokenizer(list(train["text"]), recipe.vocab_size, model_max_length=recipe.seq_len, cache=False)
    def pack(split):
        ids = [tokenizer(t, add_special_tokens=False).input_ids for t in split["text"]]
        return pack_documents(ids, list(split["id"]), recipe.seq_len, tokenizer.eos_token_id)
    return tokenizer, pack(train), pack(val)


def test_recipe_gives_the_blocks_of_its_steps(cache):
    corpus = generate_stories(60, seed=4)
    recipe = DataRecipe(vocab_size=300, seq_len=24, val_fraction=0.1, seed=4)
    data = recipe.prepare(corpus)
    tokenizer, train, val = _steps_by_hand(corpus, recipe)
    assert data.tokenizer.get_vocab() == tokenizer.get_vocab() and data.tokenizer.model_max_length == 24
    for got, want in ((data.train, train), (data.val, val)):
        assert np.array_equal(got.tokens, want.tokens) and got.tokens.dtype == want.tokens.dtype
        assert np.array_equal(got.doc_ids, want.doc_ids) and np.array_equal(got.doc_starts, want.doc_starts)
    assert len(data.train_docs) == len(data.train_split) == 54 and len(data.val_split) == 6
    assert not set(data.train.doc_ids.tolist()) & set(data.val.doc_ids.tolist())
    assert {"train": (data.train.tokens.shape, data.train.fingerprint()),
            "val": (data.val.tokens.shape, data.val.fingerprint())} == EXPECTED


def test_prepare_lm_data_is_the_recipe_on_a_loaded_corpus(cache):
    data = prepare_lm_data(n_stories=60, vocab_size=300, seq_len=24, val_fraction=0.1, seed=4)
    again = DataRecipe(300, 24, 0.1, 4).prepare(generate_stories(60, seed=4))
    assert data.train.fingerprint() == again.train.fingerprint() and data.val.fingerprint() == again.val.fingerprint()


def test_second_call_reuses_the_store_and_a_changed_setting_does_not(cache):
    corpus = generate_stories(60, seed=4)
    first = DataRecipe(300, 24, 0.1, 4).prepare(corpus)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tokenization, "_train_bpe", lambda *a: pytest.fail("retrained a cached tokenizer"))
        patch.setattr(tokenization, "encode_documents", lambda *a: pytest.fail("re-encoded a cached corpus"))
        again = DataRecipe(300, 24, 0.1, 4).prepare(corpus)
        assert isinstance(again.train.tokens, np.memmap)  # read back from the store
        assert again.train.fingerprint() == first.train.fingerprint()
        longer = DataRecipe(300, 48, 0.1, 4).prepare(corpus)  # another block length: a view of the same tokens
        assert longer.train.seq_len == 48 and np.array_equal(longer.train_docs.stream, first.train_docs.stream)
    other_vocab = DataRecipe(320, 24, 0.1, 4).prepare(corpus)  # another tokenizer: new artefacts, not the stale ones
    assert len(other_vocab.tokenizer) == 320
    fresh = _steps_by_hand(corpus, DataRecipe(320, 24, 0.1, 4))[1]
    assert other_vocab.train.fingerprint() == fresh.fingerprint() != first.train.fingerprint()
    other_split = DataRecipe(300, 24, 0.2, 4).prepare(corpus)  # another split: other documents
    assert len(other_split.train_docs) == 48
    assert len(list((cache / "tokenizers").iterdir())) == 3 and len(list((cache / "encoded").iterdir())) == 6


def test_prepare_lm_data_reads_settings_as_the_notebooks_write_them(cache, tmp_path):
    """The keywords are the settings' names, and their "none" values (0 stories: the whole file; "" path) mean none."""
    stories = generate_stories(40, seed=1)["text"]
    corpus_file = tmp_path / "stories.txt"
    corpus_file.write_text("\n".join(stories) + "\n")
    whole = prepare_lm_data(corpus="local", corpus_path=str(corpus_file), corpus_name="", n_stories=0,
                            vocab_size=300, seq_len=24, val_fraction=0.1, seed=0)
    assert len(whole.train_split) + len(whole.val_split) == 40
    first = prepare_lm_data(corpus="local", corpus_path=str(corpus_file), n_stories=20, vocab_size=300, seq_len=24)
    assert len(first.train_split) + len(first.val_split) == 20
    with pytest.raises(ConfigError, match="needs path="):
        prepare_lm_data(corpus="local", corpus_path="", vocab_size=300, seq_len=24)
