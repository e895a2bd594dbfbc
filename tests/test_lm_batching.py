"""Padding token-id lists into batches: real tokens where the side says, mask 1 exactly there."""

import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.lm_batching import length_sorted_batches, pad_batch


def test_left_and_right_padding_place_tokens_and_mask():
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0, side="left")
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=9, side="right")
    assert ids.tolist() == [[5, 6, 7], [8, 9, 9]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert ids.dtype == mask.dtype == torch.long


def test_bad_batches_are_refused():
    with pytest.raises(ConfigError, match="left, right"):
        pad_batch([[1]], 0, side="middle")
    with pytest.raises(ConfigError, match="at least one token"):
        pad_batch([[1], []], 0, side="left")
    with pytest.raises(ConfigError, match="batch_size"):
        length_sorted_batches([3, 1], 0)


def test_length_sorted_batches_cover_every_index_once_shortest_first():
    batches = length_sorted_batches([5, 1, 3, 2, 4], 2)
    assert batches == [[1, 3], [2, 4], [0]]
