"""Frozen sentence features h for GPTfluence, from the offline all-MiniLM-L6-v2 encoder.

GPTfluence (arXiv 2404.07840) represents every training and test example by a frozen
all-MiniLM-L6-v2 embedding (``mini_lib.core.encoders``, shared with the data-selection samplers).
Pooling: ``"cls"`` (default here) is the first token's last hidden state, unnormalised -- what the
official code feeds its simulator (``last_hidden_state[:, 0]``); ``"mean"`` is the normalised sentence
embedding the model is published with.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mini_lib.core import encoders
from mini_lib.papers.gptfluence.gptdynamics import Example

FEATURE_DIM = encoders.MINILM_DIM


def encode_texts(texts: Sequence[str], batch_size: int = 64, *, pooling: str = "cls", cache: bool = True) -> np.ndarray:
    """(len(texts), 384) float32 features, cached on disk per (pooling, texts)."""
    return encoders.encode_texts(texts, pooling=pooling, batch_size=batch_size, cache=cache)


def encode_examples(examples: Sequence[Example], batch_size: int = 64, *, pooling: str = "cls", cache: bool = True) -> np.ndarray:
    """Features of whole examples (input, a space, output), rows in the order given."""
    return encode_texts([f"{e.input} {e.output}" for e in examples], batch_size, pooling=pooling, cache=cache)
