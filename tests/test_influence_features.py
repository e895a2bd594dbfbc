"""The bundled all-MiniLM-L6-v2 encoder works offline, and its features behave like sentence embeddings."""

import numpy as np
import pytest

from mini_lib.errors import ConfigError
from mini_lib.influence import features as features_module
from mini_lib.influence.features import encode_examples, encode_texts, encoder_dir
from mini_lib.influence.gptdynamics import Example

SENTENCES = ["The cat sat on the mat.", "A cat was sitting on the rug.", "Stock markets fell sharply on Tuesday."]


def _cosine(x: np.ndarray) -> np.ndarray:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x @ x.T


def test_bundled_model_folder_and_cache_hit_without_loading(tmp_path, monkeypatch):
    monkeypatch.setenv("MINI_LIB_CACHE", str(tmp_path))
    assert (encoder_dir() / "model.safetensors").is_file() and (encoder_dir() / "tokenizer.json").is_file()
    planted = np.arange(2 * 384, dtype=np.float32).reshape(2, 384)
    path = features_module._cache_path(SENTENCES[:2], "cls")
    path.parent.mkdir(parents=True)
    np.save(path, planted)
    monkeypatch.setattr(features_module, "_encoder", lambda: pytest.fail("the cache should have answered"))
    np.testing.assert_array_equal(encode_texts(SENTENCES[:2]), planted)
    assert features_module._cache_path(SENTENCES[:2], "mean") != path != features_module._cache_path(SENTENCES[1::-1], "cls")
    with pytest.raises(ConfigError, match="pooling"):
        encode_texts(SENTENCES, pooling="max")


@pytest.mark.slow  # importing sentence-transformers alone takes 5-10 s on a shared CPU
def test_encoder_offline_features_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINI_LIB_CACHE", str(tmp_path))
    for pooling in ("cls", "mean"):
        features = encode_texts(SENTENCES, pooling=pooling)
        assert features.shape == (3, 384) and features.dtype == np.float32
        sim = _cosine(features)
        assert sim[0, 1] > sim[0, 2] + 0.1 and sim[0, 1] > sim[1, 2] + 0.1  # the two cat sentences are closest
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)  # "mean" is L2-normalised
    assert len(list((tmp_path / "minilm_features").glob("*.npy"))) == 2
    np.testing.assert_array_equal(encode_texts(SENTENCES, pooling="mean"), features)  # served from the cache
    by_example = encode_examples([Example(0, "The cat sat", "on the mat.")], pooling="mean")
    np.testing.assert_allclose(by_example[0], encode_texts(["The cat sat on the mat."], pooling="mean", cache=False)[0], atol=1e-6)
