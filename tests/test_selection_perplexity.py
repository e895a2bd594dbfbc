"""Per-example perplexity of a causal LM, batched with right padding."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

from mini_lib.core.errors import ConfigError
from mini_lib.papers.data_selection.perplexity import perplexities, token_windows
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


def _small_model() -> GPTNeoXForCausalLM:
    torch.manual_seed(0)
    return GPTNeoXForCausalLM(GPTNeoXConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2,
                                            num_attention_heads=4, intermediate_size=64)).eval()


def test_windows_predict_every_token_but_the_first_exactly_once():
    assert token_windows(list(range(10)), 4) == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert token_windows(list(range(5)), 4) == [[0, 1, 2, 3], [3, 4]]
    assert token_windows([7, 8], 4) == [[7, 8]]
    for n in range(2, 30):
        targets = [t for w in token_windows(list(range(n)), 5) for t in w[1:]]
        assert targets == list(range(1, n)) and all(len(w) <= 5 for w in token_windows(list(range(n)), 5))


def test_a_text_longer_than_the_context_is_scored_over_all_its_tokens_without_a_length_warning(capfd):
    model, tok = _small_model(), word_tokenizer()
    tok.model_max_length = 4  # as notebook 06's proxy tokenizer: its context, shorter than the documents
    head = "the cat sat on the mat"
    texts = [head + " . a dog ran", head + " . the mat sat"]  # same first window, different ends
    got = perplexities(model, tok, texts, max_length=4)
    assert "longer than the specified maximum sequence length" not in capfd.readouterr().err
    assert got[0] != pytest.approx(got[1], rel=1e-3)  # the tokens after the first window count
    ids = [tok.eos_token_id] + tok.encode(texts[0])
    nll, n = 0.0, 0
    with torch.no_grad():
        for window in token_windows(ids, 4):
            w = torch.tensor([window])
            nll += float(model(input_ids=w, labels=w).loss) * (len(window) - 1)
            n += len(window) - 1
    assert n == len(ids) - 1
    assert got[0] == pytest.approx(np.exp(nll / n), rel=1e-5)
