"""Sentence embeddings for the coverage samplers (Density, SemDeDup, SSL Prototypes).

The data-selection paper (arXiv 2402.09668) embeds every example with a pre-trained encoder and
samples in that space. The encoder lives in ``mini_lib.core.encoders`` (shared with GPTfluence); here the
samplers' convention: unit-norm mean-pooled vectors, so cosine similarity is a dot product.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from mini_lib.core.encoders import MINILM_DIM, encode_texts, minilm_dir
from mini_lib.core.paths import texts_fingerprint

__all__ = ["MINILM_DIM", "embed_texts", "minilm_dir", "texts_fingerprint"]


def embed_texts(
    texts: Sequence[str],
    *,
    model=None,
    model_name: str | None = None,
    batch_size: int = 64,
    use_cache: bool = True,
    cache_folder: Path | None = None,
) -> np.ndarray:
    """Unit-norm (n, dim) float32 embeddings, cached on disk (see ``mini_lib.core.encoders.encode_texts``)."""
    return encode_texts(texts, pooling="mean", batch_size=batch_size, model=model, model_name=model_name,
                        cache=use_cache, cache_folder=cache_folder)
