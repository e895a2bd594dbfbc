"""Byte-level BPE tokenizers and packing documents into fixed-length token blocks.

Every corpus gets its own tokenizer (as the simplified-vocabulary paper does), cached in the artefact
store (``mini_lib.core.store``) by a fingerprint of the texts and settings so re-running a notebook does not
retrain it; a tokenised corpus (``EncodedDocs``) is cached the same way. Packing follows GPT-NeoX /
Pythia: documents joined with an end-of-text token, cut into equal blocks (a view of the tokenised
stream); for every block we keep the ids of the documents it contains, so later notebooks can ask
which examples a training step saw. ``mini_lib.core.recipe`` chains these steps into the one data recipe.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import atomic_folder, cache_dir, texts_fingerprint
from mini_lib.core.store import Spec, cached

EOS = "<|endoftext|>"
PAD = "<|padding|>"


def _require_texts(texts: Sequence[str]) -> None:
    if len(texts) == 0 or not any(texts):
        raise ConfigError("empty corpus: no text to train a tokenizer on (check the corpus size or filters)")


def train_tokenizer(
    texts: Sequence[str], vocab_size: int = 4096, *, model_max_length: int = 2048, cache: bool = True
) -> PreTrainedTokenizerFast:
    """Train (or load from cache) a byte-level BPE tokenizer wrapped for transformers.

    Byte-level means no unknown tokens; id 0 is end-of-text (also used for padding in batches,
    always masked out of the loss), id 1 a padding token reserved for users who want a distinct one.
    """
    if vocab_size < 300:
        raise ConfigError(f"vocab_size must be >= 300 for byte-level BPE (256 bytes + merges), got {vocab_size}")
    _require_texts(texts)
    if not cache:
        return _train_bpe(texts, vocab_size, model_max_length)

    def build(tmp: Path) -> PreTrainedTokenizerFast:
        wrapped = _train_bpe(texts, vocab_size, model_max_length)
        wrapped.save_pretrained(tmp)
        return wrapped

    spec = Spec("tokenizer", 1, {"algorithm": "bpe", "vocab_size": vocab_size}, texts_fingerprint(texts))
    artefact = cached(cache_dir() / "tokenizers", spec, build)
    return artefact.load(lambda folder: load_tokenizer(folder, model_max_length=model_max_length))


def _train_bpe(texts: Sequence[str], vocab_size: int, model_max_length: int) -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return wrap_tokenizer(tokenizer, model_max_length)


def wrap_tokenizer(tokenizer: Tokenizer, model_max_length: int) -> PreTrainedTokenizerFast:
    """A transformers tokenizer around a raw `tokenizers` one, with our special tokens."""
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS,
        bos_token=EOS,
        unk_token=EOS,
        pad_token=EOS,
        model_max_length=model_max_length,
    )


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, folder: "str | os.PathLike") -> Path:
    """Save atomically (a temp folder renamed into place) so a crash never leaves half a tokenizer."""
    with atomic_folder(folder) as tmp:
        tokenizer.save_pretrained(tmp)
    return Path(folder)


def load_tokenizer(folder: "str | os.PathLike", model_max_length: int = 2048) -> PreTrainedTokenizerFast:
    """Load a saved tokenizer; transformers 5 does not persist model_max_length, so we set it."""
    path = Path(folder)
    if not (path / "tokenizer.json").is_file():
        raise ConfigError(f"no tokenizer.json in {path}: train one with train_tokenizer() or pass its folder")
    tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    tokenizer.model_max_length = model_max_length
    return tokenizer


def encode_text(tokenizer, text: str, *, add_special_tokens: bool = False) -> list[int]:
    """One text's token ids, whatever its length: through the Rust backend when there is one, so a text
    longer than ``model_max_length`` raises no warning; the caller cuts or windows it to its model."""
    if not text:
        return []
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return backend.encode(text, add_special_tokens=add_special_tokens).ids
    return list(tokenizer(text, add_special_tokens=add_special_tokens, verbose=False)["input_ids"])


def encode_documents(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str], batch_size: int = 1024) -> list[list[int]]:
    """Tokenise whole documents with the Rust batch encoder (multi-threaded, no offsets, no length warnings:
    documents are longer than the context on purpose, packing cuts them)."""
    backend = tokenizer.backend_tokenizer
    ids: list[list[int]] = []
    for start in range(0, len(texts), batch_size):
        encodings = backend.encode_batch_fast(list(texts[start : start + batch_size]), add_special_tokens=False)
        ids.extend(e.ids for e in encodings)
    return ids


@dataclass
class PackedBlocks:
    """Fixed-length token blocks plus, for each block, the ids of the documents inside it.

    ``tokens`` is (n_blocks, seq_len); ``doc_starts[i]`` is where document ``doc_ids[i]`` begins in the
    flat token stream (each document is followed by one end-of-text token).
    """

    tokens: np.ndarray
    doc_ids: np.ndarray
    doc_starts: np.ndarray

    @property
    def seq_len(self) -> int:
        return int(self.tokens.shape[1])

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def n_tokens(self) -> int:
        return int(self.tokens.size)

    def head(self, n_blocks: int) -> "PackedBlocks":
        """The first ``n_blocks`` blocks, with the documents that start inside them (equal token budgets)."""
        if not 1 <= n_blocks <= len(self):
            raise ConfigError(f"can take 1..{len(self)} blocks, asked for {n_blocks}")
        keep = np.asarray(self.doc_starts) < n_blocks * self.seq_len
        return PackedBlocks(self.tokens[:n_blocks], np.asarray(self.doc_ids)[keep], np.asarray(self.doc_starts)[keep])

    def fingerprint(self) -> str:
        """A short hash of every token and document boundary: what a resumed run checks it trains on and
        what a stored artefact's spec records."""
        digest = hashlib.sha256(repr((self.tokens.shape, str(self.tokens.dtype))).encode())
        for array in (self.tokens, self.doc_ids, self.doc_starts):
            digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()[:16]

    def collate(self, indices: Sequence[int]) -> dict:
        """A training batch of blocks: every position is predicted (labels = inputs, shifted in the loss)."""
        input_ids = torch.from_numpy(np.asarray(self.tokens[np.asarray(indices)], dtype=np.int64))
        return {"input_ids": input_ids, "labels": input_ids.clone()}

    def example_ids(self, index: int) -> list[int]:
        """Ids of every document with at least one token in block ``index``: what the training records
        call the examples of a block."""
        start, end = index * self.seq_len, (index + 1) * self.seq_len
        first = int(np.searchsorted(self.doc_starts, start, side="right")) - 1
        last = int(np.searchsorted(self.doc_starts, end, side="left"))
        return [int(i) for i in self.doc_ids[max(first, 0) : last]]


