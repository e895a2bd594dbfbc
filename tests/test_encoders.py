"""The one offline sentence encoder: poolings, the disk cache, input checks, and the real model (slow)."""

import numpy as np
import pytest
import torch

from mini_lib.core.encoders import MINILM_DIM, encode_texts, minilm_dir
from mini_lib.core.errors import ConfigError


class CountingEncoder:
    """A stand-in with sentence-transformers' ``encode`` (both poolings) that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, batch_size, show_progress_bar, output_value=None, normalize_embeddings=False,
               convert_to_numpy=True):
        self.calls += 1
        if output_value == "token_embeddings":
            return [torch.tensor([[float(len(t)), 1.0, 2.0], [9.0, 9.0, 9.0]]) for t in texts]
        v = np.array([[len(t), t.count("a") + 1.0, 1.0] for t in texts])
        return v / np.linalg.norm(v, axis=1, keepdims=True) if normalize_embeddings else v


def test_cached_by_encoder_pooling_and_texts(tmp_path):
    enc, texts = CountingEncoder(), ["a cat", "banana bread", "dog"]
    first = encode_texts(texts, model=enc, model_name="counting", cache_folder=tmp_path)
    again = encode_texts(texts, model=enc, model_name="counting", cache_folder=tmp_path)
    assert enc.calls == 1 and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)  # mean pooling is unit-norm
    cls = encode_texts(texts, pooling="cls", model=enc, model_name="counting", cache_folder=tmp_path)
    assert cls[:, 0].tolist() == [5.0, 12.0, 3.0]  # the first token's vector, unnormalised
    encode_texts(texts[::-1], model=enc, model_name="counting", cache_folder=tmp_path)
    encode_texts(texts, model=enc, cache_folder=tmp_path)  # no model_name: never cached
    assert enc.calls == 4 and len(list(tmp_path.iterdir())) == 3


def test_inputs_are_checked():
    with pytest.raises(ConfigError, match="non-empty"):
        encode_texts([], model=CountingEncoder())
    with pytest.raises(ConfigError, match="strings"):
        encode_texts(["ok", 3], model=CountingEncoder())
    with pytest.raises(ConfigError, match="pooling"):
        encode_texts(["ok"], pooling="max", model=CountingEncoder())


@pytest.mark.slow  # loading sentence-transformers and the model takes 5-20 s on a shared CPU
def test_bundled_minilm_is_offline_and_semantic(tmp_path):
    assert (minilm_dir() / "model.safetensors").is_file()
    texts = ["The cat sleeps on the sofa.", "A kitten is napping on the couch.", "Stock prices fell sharply today."]
    for pooling in ("mean", "cls"):
        emb = encode_texts(texts, pooling=pooling, cache_folder=tmp_path)
        assert emb.shape == (3, MINILM_DIM)
        unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.1
    np.testing.assert_allclose(np.linalg.norm(encode_texts(texts, cache_folder=tmp_path), axis=1), 1.0, rtol=1e-5)
    assert len(list(tmp_path.glob("all-MiniLM-L6-v2-*.npy"))) == 2
