"""Planted noise for the Transformer setting: random token edits in a fraction of the training rows.

arXiv 2402.17759 perturbs 50% of its TinyStories training sentences so that the learned policy has
harmful examples to switch off (the Learning Law predicts zero weight for them). Our edit is a
substitution: in each chosen row every token is replaced, with probability ``edit_rate``, by a
uniformly drawn DIFFERENT token id. Lengths stay fixed, so rows remain a rectangular (N x 65) tensor.
"""

from typing import NamedTuple

import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError, check_fraction


class PerturbedTokens(NamedTuple):
    """The edited token tensor and the boolean mask of rows that were perturbed."""

    tokens: Tensor
    perturbed: Tensor


def perturb_sequences(tokens: Tensor, *, fraction: float = 0.5, edit_rate: float = 0.3, vocab_size: int,
                      seed: int = 0) -> PerturbedTokens:
    """Edit ``round(fraction * N)`` random rows of ``tokens`` (N x L); returns (tokens, perturbed mask)."""
    if tokens.dtype != torch.long or tokens.dim() != 2:
        raise ConfigError(f"tokens must be a 2-D LongTensor (N x L), got {tokens.dtype} {tuple(tokens.shape)}")
    check_fraction("fraction", fraction)
    check_fraction("edit_rate", edit_rate, allow_zero=False)
    if vocab_size < 2:
        raise ConfigError(f"vocab_size must be >= 2 to draw a different token, got {vocab_size}")
    gen = torch.Generator().manual_seed(seed)
    n_rows = tokens.shape[0]
    perturbed = torch.zeros(n_rows, dtype=torch.bool)
    perturbed[torch.randperm(n_rows, generator=gen)[:round(fraction * n_rows)]] = True
    edit = (torch.rand(tokens.shape, generator=gen) < edit_rate) & perturbed[:, None]
    offsets = torch.randint(1, vocab_size, tokens.shape, generator=gen)
    replaced = (tokens.cpu() + offsets) % vocab_size
    out = torch.where(edit, replaced, tokens.cpu()).to(tokens.device)
    return PerturbedTokens(tokens=out, perturbed=perturbed.to(tokens.device))