ENCODED_ARRAYS = ("stream", "starts", "lengths", "doc_ids")


@dataclass
class EncodedDocs:
    """Documents tokenised once: one flat stream with an end-of-text token after each document.

    Packed blocks (``pack``) and a corpus variant's blocks (``quality_quantity.VariantBlocks``) are
    views of this stream, never copies, so one tokenisation serves every block length and variant.
    """

    stream: np.ndarray  # (total tokens,) uint16 or int32
    starts: np.ndarray  # (n_docs,) where each document begins in ``stream``
    lengths: np.ndarray  # (n_docs,) tokens of each document INCLUDING its end-of-text token
    doc_ids: np.ndarray  # (n_docs,) the corpus ids of the documents

    def __len__(self) -> int:
        return len(self.lengths)

    def pack(self, seq_len: int) -> PackedBlocks:
        """The stream cut into ``seq_len`` blocks; the tail that does not fill a whole block is dropped,
        as in GPT-NeoX's packing."""
        if seq_len < 2:
            raise ConfigError(f"seq_len must be >= 2, got {seq_len}")
        total = int(self.stream.size)
        n_blocks = total // seq_len
        if n_blocks == 0:
            raise ConfigError(f"corpus has {total} tokens, fewer than one block of seq_len={seq_len}: use more documents")
        keep = self.starts < n_blocks * seq_len
        return PackedBlocks(tokens=self.stream[: n_blocks * seq_len].reshape(n_blocks, seq_len),
                            doc_ids=self.doc_ids[keep], doc_starts=self.starts[keep])

    def _write(self, folder: Path) -> None:
        for name in ENCODED_ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: "str | os.PathLike") -> "EncodedDocs":
        """The arrays written by the store's build (memory-mapped: a large corpus is never read whole)."""
        return cls(**{name: np.load(Path(folder) / f"{name}.npy", mmap_mode="r") for name in ENCODED_ARRAYS})


