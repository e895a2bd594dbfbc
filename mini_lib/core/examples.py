"""Supervised examples (prompt -> target) for fine-tuning through the same training loop.

Loss is taken on the target tokens only (the prompt's labels are -100), as GPTfluence does for its
classification tasks (loss on the label token) and generation tasks (loss on the output tokens).
Batches are right-padded with the end-of-text token and masked out of the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import IGNORE_INDEX
from mini_lib.core.lm_batching import pad_batch


@dataclass
class ExampleSet:
    """Tokenised (prompt, target) pairs with stable ids; implements the training loop's data protocol."""

    ids: list[int]
    prompt_ids: list[list[int]]
    target_ids: list[list[int]]
    pad_id: int

    @classmethod
    def from_pairs(
        cls, tokenizer, prompts: Sequence[str], targets: Sequence[str], ids: Sequence[int] | None = None,
        max_len: int | None = None,
    ) -> "ExampleSet":
        """Tokenise pairs; the prompt is truncated from the left so the target always fits ``max_len``."""
        if len(prompts) != len(targets):
            raise ConfigError(f"{len(prompts)} prompts but {len(targets)} targets")
        if len(prompts) == 0:
            raise ConfigError("no examples: give at least one (prompt, target) pair")
        backend = tokenizer.backend_tokenizer
        p_ids = [e.ids for e in backend.encode_batch_fast(list(prompts), add_special_tokens=False)]
        t_ids = [e.ids + [tokenizer.eos_token_id] for e in backend.encode_batch_fast(list(targets), add_special_tokens=False)]
        if max_len is not None:
            if any(len(t) >= max_len for t in t_ids):
                raise ConfigError(f"a target is longer than max_len={max_len} tokens: raise max_len")
            p_ids = [p[-(max_len - len(t)):] for p, t in zip(p_ids, t_ids)]
        return cls(list(ids) if ids is not None else list(range(len(prompts))), p_ids, t_ids, tokenizer.eos_token_id)

    def __len__(self) -> int:
        return len(self.ids)

    def collate(self, indices: Sequence[int]) -> dict[str, torch.Tensor]:
        """Right-padded input ids, attention mask, and labels on target tokens only."""
        indices = np.asarray(indices)
        rows = [self.prompt_ids[i] + self.target_ids[i] for i in indices]
        input_ids, attention = pad_batch(rows, self.pad_id, side="right")
        labels = torch.full_like(input_ids, IGNORE_INDEX)
        for row, i in enumerate(indices):
            n_prompt = len(self.prompt_ids[i])
            labels[row, n_prompt : n_prompt + len(self.target_ids[i])] = torch.tensor(self.target_ids[i])
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}

    def example_ids(self, index: int) -> list[int]:
        return [self.ids[index]]
