"""The samplers' embedding convention (mean-pooled, unit norm) and the labelled quality probe set."""

import collections

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.corpora.noise import LOW_QUALITY_KINDS
from mini_lib.papers.data_selection.embeddings import embed_texts
from mini_lib.papers.data_selection.quality_probe import make_quality_probe


def test_sampler_embeddings_are_unit_norm_mean_pooled(tmp_path):
    class Fake:
        def encode(self, texts, batch_size, show_progress_bar, normalize_embeddings=False, convert_to_numpy=True):
            assert normalize_embeddings
            v = np.array([[len(t), 1.0] for t in texts])
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    emb = embed_texts(["a cat", "dog"], model=Fake(), model_name="fake", cache_folder=tmp_path)
    assert emb.shape == (2, 2) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-6)


def test_quality_probe_is_labelled_balanced_and_deterministic():
    probe = make_quality_probe(60, 70, seed=3)
    assert len(probe.texts) == 130 and len(set(probe.texts)) == 130
    assert probe.is_good.sum() == 60
    counts = collections.Counter(probe.kind)
    assert counts["clean"] == 60 and all(counts[k] == 10 for k in LOW_QUALITY_KINDS)
    assert all(probe.is_good[i] == (k == "clean") for i, k in enumerate(probe.kind))
    assert make_quality_probe(60, 70, seed=3).texts == probe.texts
    assert make_quality_probe(60, 70, seed=4).texts != probe.texts
    clean = [t for t, g in zip(probe.texts, probe.is_good) if g]
    assert all(t.endswith(".") and len(t.split()) >= 12 for t in clean)
    with pytest.raises(ConfigError):
        make_quality_probe(0, 5)
