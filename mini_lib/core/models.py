"""Model shapes and the Pythia presets: the one place shapes and the suite's hyper-parameters live.

Shapes and optimiser settings follow the Pythia suite (Biderman et al., 2023; EleutherAI/pythia
configs): GPT-NeoX blocks with parallel residual, rotary embeddings on 25% of each head,
untied input/output embeddings, FFN width 4d. Models are built from a config (never downloaded).
The two tiny presets are this project's own, sized for a laptop CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from mini_lib.core.errors import ConfigError, choose

if TYPE_CHECKING:  # torch and transformers load on first use: checking a preset name stays instant
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

PYTHIA_PAPER = "2304.01373"  # the suite's paper (Biderman et al., 2023), cited by every table that quotes it
PYTHIA_VOCAB_SIZE = 50304


@dataclass(frozen=True)
class ModelShape:
    """A GPT-NeoX shape, what ``neox_config`` builds: any experiment's own size (its learning rate is
    a training setting, passed to the loop where it is used)."""

    n_layers: int
    d_model: int
    n_heads: int


@dataclass(frozen=True, kw_only=True)
class PythiaPreset(ModelShape):
    """A shape of the Pythia suite, with its name and the learning rate the suite trained it with."""

    name: str
    lr: float


PRESETS: dict[str, PythiaPreset] = {
    p.name: p
    for p in [
        PythiaPreset(name="pythia-1m", n_layers=4, d_model=96, n_heads=4, lr=1e-3),
        PythiaPreset(name="pythia-3m", n_layers=6, d_model=160, n_heads=5, lr=1e-3),
        PythiaPreset(name="pythia-14m", n_layers=6, d_model=128, n_heads=4, lr=1e-3),
        PythiaPreset(name="pythia-31m", n_layers=6, d_model=256, n_heads=8, lr=1e-3),
        PythiaPreset(name="pythia-70m", n_layers=6, d_model=512, n_heads=8, lr=1e-3),
        PythiaPreset(name="pythia-160m", n_layers=12, d_model=768, n_heads=12, lr=6e-4),
        PythiaPreset(name="pythia-410m", n_layers=24, d_model=1024, n_heads=16, lr=3e-4),
    ]
}

# Optimiser settings shared by the whole suite.
ADAM_BETAS = (0.9, 0.95)
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.1
GRAD_CLIP = 1.0
WARMUP_FRACTION = 0.01


def get_preset(name: str) -> PythiaPreset:
    """Look up a preset by name, with an error listing the valid names."""
    return PRESETS[choose("preset", name, PRESETS)]


def neox_config(
    shape: "ModelShape | str",
    vocab_size: int = PYTHIA_VOCAB_SIZE,
    max_seq_len: int = 2048,
    *,
    ffn_mult: int = 4,
    tie_embeddings: bool = False,
    attn_implementation: str = "sdpa",
) -> GPTNeoXConfig:
    """A GPTNeoXConfig for a shape (a preset, or its name): the suite's architecture choices, no download."""
    from transformers import GPTNeoXConfig

    shape = get_preset(shape) if isinstance(shape, str) else shape
    if shape.d_model % shape.n_heads:
        raise ConfigError(f"d_model {shape.d_model} must be divisible by n_heads {shape.n_heads}")
    if vocab_size < 2 or max_seq_len < 1:
        raise ConfigError(f"vocab_size must be >= 2 and max_seq_len >= 1, got {vocab_size}, {max_seq_len}")
    config = GPTNeoXConfig(
        vocab_size=vocab_size,
        hidden_size=shape.d_model,
        num_hidden_layers=shape.n_layers,
        num_attention_heads=shape.n_heads,
        intermediate_size=ffn_mult * shape.d_model,
        max_position_embeddings=max_seq_len,
        rope_parameters={"rope_theta": 10000.0, "partial_rotary_factor": 0.25, "rope_type": "default"},
        use_parallel_residual=True,
        tie_word_embeddings=tie_embeddings,
        hidden_dropout=0.0,
        attention_dropout=0.0,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    config._attn_implementation = attn_implementation
    return config


def build_model(config: GPTNeoXConfig, seed: int = 0) -> GPTNeoXForCausalLM:
    """A freshly initialised model; the seed alone decides its weights."""
    import torch
    from transformers import GPTNeoXForCausalLM

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GPTNeoXForCausalLM(config)


@dataclass(frozen=True)
class ModelSize:
    """Parameter counts and training cost of a shape (how scaling-law papers count)."""

    total: int
    embedding: int  # input embedding table
    unembedding: int  # output projection (untied)
    non_embedding: int
    flops_per_token: float  # training (forward + backward) FLOPs per token at seq_len

    def as_dict(self) -> dict:
        return asdict(self)


def model_size(config: GPTNeoXConfig, seq_len: int | None = None) -> ModelSize:
    """Count parameters analytically and estimate training FLOPs per token.

    FLOPs follow the PaLM appendix (used for MFU everywhere): 6N for the weight matmuls, N counting
    every parameter that multiplies activations (non-embedding + the output projection, not the
    input lookup), plus 12 * n_layers * d_model * seq_len for attention scores and values.
    """
    d, n_layers, vocab = config.hidden_size, config.num_hidden_layers, config.vocab_size
    ffn = config.intermediate_size
    per_layer = (
        (3 * d * d + 3 * d)  # fused qkv with bias
        + (d * d + d)  # attention output
        + (d * ffn + ffn) + (ffn * d + d)  # MLP
        + 4 * d  # two layer norms
    )
    non_embedding = n_layers * per_layer + 2 * d  # + final layer norm
    embedding = vocab * d
    unembedding = 0 if config.tie_word_embeddings else vocab * d
    seq_len = seq_len or config.max_position_embeddings
    matmul_params = non_embedding + vocab * d
    flops = 6 * matmul_params + 12 * n_layers * d * seq_len
    return ModelSize(
        total=non_embedding + embedding + unembedding,
        embedding=embedding,
        unembedding=unembedding,
        non_embedding=non_embedding,
        flops_per_token=float(flops),
    )


def flops_per_token(model: "torch.nn.Module", seq_len: int) -> float:
    """Training FLOPs per token of any model: ``model_size``'s count for GPT-NeoX, else 6N (every
    parameter in one multiply-add forward and two backward), so every model has a compute axis."""
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) == "gpt_neox":
        return model_size(config, seq_len).flops_per_token
    return 6.0 * sum(p.numel() for p in model.parameters())


def suite_table(vocab_size: int = PYTHIA_VOCAB_SIZE, seq_len: int = 2048) -> list[dict]:
    """One row per preset: shape, learning rate, parameter counts and FLOPs per token."""
    rows = []
    for preset in PRESETS.values():
        size = model_size(neox_config(preset, vocab_size, seq_len), seq_len)
        rows.append({"name": preset.name, **asdict(preset), **size.as_dict()})
    return rows
