"""Sentence embeddings (offline all-MiniLM-L6-v2, disk cache) and the labelled quality probe set."""

import collections

import numpy as np
import pytest

from mini_lib.errors import ConfigError
from mini_lib.selection.embeddings import MINILM_DIM, embed_texts, minilm_model_dir, texts_fingerprint
from mini_lib.selection.quality_probe import LOW_QUALITY_KINDS, make_quality_probe


class CountingEncoder:
    """A stand-in encoder with sentence-transformers' ``encode`` that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, batch_size, normalize_embeddings, convert_to_numpy, show_progress_bar):
        self.calls += 1
        v = np.array([[len(t), t.count("a") + 1.0, 1.0] for t in texts])
        return v / np.linalg.norm(v, axis=1, keepdims=True) if normalize_embeddings else v


def test_embeddings_are_cached_by_model_and_text_hash(tmp_path):
    enc = CountingEncoder()
    texts = ["a cat", "banana bread", "dog"]
    first = embed_texts(texts, model=enc, model_name="counting", cache_folder=tmp_path)
    again = embed_texts(texts, model=enc, model_name="counting", cache_folder=tmp_path)
    assert enc.calls == 1 and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    embed_texts(texts[::-1], model=enc, model_name="counting", cache_folder=tmp_path)
    embed_texts(texts, model=enc, cache_folder=tmp_path)  # no model_name: never cached
    assert enc.calls == 3 and len(list(tmp_path.iterdir())) == 2
    assert texts_fingerprint(["ab", "c"]) != texts_fingerprint(["a", "bc"])


def test_embedding_inputs_are_checked():
    with pytest.raises(ConfigError, match="at least one"):
        embed_texts([], model=CountingEncoder())
    with pytest.raises(ConfigError, match="str"):
        embed_texts(["ok", 3], model=CountingEncoder())


@pytest.mark.slow
def test_minilm_offline_embeddings_are_semantic(tmp_path):
    assert (minilm_model_dir() / "model.safetensors").is_file()
    texts = ["The cat sleeps on the sofa.", "A kitten is napping on the couch.", "Stock prices fell sharply today."]
    emb = embed_texts(texts, cache_folder=tmp_path)
    assert emb.shape == (3, MINILM_DIM)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.3
    assert len(list(tmp_path.glob("all-MiniLM-L6-v2-*.npy"))) == 1


def test_quality_probe_is_labelled_balanced_and_deterministic():
    probe = make_quality_probe(60, 60, seed=3)
    assert len(probe.texts) == 120 and len(set(probe.texts)) == 120
    assert probe.is_good.sum() == 60
    counts = collections.Counter(probe.kind)
    assert counts["clean"] == 60 and all(counts[k] == 10 for k in LOW_QUALITY_KINDS)
    assert all(probe.is_good[i] == (k == "clean") for i, k in enumerate(probe.kind))
    assert make_quality_probe(60, 60, seed=3).texts == probe.texts
    assert make_quality_probe(60, 60, seed=4).texts != probe.texts
    clean = [t for t, g in zip(probe.texts, probe.is_good) if g]
    assert all(t.endswith(".") and len(t.split()) >= 12 for t in clean)
    with pytest.raises(ConfigError):
        make_quality_probe(0, 5)