def token_dtype(max_id: int) -> type:
    """uint16 when every id fits (half the memory), else int32."""
    return np.uint16 if max_id < 2**16 else np.int32


def _encoded(token_ids: Iterable[Sequence[int]], doc_ids: Sequence[int], eos_id: int, dtype: type) -> EncodedDocs:
    """The one stream builder: each document's ids followed by ``eos_id``, documents in order."""
    pieces = [np.asarray(list(ids) + [eos_id], dtype=dtype) for ids in token_ids]
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    if len(lengths) != len(doc_ids):
        raise ConfigError(f"{len(lengths)} tokenised documents but {len(doc_ids)} document ids")
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    stream = np.concatenate(pieces) if pieces else np.empty(0, dtype=dtype)
    return EncodedDocs(stream, starts, lengths, np.asarray(doc_ids, dtype=np.int64))


def pack_documents(
    token_ids: Sequence[Sequence[int]], doc_ids: Sequence[int], seq_len: int, eos_id: int
) -> PackedBlocks:
    """Concatenate already tokenised documents (each followed by EOS) and cut the stream into
    ``seq_len`` blocks (``EncodedDocs.pack``)."""
    if len(token_ids) != len(doc_ids):
        raise ConfigError(f"{len(token_ids)} tokenised documents but {len(doc_ids)} document ids")
    max_id = max([eos_id, *(max(t, default=0) for t in token_ids)])
    return _encoded(token_ids, doc_ids, eos_id, token_dtype(max_id)).pack(seq_len)


def encode_corpus(
    tokenizer: PreTrainedTokenizerFast,
    texts: Sequence[str],
    doc_ids: Sequence[int],
    *,
    cache: bool = True,
    chunk: int = 20_000,
) -> EncodedDocs:
    """Tokenise a corpus once (the Rust batch encoder, ``chunk`` documents at a time so a large corpus
    never lives as Python lists), memory-mapped from the artefact store when seen before."""
    _require_texts(texts)
    if len(texts) != len(doc_ids):
        raise ConfigError(f"need as many document ids as texts, got {len(texts)} texts and {len(doc_ids)} ids")

    def encode() -> EncodedDocs:
        chunks = (encode_documents(tokenizer, texts[start : start + chunk]) for start in range(0, len(texts), chunk))
        ids = (ids for batch in chunks for ids in batch)
        return _encoded(ids, doc_ids, tokenizer.eos_token_id, token_dtype(len(tokenizer) - 1))

    if not cache:
        return encode()
    vocab_key = texts_fingerprint([json.dumps(tokenizer.get_vocab(), sort_keys=True)])
    spec = Spec("encoded", 1, {"vocab": vocab_key, "eos_id": tokenizer.eos_token_id},
                texts_fingerprint(texts, list(doc_ids)))
    return EncodedDocs.load(cached(cache_dir() / "encoded", spec, lambda tmp: encode()._write(tmp)).path)


def pack_corpus(
    tokenizer: PreTrainedTokenizerFast,
    texts: Sequence[str],
    doc_ids: Sequence[int],
    seq_len: int,
    *,
    cache: bool = True,
) -> PackedBlocks:
    """Tokenise (``encode_corpus``, cached) and pack a corpus into ``seq_len`` blocks."""
    return encode_corpus(tokenizer, texts, doc_ids, cache=cache).pack(seq_len)
