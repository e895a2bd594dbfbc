"""The tiny functional Transformer LM of the optimal-learning setting, and sequence perturbation."""

import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.papers.optimal_learning.flat_params import ParamLayout
from mini_lib.papers.optimal_learning.perturb import perturb_sequences
from mini_lib.papers.optimal_learning.tiny_lm import (
    TinyLMConfig,
    count_parameters,
    init_tiny_lm,
    make_tiny_lm_problem,
    tiny_lm_layout,
    tiny_lm_logits,
)
from mini_lib.papers.optimal_learning.unrolled import policy_gradient

TINY = TinyLMConfig(vocab_size=13, d_model=8, n_layers=1, n_heads=2, seq_len=6)


pytestmark = pytest.mark.usefixtures("one_thread")


def _tokens(n: int, config: TinyLMConfig, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, config.vocab_size, (n, config.seq_len + 1), generator=torch.Generator().manual_seed(seed))


def test_parameter_count_formula_matches_layout_and_paper_size():
    for config in (TINY, TinyLMConfig(vocab_size=100, d_model=32, n_layers=3, n_heads=4, seq_len=16)):
        assert tiny_lm_layout(config).numel == count_parameters(config) == init_tiny_lm(config).numel()
    paper = TinyLMConfig()
    assert count_parameters(paper) == 1_682_688
    assert tiny_lm_layout(paper).numel == 1_682_688


def test_forward_is_causal():
    config = TinyLMConfig(vocab_size=50, d_model=16, n_layers=2, n_heads=4, seq_len=10)
    theta = init_tiny_lm(config, seed=1, dtype=torch.float64)
    tokens = _tokens(3, config)[:, :-1]
    logits = tiny_lm_logits(theta, tokens, config)
    assert logits.shape == (3, 10, 50)
    for position in (0, 4, 9):
        changed = tokens.clone()
        changed[:, position] = (changed[:, position] + 7) % config.vocab_size
        other = tiny_lm_logits(theta, changed, config)
        assert torch.equal(other[:, :position], logits[:, :position])
        assert not torch.allclose(other[:, position], logits[:, position])


def test_flat_layout_round_trip_and_errors():
    layout = ParamLayout((("a", (2, 3)), ("b", (4,))))
    theta = torch.arange(10.0)
    params = layout.unflatten(theta)
    assert params["a"].shape == (2, 3) and params["b"].tolist() == [6.0, 7.0, 8.0, 9.0]
    assert torch.equal(layout.flatten(params), theta)
    with pytest.raises(ConfigError):
        layout.unflatten(torch.zeros(9))
    with pytest.raises(ConfigError, match="b"):
        layout.flatten({"a": params["a"]})


def test_lm_adjoint_gradient_equals_autograd():
    train, desired = _tokens(4, TINY, seed=2), _tokens(3, TINY, seed=3)
    problem = make_tiny_lm_problem(train, desired, TINY, seed=4, chunk_size=3, dtype=torch.float64)
    gamma = torch.softmax(torch.randn(3, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64), dim=1)
    eta = 0.5
    ours = policy_gradient(problem, gamma, eta, checkpoint_every=2)
    leaf = gamma.clone().requires_grad_(True)
    theta = problem.theta0.clone().requires_grad_(True)
    total = 0.0
    for t in range(3):
        (step,) = torch.autograd.grad((leaf[t] * problem.example_losses(theta, train)).sum(), theta, create_graph=True)
        theta = theta - eta * step
        total = total + problem.example_losses(theta, desired).mean() / 3
    (reference,) = torch.autograd.grad(total, leaf)
    assert torch.allclose(ours.grad, reference, rtol=1e-8, atol=1e-13)


def test_problem_rejects_wrong_token_shapes():
    with pytest.raises(ConfigError, match="seq_len"):
        make_tiny_lm_problem(torch.zeros(4, 5, dtype=torch.long), _tokens(2, TINY), TINY)
    with pytest.raises(ConfigError, match="vocab_size"):
        make_tiny_lm_problem(_tokens(4, TINY) + TINY.vocab_size, _tokens(2, TINY), TINY)
    with pytest.raises(ConfigError, match="divisible"):
        TinyLMConfig(d_model=10, n_heads=3)


def test_pad_positions_do_not_count():
    config = TINY
    theta = init_tiny_lm(config, seed=0, dtype=torch.float64)
    tokens = _tokens(2, config, seed=6)
    tokens[:, -2:] = 0
    problem = make_tiny_lm_problem(tokens, tokens, config, pad_id=0, dtype=torch.float64)
    changed = tokens.clone()
    changed[:, -1] = 0
    assert torch.allclose(problem.example_losses(theta, tokens), problem.example_losses(theta, changed))
    unpadded = make_tiny_lm_problem(tokens, tokens, config, dtype=torch.float64)
    assert not torch.allclose(unpadded.example_losses(theta, tokens), problem.example_losses(theta, tokens))


def test_perturb_sequences_edits_only_marked_rows():
    tokens = torch.randint(0, 500, (200, 65), generator=torch.Generator().manual_seed(0))
    out, mask = perturb_sequences(tokens, fraction=0.5, edit_rate=0.3, vocab_size=500, seed=1)
    assert mask.sum() == 100 and mask.dtype == torch.bool
    assert torch.equal(out[~mask], tokens[~mask])
    changed = (out != tokens)[mask].float().mean()
    assert 0.25 < changed < 0.35
    assert (out[mask] != tokens[mask]).any(dim=1).all()
    assert out.max() < 500 and out.min() >= 0
    again = perturb_sequences(tokens, fraction=0.5, edit_rate=0.3, vocab_size=500, seed=1)
    assert torch.equal(again.tokens, out) and torch.equal(again.perturbed, mask)


def test_perturb_sequences_validates():
    tokens = torch.zeros(4, 5, dtype=torch.long)
    with pytest.raises(ConfigError, match="fraction"):
        perturb_sequences(tokens, fraction=1.5, vocab_size=10)
    with pytest.raises(ConfigError, match="LongTensor"):
        perturb_sequences(tokens.float(), vocab_size=10)
