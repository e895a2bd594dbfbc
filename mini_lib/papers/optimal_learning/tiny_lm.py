"""The paper's second setting: a tiny causal Transformer LM written as a function of a flat vector.

arXiv 2402.17759, Sec. 4: 2 layers, hidden 128, 8 heads, sequences of 64 tokens, a 5K vocabulary,
about 1.7M parameters. The architecture follows the official ``modeling.py`` (learned token and
position embeddings, pre-norm blocks, bias-free attention and ReLU MLP of width 4d, final norm,
untied LM head) with two documented changes: ``F.layer_norm`` (weight and bias) instead of the
official RMS norm with bias, and attention through ``F.scaled_dot_product_attention`` with the usual
1/sqrt(head_dim) scale. Parameter count (V vocab, S seq_len, d hidden, L layers):

    2 V d + S d + L (12 d^2 + 4 d) + 2 d        (= 1,682,688 at V=5000, S=64, d=128, L=2)

Being a pure function of theta, it works under ``torch.func`` grad / jvp / vmap. The adjoint needs
forward-over-reverse derivatives, which the fused SDPA kernels do not implement, so attention runs
on SDPA's math backend (at sequence length 64 the fused kernels would gain little anyway).

Token input: a LongTensor (N x (seq_len + 1)); positions 0..S-1 are inputs, 1..S the targets, and the
example loss is the mean next-token cross-entropy over the S positions (``pad_id`` positions skipped).
"""

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from mini_lib.core.errors import ConfigError
from mini_lib.papers.optimal_learning.flat_params import ParamLayout
from mini_lib.papers.optimal_learning.problem import PolicyProblem


@dataclass(frozen=True)
class TinyLMConfig:
    """Shape of the tiny LM (defaults: the paper's, at a 5K vocabulary)."""

    vocab_size: int = 5000
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 8
    seq_len: int = 64

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "seq_len"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise ConfigError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")


def count_parameters(config: TinyLMConfig) -> int:
    """2 V d + S d + L (12 d^2 + 4 d) + 2 d (embeddings, LM head, blocks, final norm)."""
    v, s, d, n = config.vocab_size, config.seq_len, config.d_model, config.n_layers
    return 2 * v * d + s * d + n * (12 * d * d + 4 * d) + 2 * d


def tiny_lm_layout(config: TinyLMConfig) -> ParamLayout:
    """Names and shapes of every parameter, in flat-vector order."""
    d, v = config.d_model, config.vocab_size
    shapes = [("wte", (v, d)), ("wpe", (config.seq_len, d))]
    for i in range(config.n_layers):
        shapes += [(f"h{i}.ln1.weight", (d,)), (f"h{i}.ln1.bias", (d,)), (f"h{i}.attn.qkv", (3 * d, d)),
                   (f"h{i}.attn.out", (d, d)), (f"h{i}.ln2.weight", (d,)), (f"h{i}.ln2.bias", (d,)),
                   (f"h{i}.mlp.fc", (4 * d, d)), (f"h{i}.mlp.proj", (d, 4 * d))]
    shapes += [("ln_f.weight", (d,)), ("ln_f.bias", (d,)), ("lm_head", (v, d))]
    return ParamLayout(tuple(shapes))


def init_tiny_lm(config: TinyLMConfig, *, seed: int = 0, dtype: torch.dtype = torch.float32) -> Tensor:
    """theta_0 as the official code gets it from PyTorch's defaults (it never re-initialises).

    Embeddings ~ N(0, 1) (``nn.Embedding``), weight matrices ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    (``nn.Linear``), norm weights 1 and biases 0. This scale matters: plain GD at eta = 0.1 learns
    far more slowly from a GPT-2-style N(0, 0.02) start.
    """
    gen = torch.Generator().manual_seed(seed)
    layout = tiny_lm_layout(config)
    params = {}
    for name, shape in layout.shapes:
        if name.endswith(".weight"):
            params[name] = torch.ones(shape, dtype=dtype)
        elif name.endswith(".bias"):
            params[name] = torch.zeros(shape, dtype=dtype)
        elif name in ("wte", "wpe"):
            params[name] = torch.randn(shape, generator=gen, dtype=dtype)
        else:
            bound = shape[1] ** -0.5
            params[name] = (torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1) * bound
    return layout.flatten(params)


