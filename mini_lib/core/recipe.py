"""The one data recipe every pre-training experiment uses: corpus -> tokenizer -> packed blocks.

1. a seeded split of the documents into training and validation (``corpora.loaders.train_val_split``);
2. a byte-level BPE tokenizer trained on the training documents only (``tokenization.train_tokenizer``);
3. each split tokenised once (``tokenization.encode_corpus``) and packed into ``seq_len`` blocks
   (a view of the tokenised stream, GPT-NeoX packing).

Steps 2 and 3 are artefacts of the spec-checked store (``mini_lib.core.store``), keyed by the texts'
fingerprint and the settings that decide them (vocabulary size; the tokenizer's vocabulary), so a
re-run reuses them and any other setting builds new ones. Corpus variants (a size fraction, a
duplicated corpus) stay views over the one tokenised training split (``PreparedData.train_docs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mini_lib.core.tokenization import EncodedDocs, PackedBlocks, encode_corpus, train_tokenizer
from mini_lib.corpora.loaders import load_corpus, train_val_split


@dataclass
class PreparedData:
    """Everything a pre-training run needs besides the model, and the documents it was made from."""

    tokenizer: Any
    train_docs: EncodedDocs  # every training document, tokenised once
    train: PackedBlocks  # ``train_docs`` packed (the tail that does not fill a block dropped)
    val: PackedBlocks
    train_split: Any  # the training documents as given: ``text`` and ``id`` columns
    val_split: Any


@dataclass(frozen=True)
class DataRecipe:
    """The settings that decide the training data: the split, the vocabulary and the block length
    (which is also the tokenizer's ``model_max_length``)."""

    vocab_size: int
    seq_len: int
    val_fraction: float = 0.1
    seed: int = 0

    def split(self, corpus: Any) -> tuple[Any, Any]:
        """The seeded document-level train/validation split of a corpus with ``text`` and ``id`` columns."""
        return train_val_split(corpus, self.val_fraction, seed=self.seed)

    def prepare(self, corpus: Any) -> PreparedData:
        """Split ``corpus`` (``split``), then ``prepare_split``."""
        return self.prepare_split(*self.split(corpus))

    def prepare_split(self, train: Any, val: Any) -> PreparedData:
        """Tokenizer on ``train`` only, both splits tokenised and packed. ``train``/``val``: a dataset
        or a dict with ``text`` and ``id`` columns (e.g. a split filtered after ``split``)."""
        tokenizer = train_tokenizer(train["text"], self.vocab_size, model_max_length=self.seq_len)
        train_docs = encode_corpus(tokenizer, train["text"], train["id"])
        val_blocks = encode_corpus(tokenizer, val["text"], val["id"]).pack(self.seq_len)
        return PreparedData(tokenizer, train_docs, train_docs.pack(self.seq_len), val_blocks, train, val)


def prepare_lm_data(
    *,
    corpus: str = "storyworld",
    n_stories: int | None = 2000,
    vocab_size: int = 1024,
    seq_len: int = 128,
    val_fraction: float = 0.1,
    seed: int = 0,
    tier: str = "simple",
    corpus_path: str | None = None,
    corpus_name: str | None = None,
) -> PreparedData:
    """The recipe on a corpus from ``corpora.loaders.load_corpus``; the keywords are the notebooks' settings
    names, with their conventions: ``n_stories`` 0 or None is a whole file or hub split, ``corpus_path`` /
    ``corpus_name`` "" or None is none. ``seed`` seeds both the corpus and the split."""
    documents = load_corpus(corpus, n=n_stories or None, seed=seed, tier=tier, path=corpus_path or None,
                            name=corpus_name or None)
    return DataRecipe(vocab_size, seq_len, val_fraction, seed).prepare(documents)
