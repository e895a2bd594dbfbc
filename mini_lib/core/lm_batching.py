"""Padding token batches for a Hugging Face language model, without touching the tokenizer.

Ask-LLM reads the next-token distribution after the prompt, and generation continues it, so a causal
LM needs *left* padding there (the last position is then the prompt's end in every row); perplexity
and zero-shot choice scoring read every position, where right padding is simplest. A tokenizer's ``padding_side`` is shared, mutable state, so instead of flipping
it we pad the token-id lists here, and give explicit ``position_ids`` so left-padded rows see the
same positions as unpadded ones (models with absolute position embeddings need this).
"""

from __future__ import annotations

import inspect
from typing import Sequence

import torch

from mini_lib.core.errors import ConfigError


def pad_id_of(tokenizer) -> int:
    """The id used for padding: the tokenizer's pad token, else its EOS token, else 0.

    Padded positions are masked out, so the choice never changes a score.
    """
    for attr in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, attr, None)
        if value is not None:
            return int(value)
    return 0


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int, side: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack token-id lists into ``(input_ids, attention_mask)``, padded on ``side`` ('left'/'right')."""
    if side not in ("left", "right"):
        raise ConfigError(f"unknown padding side {side!r}; choose one of: left, right")
    if not sequences or any(len(s) == 0 for s in sequences):
        raise ConfigError("every sequence in a batch must hold at least one token")
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        cols = slice(width - len(seq), width) if side == "left" else slice(0, len(seq))
        ids[row, cols] = torch.as_tensor(list(seq), dtype=torch.long)
        mask[row, cols] = 1
    return ids, mask


def causal_forward_kwargs(
    model,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    last_only: bool,
    past_key_values=None,
    past_length: int = 0,
) -> dict:
    """Keyword arguments for a causal LM forward: ids, mask, positions counted from the first real
    token, and (when the model supports it) logits for the last position only, to save memory.

    With ``past_key_values`` holding ``past_length`` already-computed tokens shared by every row
    (a common prompt prefix), the mask covers them too and positions continue after them.
    """
    device = model_device(model)
    positions = (attention_mask.cumsum(dim=1) - 1).clamp(min=0) + past_length
    if past_length:
        attention_mask = torch.cat([torch.ones(len(attention_mask), past_length, dtype=torch.long), attention_mask], 1)
    kwargs = {"input_ids": input_ids.to(device), "attention_mask": attention_mask.to(device)}
    accepted = inspect.signature(model.forward).parameters
    if "position_ids" in accepted:
        kwargs["position_ids"] = positions.to(device)
    if last_only and "logits_to_keep" in accepted:
        kwargs["logits_to_keep"] = 1
    if past_key_values is not None:
        kwargs["past_key_values"] = past_key_values
    return kwargs


def supports_kv_cache(model) -> bool:
    """Whether the model's forward takes ``past_key_values`` (so a shared prefix can be reused)."""
    return "past_key_values" in inspect.signature(model.forward).parameters


def model_device(model) -> torch.device:
    """The device of the model's first parameter (CPU for a parameter-free module)."""
    for param in model.parameters():
        return param.device
    return torch.device("cpu")


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Index batches grouped by similar length (less padding); callers scatter results back."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