def tiny_lm_logits(theta: Tensor, tokens: Tensor, config: TinyLMConfig) -> Tensor:
    """Next-token logits (B, S, V) for input tokens (B, S), S <= seq_len; position s sees tokens <= s."""
    p = tiny_lm_layout(config).unflatten(theta)
    batch, length = tokens.shape
    d, heads = config.d_model, config.n_heads
    h = F.embedding(tokens, p["wte"]) + p["wpe"][:length]
    for i in range(config.n_layers):
        x = F.layer_norm(h, (d,), p[f"h{i}.ln1.weight"], p[f"h{i}.ln1.bias"])
        q, k, v = (x @ p[f"h{i}.attn.qkv"].T).split(d, dim=-1)
        q, k, v = (z.view(batch, length, heads, d // heads).transpose(1, 2) for z in (q, k, v))
        with sdpa_kernel([SDPBackend.MATH]):
            attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + attended.transpose(1, 2).reshape(batch, length, d) @ p[f"h{i}.attn.out"].T
        x = F.layer_norm(h, (d,), p[f"h{i}.ln2.weight"], p[f"h{i}.ln2.bias"])
        h = h + F.relu(x @ p[f"h{i}.mlp.fc"].T) @ p[f"h{i}.mlp.proj"].T
    h = F.layer_norm(h, (d,), p["ln_f.weight"], p["ln_f.bias"])
    return h @ p["lm_head"].T


def tiny_lm_example_losses(theta: Tensor, tokens: Tensor, *, config: TinyLMConfig, pad_id: int | None = None) -> Tensor:
    """Mean next-token cross-entropy (nats) of each sequence in ``tokens`` (B, S+1), shape (B,)."""
    logits = tiny_lm_logits(theta, tokens[:, :-1], config)
    targets = tokens[:, 1:]
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    nll = nll.view(targets.shape)
    if pad_id is None:
        return nll.mean(dim=1)
    keep = (targets != pad_id).to(nll.dtype)
    return (nll * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1)


def make_tiny_lm_problem(train_tokens: Tensor, desired_tokens: Tensor, config: TinyLMConfig, *, seed: int = 0,
                         chunk_size: int | None = 256, pad_id: int | None = None,
                         dtype: torch.dtype = torch.float32, test_tokens: Tensor | None = None) -> PolicyProblem:
    """Wrap token ids (N x (seq_len+1) train, K x (seq_len+1) desired, optional held-out test rows) and a
    fresh theta_0 as a problem."""
    named = [("train_tokens", train_tokens), ("desired_tokens", desired_tokens)]
    for name, tokens in named + ([("test_tokens", test_tokens)] if test_tokens is not None else []):
        if tokens.dtype != torch.long or tokens.dim() != 2 or tokens.shape[1] != config.seq_len + 1:
            raise ConfigError(f"{name} must be a LongTensor of shape (n, seq_len + 1 = {config.seq_len + 1}), "
                              f"got {tokens.dtype} {tuple(tokens.shape)}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= config.vocab_size):
            raise ConfigError(f"{name} holds ids outside [0, vocab_size={config.vocab_size})")
    theta0 = init_tiny_lm(config, seed=seed, dtype=dtype).to(train_tokens.device)
    return PolicyProblem(
        example_losses=partial(tiny_lm_example_losses, config=config, pad_id=pad_id),
        train=(train_tokens,), desired=(desired_tokens,), theta0=theta0, chunk_size=chunk_size,
        test=None if test_tokens is None else (test_tokens,),
    )
