"""What the training loop is given: its settings (``TrainConfig``), what it needs of a dataset
(``TrainData``), the learning-rate schedule and the data order, and the checks that turn settings and data
that cannot train into one line before any work starts.

The schedule (``learning_rate``) and the data order (``batch_indices``) are pure functions of the step, so
which examples step k saw, and at which rate, never depends on how a run was resumed.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol, Sequence

import numpy as np
import torch

from mini_lib.core import models
from mini_lib.core.errors import ConfigError, choose

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")
# Settings that may change between a run and its resumption without changing its numbers.
RESUMABLE_CHANGES = {"log_every", "checkpoint_every", "keep_checkpoints", "progress", "sample_prompts", "sample_tokens"}


class TrainData(Protocol):
    """What the loop needs from a dataset: a size, a batch builder, and example ids for the records.
    A ``fingerprint() -> str`` method is optional: resume checks it (see ``store.data_fingerprint``)."""

    def __len__(self) -> int: ...

    def collate(self, indices: Sequence[int]) -> dict[str, torch.Tensor]: ...

    def example_ids(self, index: int) -> list[int]: ...


@dataclass(frozen=True)
class TrainConfig:
    """Loop settings. Defaults are Pythia's optimiser settings; ``lr`` comes from the preset."""

    steps: int = 100
    batch_size: int = 16  # sequences per optimiser step, across all processes
    micro_batch_size: int | None = None  # per process and forward pass; None = no accumulation
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int | None = None  # None: 1% of steps, as Pythia
    weight_decay: float = models.WEIGHT_DECAY
    beta1: float = models.ADAM_BETAS[0]
    beta2: float = models.ADAM_BETAS[1]
    eps: float = models.ADAM_EPS
    grad_clip: float = models.GRAD_CLIP
    precision: str = "auto"
    compile: bool = False
    device: str = "auto"
    eval_every: int = 0  # 0: evaluate only at the end
    eval_examples: int = 256
    log_every: int = 50
    checkpoint_every: int = 0  # 0: no checkpoints
    keep_checkpoints: int = 2
    seed: int = 0
    progress: bool = True
    sample_prompts: tuple[str, ...] = ()  # sampled at the end of training when a tokenizer is given
    sample_tokens: int = 60

    def __post_init__(self) -> None:
        check_config(self)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> "TrainConfig":
        """Build from a settings object (a notebook's dataclass) or dict: takes the fields whose names are
        TrainConfig fields; ``overrides`` win and map the rest explicitly (``warmup_steps=...``). A near-miss
        field name is an error (``check_setting_names``)."""
        source = asdict(settings) if hasattr(settings, "__dataclass_fields__") else dict(settings)
        check_setting_names(source, overrides)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in {**source, **overrides}.items() if k in names})

    @property
    def n_warmup(self) -> int:
        return self.warmup_steps if self.warmup_steps is not None else max(1, round(models.WARMUP_FRACTION * self.steps))


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warmup then cosine decay to ``min_lr_ratio * lr`` (Pythia's schedule); step is 0-based."""
    warmup = config.n_warmup
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, config.steps - warmup))
    floor = config.min_lr_ratio * config.lr
    return floor + 0.5 * (config.lr - floor) * (1 + math.cos(math.pi * progress))


def batch_indices(step: int, n_examples: int, batch_size: int, seed: int) -> np.ndarray:
    """The examples of global batch ``step``: consecutive slices of per-epoch seeded permutations.

    A pure function of its arguments, so the data order never depends on how a run was resumed.
    """
    positions = np.arange(step * batch_size, (step + 1) * batch_size)
    epochs, offsets = np.divmod(positions, n_examples)
    out = np.empty(batch_size, dtype=np.int64)
    for epoch in np.unique(epochs):
        out[epochs == epoch] = _epoch_permutation(n_examples, seed, int(epoch))[offsets[epochs == epoch]]
    return out


