import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.tokenization import (
    PackedBlocks,
    encode_corpus,
    load_tokenizer,
    pack_corpus,
    pack_documents,
    save_tokenizer,
    train_tokenizer,
)
from tests.helpers import run_python, tiny_setup, word_corpus


def test_round_trip_including_unicode_and_numbers(tmp_path):
    tokenizer, _ = tiny_setup()
    text = 'Tom saw 3 dogs; "Wow!" said Mia — café 42.'
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    save_tokenizer(tokenizer, tmp_path / "tok")
    again = load_tokenizer(tmp_path / "tok", model_max_length=77)
    assert again.model_max_length == 77
    assert again(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert again.eos_token_id == tokenizer.eos_token_id == 0


def test_vocab_size_and_cache_reuse():
    texts = word_corpus(200)
    first = train_tokenizer(texts, 300)
    assert len(first) == 300
    assert train_tokenizer(texts, 300).get_vocab() == first.get_vocab()


def test_packing_keeps_document_ids_exact():
    docs = [[5, 6, 7], [8], [9, 10, 11, 12, 13], [14, 15]]
    blocks = pack_documents(docs, [100, 101, 102, 103], seq_len=4, eos_id=0)
    # stream: 5 6 7 0 | 8 0 9 10 | 11 12 13 0 | 14 15 0 (tail dropped)
    assert blocks.tokens.tolist() == [[5, 6, 7, 0], [8, 0, 9, 10], [11, 12, 13, 0]]
    assert [blocks.example_ids(b) for b in range(3)] == [[100], [101, 102], [102]]


def test_packed_ids_cover_every_block_token():
    tokenizer, blocks = tiny_setup()
    for b in (0, 5, len(blocks) - 1):
        ids = blocks.example_ids(b)
        assert ids == sorted(ids) and all(1000 <= i < 1400 for i in ids)
        # the number of EOS tokens inside a block is bounded by the documents it touches
        assert int((blocks.tokens[b] == 0).sum()) <= len(ids)


def test_same_corpus_same_blocks_and_memory_mapped():
    tokenizer, blocks = tiny_setup()
    texts = word_corpus(400)
    again = pack_corpus(tokenizer, texts, list(range(1000, 1400)), 32)
    assert np.array_equal(np.asarray(blocks.tokens), np.asarray(again.tokens))
    assert isinstance(again.tokens, np.memmap)


def test_head_keeps_documents_that_start_inside():
    blocks = PackedBlocks(tokens=np.arange(40).reshape(10, 4), doc_ids=np.array([7, 8, 9]), doc_starts=np.array([0, 6, 13]))
    head = blocks.head(3)
    assert head.tokens.shape == (3, 4) and head.doc_ids.tolist() == [7, 8]
    assert head.example_ids(2) == blocks.example_ids(2) == [8]
    with pytest.raises(ConfigError, match="1..10 blocks"):
        blocks.head(11)


def test_packing_is_a_view_of_the_encoded_stream_at_any_block_length():
    tokenizer, blocks = tiny_setup()
    texts = word_corpus(400)
    docs = encode_corpus(tokenizer, texts, list(range(1000, 1400)))
    assert isinstance(docs.stream, np.memmap) and docs.stream.size == docs.lengths.sum()
    ids = tokenizer(texts[7], add_special_tokens=False).input_ids
    assert list(docs.stream[docs.starts[7] : docs.starts[7] + docs.lengths[7]]) == ids + [tokenizer.eos_token_id]
    assert np.shares_memory(docs.pack(32).tokens, docs.stream)
    for seq_len in (16, 32, 50):
        reference = pack_documents([tokenizer(t, add_special_tokens=False).input_ids for t in texts],
                                   list(range(1000, 1400)), seq_len, tokenizer.eos_token_id)
        packed = docs.pack(seq_len)
        assert packed.fingerprint() == reference.fingerprint() and packed.tokens.dtype == reference.tokens.dtype
    with pytest.raises(ConfigError, match="document ids"):
        encode_corpus(tokenizer, ["a b", "c"], [1])


def test_collate_gives_labels_equal_inputs():
    _, blocks = tiny_setup()
    batch = blocks.collate([0, 2])
    assert batch["input_ids"].shape == (2, 32) and batch["input_ids"].dtype.is_floating_point is False
    assert (batch["labels"] == batch["input_ids"]).all()


def test_bad_inputs():
    with pytest.raises(ConfigError, match="empty corpus"):
        train_tokenizer([], 500)
    with pytest.raises(ConfigError, match="vocab_size"):
        train_tokenizer(["a b c"], 100)
    with pytest.raises(ConfigError, match="fewer than one block"):
        pack_documents([[1, 2]], [0], seq_len=64, eos_id=0)


def test_packed_cache_torn_by_a_sigkill_between_its_arrays_is_rebuilt(tmp_path):
    """The torn write exactly: SIGKILL right after stream.npy is written, before doc_ids.npy."""
    texts, cache = word_corpus(60), tmp_path / "cache"
    done = run_python(f"""
        import os, signal
        import numpy as np
        os.environ["MINI_LIB_CACHE"] = {str(cache)!r}
        from mini_lib.core.tokenization import pack_corpus, train_tokenizer
        from tests.helpers import word_corpus
        tokenizer = train_tokenizer(word_corpus(60), 300, cache=False)
        save = np.save
        def save_then_die(path, array, *args, **kwargs):
            if "doc_ids" in str(path):
                os.kill(os.getpid(), signal.SIGKILL)
            return save(path, array, *args, **kwargs)
        np.save = save_then_die
        pack_corpus(tokenizer, word_corpus(60), list(range(60)), 16)
    """)
    assert done.returncode == -9, done.stderr
    assert list((cache / "encoded").rglob("stream.npy"))  # the kill left tokens without document ids
    tokenizer = train_tokenizer(texts, 300, cache=False)
    fresh = pack_corpus(tokenizer, texts, list(range(60)), 16, cache=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINI_LIB_CACHE", str(cache))
        packed = pack_corpus(tokenizer, texts, list(range(60)), 16)
    assert np.array_equal(packed.tokens, fresh.tokens) and np.array_equal(packed.doc_ids, fresh.doc_ids)
    assert packed.fingerprint() == fresh.fingerprint()
