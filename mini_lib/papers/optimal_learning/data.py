"""Token tensors for the Transformer setting of arXiv 2402.17759: train (N), desired (K), half perturbed.

The paper takes N = 16,384 TinyStories sequences of 64 tokens (5K vocabulary) as training data,
perturbs 50% of them, and scores a run on K = 512 clean "desired" sequences. Here:

1. the one data recipe (``mini_lib.core.recipe``): a corpus (storyworld by default; TinyStories or any
   file through ``corpora.loaders``) is split by document into a training part and a held-out part
   (``desired_fraction`` of the documents), so desired sequences come from stories the model never
   trains on;
2. one byte-level BPE tokenizer is trained on the training part (``vocab_size`` is an upper bound:
   a small corpus may fill fewer merges, and ``vocab_size`` of the result is the real |V|);
3. each part is packed into blocks of ``seq_len + 1`` tokens (inputs 0..S-1, targets 1..S: the
   (n, S+1) rows ``tiny_lm.make_tiny_lm_problem`` expects); the first N / K blocks are kept, and the
   next K blocks of the held-out part are the test rows (clean, never optimised on; as many as desired
   rows, like the official ``base_trainer.get_data``);
4. ``perturb_fraction`` of the training rows get random token substitutions (``perturb.perturb_sequences``).

Everything is a pure function of the arguments (corpus seed, split seed, perturbation seed).
"""

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError, check_fraction
from mini_lib.core.recipe import prepare_lm_data
from mini_lib.papers.optimal_learning.perturb import perturb_sequences


@dataclass
class PolicyLMData:
    """Training rows (some perturbed), their clean originals, desired rows, and the tokenizer."""

    tokenizer: Any
    train: Tensor  # (N, S+1) long, what the model trains on
    clean_train: Tensor  # (N, S+1) long, the same rows before perturbation
    desired: Tensor  # (K, S+1) long, held-out clean rows
    perturbed: Tensor  # (N,) bool, rows that were edited
    test: Tensor  # (K, S+1) long, more held-out clean rows: only evaluated

    @property
    def vocab_size(self) -> int:
        """|V|: the size of the trained tokenizer (the log|V| of the compression ratio)."""
        return len(self.tokenizer)

    @property
    def seq_len(self) -> int:
        """S: positions predicted per row."""
        return self.train.shape[1] - 1

    def decode(self, row: Tensor) -> str:
        """The text of one row of token ids."""
        return self.tokenizer.decode(row.tolist())


def prepare_policy_lm_data(*, n_train: int, n_desired: int, vocab_size: int, seq_len: int = 64,
                           corpus: str = "storyworld", n_stories: int = 2000, desired_fraction: float = 0.2,
                           perturb_fraction: float = 0.5, edit_rate: float = 0.3, tier: str = "simple",
                           corpus_path: str = "", corpus_name: str = "", seed: int = 0) -> PolicyLMData:
    """Corpus -> document split -> tokenizer -> (S+1)-token rows -> perturbed training rows."""
    for name, value in (("n_train", n_train), ("n_desired", n_desired), ("seq_len", seq_len), ("n_stories", n_stories)):
        if value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value}")
    check_fraction("desired_fraction", desired_fraction, allow_zero=False, allow_one=False)
    data = prepare_lm_data(corpus=corpus, n_stories=n_stories, vocab_size=vocab_size, seq_len=seq_len + 1,
                           val_fraction=desired_fraction, seed=seed, tier=tier, corpus_path=corpus_path,
                           corpus_name=corpus_name)
    rows = {}
    for name, blocks, count in (("training", data.train, n_train), ("held-out", data.val, 2 * n_desired)):
        if len(blocks) < count:
            raise ConfigError(f"the {name} documents give {len(blocks)} blocks of {seq_len + 1} tokens, fewer than "
                              f"the {count} needed: raise n_stories (now {n_stories}) or lower the row count")
        rows[name] = torch.as_tensor(blocks.tokens[:count].astype("int64"))
    edited = perturb_sequences(rows["training"], fraction=perturb_fraction, edit_rate=edit_rate,
                               vocab_size=len(data.tokenizer), seed=seed)
    return PolicyLMData(tokenizer=data.tokenizer, train=edited.tokens, clean_train=rows["training"],
                        desired=rows["held-out"][:n_desired], perturbed=edited.perturbed, test=rows["held-out"][n_desired:])
