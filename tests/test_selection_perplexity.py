"""Per-example perplexity of a causal LM, batched with right padding."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

from mini_lib.errors import ConfigError
from mini_lib.selection.perplexity import perplexities
from tests.test_selection_askllm import WORDS, word_tokenizer


class UniformLM(torch.nn.Module):
    """Every next token equally likely: perplexity is exactly the vocabulary size."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.config = SimpleNamespace(is_encoder_decoder=False)
        self.vocab = vocab
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=torch.zeros(*input_ids.shape, self.vocab))


def test_uniform_model_has_perplexity_equal_to_vocab_size():
    got = perplexities(UniformLM(len(WORDS)), word_tokenizer(), ["the cat sat", "dog", "a dog ran on the mat"])
    np.testing.assert_allclose(got, len(WORDS), rtol=1e-5)


def test_matches_model_loss_and_is_batch_invariant():
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(GPTNeoXConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2,
                                             num_attention_heads=4, intermediate_size=64)).eval()
    tok = word_tokenizer()
    texts = ["the cat sat on the mat", "dog", "a dog ran . the cat sat"]
    one = perplexities(model, tok, texts, batch_size=1)
    np.testing.assert_allclose(perplexities(model, tok, texts, batch_size=3), one, rtol=1e-5)
    # The EOS start token is prepended, so the first word is predicted too.
    ids = torch.tensor([[tok.eos_token_id] + tok.encode(texts[0])])
    with torch.no_grad():
        loss = model(input_ids=ids, labels=ids).loss
    assert one[0] == pytest.approx(float(torch.exp(loss)), rel=1e-5)


def test_invalid_inputs_are_config_errors():
    with pytest.raises(ConfigError, match="non-blank"):
        perplexities(UniformLM(5), word_tokenizer(), ["ok", "  "])
    with pytest.raises(ConfigError, match="max_length"):
        perplexities(UniformLM(5), word_tokenizer(), ["ok"], max_length=1)