@functools.lru_cache(maxsize=2)
def _epoch_permutation(n_examples: int, seed: int, epoch: int) -> np.ndarray:
    """One epoch's order, cached: every step of an epoch reads the same permutation."""
    return np.random.default_rng([seed, epoch]).permutation(n_examples)


@dataclass(frozen=True)
class BatchShape:
    """How a global batch of ``config.batch_size`` examples splits: each of ``world`` processes takes
    ``local`` of them, in ``accum`` forward passes of ``micro`` (gradient accumulation)."""

    world: int
    local: int
    micro: int
    accum: int

    @classmethod
    def of(cls, config: TrainConfig) -> "BatchShape":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        local, remainder = divmod(config.batch_size, world)
        if remainder:
            raise ConfigError(f"batch_size {config.batch_size} must be divisible by the number of processes ({world})")
        micro = config.micro_batch_size or local
        accum, remainder = divmod(local, micro)
        if remainder or accum == 0:
            raise ConfigError(
                f"per-process batch {local} (batch_size / processes) must be a multiple of micro_batch_size {micro}"
            )
        return cls(world, local, micro, accum)

    def share(self, values: np.ndarray, rank: int) -> np.ndarray:
        """Process ``rank``'s consecutive slice of a global batch's indices or weights."""
        return values.reshape(self.world, self.local)[rank]


# --- checks: bad settings and data fail in one line, before any set-up ------------------------------

def check_config(config: TrainConfig) -> None:
    """Values no run can train with: the one line names the field."""
    choose("precision", config.precision, PRECISIONS)
    choose("device", config.device, DEVICES)
    for name in ("steps", "batch_size"):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(config, name)}")
    if config.micro_batch_size is not None and config.micro_batch_size < 1:
        raise ConfigError(f"micro_batch_size must be >= 1 or None, got {config.micro_batch_size}")
    if not config.lr > 0 or not 0 <= config.min_lr_ratio <= 1:
        raise ConfigError(f"lr must be > 0 and min_lr_ratio in [0, 1], got {config.lr}, {config.min_lr_ratio}")
    for name in ("eval_every", "log_every", "checkpoint_every", "eval_examples"):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must be >= 0, got {getattr(config, name)}")


def check_setting_names(source: dict[str, Any], overrides: dict[str, Any]) -> None:
    """A settings field named like a TrainConfig field but not exactly (``warmup_step``, ``Weight_Decay``:
    case, underscores or a plural s) would be dropped unseen, so it is an error unless the caller passes
    that TrainConfig field. A tuple beside a single value is another setting (01's ``precisions``, compared)."""

    def spelling(name: str) -> str:
        return name.lower().replace("_", "").removesuffix("s")

    own = {spelling(f.name): f for f in fields(TrainConfig)}
    for name, value in source.items():
        near = own.get(spelling(name))
        if (near and near.name != name and near.name not in overrides
                and isinstance(value, tuple) == isinstance(near.default, tuple)):
            raise ConfigError(f"settings field {name} is not TrainConfig's {near.name}, so training would ignore "
                              f"it; rename it to {near.name} or pass {near.name}=... to from_settings")


def check_inputs(data: TrainData, config: TrainConfig, order: Sequence[Sequence[int]] | None) -> None:
    """Data and batch order that cannot train fail in one line, before any set-up."""
    if len(data) == 0:
        raise ConfigError("empty training data: nothing to train on (check corpus size and filters)")
    if order is not None and len(order) != config.steps:
        raise ConfigError(f"order has {len(order)} batches but config.steps is {config.steps}: make them equal")


def resolve_precision(config: TrainConfig, use_cuda: bool) -> str:
    """Accelerate's name of the mixed precision to train in: bf16 on a GPU that has it when ``auto``."""
    if config.precision == "auto":
        return "bf16" if use_cuda and torch.cuda.is_bf16_supported() else "no"
    if config.precision == "fp16" and not use_cuda:
        raise ConfigError("precision 'fp16' needs a GPU; use 'fp32' or 'bf16' on CPU")
    return "no" if config.precision == "fp32" else config.precision
