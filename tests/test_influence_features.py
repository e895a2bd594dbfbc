"""GPTfluence's features: first-token pooling by default, examples encoded as 'input output'."""

import numpy as np

from mini_lib.core import encoders
from mini_lib.papers.gptfluence.features import FEATURE_DIM, encode_examples
from mini_lib.papers.gptfluence.gptdynamics import Example


def test_examples_are_encoded_as_input_then_output_with_cls_pooling(monkeypatch):
    seen = {}

    def fake_encode(texts, *, pooling, batch_size, cache):
        seen.update(texts=list(texts), pooling=pooling)
        return np.zeros((len(texts), FEATURE_DIM), dtype=np.float32)

    monkeypatch.setattr(encoders, "encode_texts", fake_encode)
    out = encode_examples([Example(0, "The cat sat", "on the mat."), Example(1, "Is it?", "yes")])
    assert seen == {"texts": ["The cat sat on the mat.", "Is it? yes"], "pooling": "cls"}
    assert out.shape == (2, FEATURE_DIM)
