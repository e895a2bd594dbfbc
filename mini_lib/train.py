"""The one training loop: every experiment in this package trains through ``train()``.

Built on Accelerate so the same code runs on a laptop CPU, one GPU, or many processes under
``accelerate launch`` / ``torchrun``. What it guarantees, because later notebooks depend on it:

* Deterministic data order from a seed, computed from the step number alone (``batch_indices``), so
  you can ask which examples step k saw, and resuming never replays or skips data.
* Records per step (example ids, loss, lr, grad norm, tokens/s, MFU) in ``records.jsonl``.
* Atomic checkpoints (``accelerator.save_state`` into a temp folder renamed into place), each with a
  manifest of checksums, and exact resume: a run killed at any moment and restarted ends with the same
  numbers. A corrupt newest checkpoint is skipped (with a warning) for the newest one that verifies.
* A run folder holds exactly one run: resuming checks the settings, the training data and the model
  shapes; a finished run rerun returns its result; a fresh start moves a previous run aside (never
  deletes it); a second process on the same folder is refused (``mini_lib.locking``).
* Hooks: per-example loss weights (optimal learning policies), an explicit batch order (fine-tuning
  runs for training dynamics), and callbacks after every step (per-example test losses).

How ``train()`` reads, top to bottom (each part a function below, in this order):

1. ``_check_inputs`` and ``_BatchShape.of``: bad data, order or batch split fail before any work;
   the shape says how the global batch splits over processes and accumulation steps.
2. ``_set_up``: the accelerator, AdamW (``build_optimizer``) and the model it trains (GPT-NeoX
   through ``neox.CompactNeoX``), as a ``_Run``.
3. ``_resume``: the main process picks the newest intact checkpoint of this run (or clears the
   folder for a fresh start), every process loads it; training starts after its step.
4. per step: ``learning_rate``, ``_global_batch`` (indices and loss weights), ``_optimisation_step``
   (accumulation, weighted per-example loss, backward, clip, step), ``_stop_if_diverged``,
   ``_step_record`` written by ``_step_log`` (records.jsonl and the progress bar), then at their
   intervals ``_evaluate``, the callbacks and ``save_checkpoint``.
5. ``_finish``: final evaluation and checkpoint, train_meta.json, samples, the ``TrainResult``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import shutil
import time
import warnings
from datetime import datetime
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import MethodType
from typing import Any, Callable, Iterator, Protocol, Sequence

import numpy as np
import pandas as pd
import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState
from accelerate.utils import broadcast_object_list, convert_outputs_to_fp32, get_mixed_precision_context_manager

from mini_lib import models, neox
from mini_lib.errors import CheckpointError, ConfigError, TrainingDiverged, choose
from mini_lib.evaluate import evaluate_lm, generate_samples, per_example_loss
from mini_lib.hardware import device_name, peak_flops, resolve_device
from mini_lib.locking import folder_lock
from mini_lib.paths import move_aside, write_text_atomic
from mini_lib.progress import progress_bar
from mini_lib.seeding import deterministic_algorithms, seed_everything
from mini_lib.store import data_fingerprint

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")
# Settings that may change between a run and its resumption without changing its numbers.
RESUMABLE_CHANGES = {"log_every", "checkpoint_every", "keep_checkpoints", "progress", "sample_prompts", "sample_tokens"}
# What train() writes into a run folder: a folder holding any of these holds a run.
_RUN_FILES = ("records.jsonl", "evals.jsonl", "checkpoints", "train_meta.json")
MANIFEST = "manifest.json"


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
        choose("precision", self.precision, PRECISIONS)
        choose("device", self.device, DEVICES)
        for name in ("steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.micro_batch_size is not None and self.micro_batch_size < 1:
            raise ConfigError(f"micro_batch_size must be >= 1 or None, got {self.micro_batch_size}")
        if not self.lr > 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError(f"lr must be > 0 and min_lr_ratio in [0, 1], got {self.lr}, {self.min_lr_ratio}")
        for name in ("eval_every", "log_every", "checkpoint_every", "eval_examples"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> "TrainConfig":
        """Build from a settings object (a notebook's dataclass) or dict: takes the fields whose names are
        TrainConfig fields; ``overrides`` win and map the rest explicitly (``warmup_steps=...``).

        A field named like a TrainConfig field but not exactly (``warmup_step``, ``Weight_Decay``: case,
        underscores or a plural s) would be dropped unseen, so it is an error unless the caller passes that
        TrainConfig field. A tuple beside a single value is another setting (01's ``precisions``, compared)."""
        source = asdict(settings) if hasattr(settings, "__dataclass_fields__") else dict(settings)

        def spelling(name: str) -> str:
            return name.lower().replace("_", "").removesuffix("s")

        own = {spelling(f.name): f for f in fields(cls)}
        for name, value in source.items():
            near = own.get(spelling(name))
            if (near and near.name != name and near.name not in overrides
                    and isinstance(value, tuple) == isinstance(near.default, tuple)):
                raise ConfigError(f"settings field {name} is not TrainConfig's {near.name}, so training would ignore "
                                  f"it; rename it to {near.name} or pass {near.name}=... to from_settings")
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


@dataclass
class StepInfo:
    """What a callback sees after each optimiser step."""

    step: int  # 1-based: the number of optimiser steps done
    model: torch.nn.Module  # unwrapped
    record: dict
    accelerator: Accelerator


@dataclass
class TrainResult:
    """A finished run: records, evaluations and the trained (unwrapped) model."""

    model: torch.nn.Module
    records: pd.DataFrame
    evals: pd.DataFrame
    final_eval: dict | None
    run_dir: Path
    resumed_from: int | None = None
    config: TrainConfig = field(default_factory=TrainConfig)
    samples: list[str] = field(default_factory=list)


def _jsonl_rows(path: Path) -> list[dict]:
    """The rows of a records/evals file. A torn last line (the process died or the disk filled while
    appending) is dropped: its step is redone on resume. A bad line elsewhere is an error."""
    if not path.exists():
        return []
    lines = [line for line in path.read_text().split("\n") if line]
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise ConfigError(f"{path} line {number} is not valid JSON: the file is damaged") from None
    return rows


def _jsonl_tail_truncate(path: Path, max_step: int) -> None:
    """Drop rows written after the checkpoint we resume from (they will be redone), and a torn tail."""
    if path.exists():
        keep = [row for row in _jsonl_rows(path) if row["step"] <= max_step]
        write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in keep))


def _read_jsonl(path: Path) -> pd.DataFrame:
    return pd.DataFrame(_jsonl_rows(path))


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _checkpoint_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a complete, intact checkpoint (None if it is): checks its manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError):
        return f"no readable {MANIFEST} (incomplete, or written by an older mini_lib)"
    for name, digest in manifest.items():
        try:
            if _sha256(folder / name) != digest:
                return f"{name} does not match its checksum"
        except OSError:
            return f"{name} is missing or unreadable"
    return None


def latest_checkpoint(run_dir: "str | os.PathLike") -> Path | None:
    """The newest checkpoint of a run whose files match their manifest, scanning ``step_*`` folders
    newest first. Each newer one that fails is named in a warning, as is a ``latest`` pointer that
    names a missing folder, so a damaged checkpoint costs recomputation, never the run."""
    checkpoints = Path(run_dir) / "checkpoints"
    pointer = checkpoints / "latest"
    if pointer.is_file() and not (checkpoints / pointer.read_text().strip()).is_dir():
        warnings.warn(f"{pointer} names {pointer.read_text().strip()!r}, which is missing: using the newest intact checkpoint")
    for folder in sorted(checkpoints.glob("step_*"), reverse=True):
        problem = _checkpoint_problem(folder)
        if problem is None:
            return folder
        warnings.warn(f"skipping damaged checkpoint {folder}: {problem}")
    return None


def _model_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of the parameter names, shapes and dtypes: another architecture cannot resume."""
    shapes = [(name, tuple(t.shape), str(t.dtype)) for name, t in model.state_dict().items()]
    return hashlib.sha256(repr(shapes).encode()).hexdigest()[:16]


def _run_spec(model: torch.nn.Module, data: TrainData) -> dict:
    """Besides the settings, what a checkpoint must have been trained with to be resumed."""
    return {"examples": len(data), "data": data_fingerprint(data), "model": _model_fingerprint(model)}


def _resume_blockers(saved: dict, config: TrainConfig, spec: dict) -> list[str]:
    """Settings, data or model that differ from those of a checkpoint (each named, old -> new)."""
    now = asdict(config)
    changed = [f"{k} {saved['config'].get(k)!r} -> {now[k]!r}" for k in now
               if k not in RESUMABLE_CHANGES and saved["config"].get(k) != now[k]]
    what = {"examples": "number of training examples", "data": "training data", "model": "model shapes"}
    saved_spec = saved.get("spec", {})
    changed += [f"{what[k]} {saved_spec.get(k)!r} -> {spec[k]!r}" for k in spec if saved_spec.get(k) != spec[k]]
    return changed


def _move_aside(run_dir: Path) -> Path | None:
    """Move a previous run out of ``run_dir`` (one rename, so never half of it) to a hidden sibling
    ``.<name>.replaced-<time>-<random>``; returns where it went, None if the folder held no run."""
    if not any((run_dir / name).exists() for name in _RUN_FILES):
        return None
    target = move_aside(run_dir, run_dir.parent, f".{run_dir.name}.replaced-{datetime.now():%Y%m%d-%H%M%S}-")
    warnings.warn(f"{run_dir} held another run: moved it to {target}")
    return target


def _prepare_run_dir(run_dir: Path, config: TrainConfig, spec: dict, resume: bool) -> Path | None:
    """Main process, before anything is written: the checkpoint to resume from (records after it
    dropped), or None after moving any previous run aside for a fresh start."""
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if checkpoint is None:
        _move_aside(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        return None
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    changed = _resume_blockers(state, config, spec)
    if changed:
        raise ConfigError(
            f"run folder {run_dir} holds a checkpoint of another run ({'; '.join(changed)}): "
            "use a new run folder or resume=False (--no-resume)"
        )
    for name in ("records.jsonl", "evals.jsonl"):
        _jsonl_tail_truncate(run_dir / name, state["step"])
    return checkpoint


def _precision(config: TrainConfig, use_cuda: bool) -> str:
    if config.precision == "auto":
        return "bf16" if use_cuda and torch.cuda.is_bf16_supported() else "no"
    if config.precision == "fp16" and not use_cuda:
        raise ConfigError("precision 'fp16' needs a GPU; use 'fp32' or 'bf16' on CPU")
    return "no" if config.precision == "fp32" else config.precision


def build_optimizer(model: torch.nn.Module, config: TrainConfig, fused: bool) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (biases and norms are not decayed, as GPT-NeoX)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), eps=config.eps, fused=fused)


def _autocast_forward(model: torch.nn.Module, accelerator: Accelerator) -> None:
    """Give ``model`` the forward ``accelerator.prepare`` gives the models it prepares (autocast to the
    mixed precision, fp32 outputs): the transformers model behind our compact forward is not prepared
    itself, yet evaluation, callbacks and the returned model must run as they always have."""
    if accelerator.native_amp:
        autocast = get_mixed_precision_context_manager(accelerator.native_amp, accelerator.autocast_handler)
        model._original_forward = model.forward
        model.forward = MethodType(convert_outputs_to_fp32(autocast(model.forward.__func__)), model)


def _holding_run_lock(train_fn: Callable[..., "TrainResult"]) -> Callable[..., "TrainResult"]:
    """Run ``train`` holding its run folder's lock; only the main process (rank 0) takes it, as all
    ranks of one run share the folder."""

    @functools.wraps(train_fn)
    def locked(model, data, config, run_dir, **kwargs) -> "TrainResult":
        if os.environ.get("RANK", "0") != "0":
            return train_fn(model, data, config, run_dir, **kwargs)
        with folder_lock(run_dir):
            return train_fn(model, data, config, run_dir, **kwargs)

    return locked


def _deterministic_on_cpu(train_function: Callable) -> Callable:
    """Deterministic algorithms on for CPU runs (reproducible) and off on a GPU (they cost ~9% of a
    step there), whatever the caller had set (``notebook.start`` turns them on); restored on return."""

    @functools.wraps(train_function)
    def wrapper(model, data, config: TrainConfig, *args, **kwargs):
        with deterministic_algorithms(resolve_device(config.device) != "cuda"):
            return train_function(model, data, config, *args, **kwargs)

    return wrapper


# --- the parts of the loop, in the order train() runs them ------------------------------------------

def _check_inputs(data: TrainData, config: TrainConfig, order: Sequence[Sequence[int]] | None) -> None:
    """Data and batch order that cannot train fail in one line, before any set-up."""
    if len(data) == 0:
        raise ConfigError("empty training data: nothing to train on (check corpus size and filters)")
    if order is not None and len(order) != config.steps:
        raise ConfigError(f"order has {len(order)} batches but config.steps is {config.steps}: make them equal")


@dataclass(frozen=True)
class _BatchShape:
    """How a global batch of ``config.batch_size`` examples splits: each of ``world`` processes takes
    ``local`` of them, in ``accum`` forward passes of ``micro`` (gradient accumulation)."""

    world: int
    local: int
    micro: int
    accum: int

    @classmethod
    def of(cls, config: TrainConfig) -> "_BatchShape":
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


@dataclass(frozen=True)
class _Run:
    """What set-up builds: the accelerator, the optimiser and the two views of the model."""

    accelerator: Accelerator
    model: torch.nn.Module  # what trains, prepared by Accelerate: neox.CompactNeoX or the caller's model
    raw_model: torch.nn.Module  # the caller's model: evaluation, callbacks, samples and the result use it
    optimizer: torch.optim.Optimizer
    compact: bool  # model(labels=..., ...) returns per-example losses itself (neox.CompactNeoX)
    shape: _BatchShape
    precision: str  # as train_meta.json names it: fp32, bf16 or fp16


def _set_up(model: torch.nn.Module, config: TrainConfig, shape: _BatchShape) -> _Run:
    """The accelerator (device, precision, accumulation, compilation), AdamW, and the model it trains.
    GPT-NeoX trains through our compact forward + loss (same parameters, same state_dict keys)."""
    use_cuda = resolve_device(config.device) == "cuda"
    # A notebook trains many models in one process: forget the previous run's precision and
    # accumulation (the process group, held by PartialState, is kept).
    AcceleratorState._reset_state()
    GradientState._reset_state()
    accelerator = Accelerator(
        cpu=not use_cuda,
        mixed_precision=_precision(config, use_cuda),
        gradient_accumulation_steps=shape.accum,
        dynamo_backend="inductor" if config.compile else None,
    )
    precision = "fp32" if accelerator.mixed_precision == "no" else accelerator.mixed_precision
    optimizer = build_optimizer(model, config, fused=True)  # fused AdamW exists for CPU and CUDA
    compact = neox.supports(model)
    trained, optimizer = accelerator.prepare(neox.CompactNeoX(model) if compact else model, optimizer)
    if compact:
        _autocast_forward(model, accelerator)
    return _Run(accelerator, trained, model, optimizer, compact, shape, precision)


def _resume(run: _Run, data: TrainData, config: TrainConfig, run_dir: Path, resume: bool) -> tuple[int | None, dict]:
    """The main process picks the checkpoint (checked to be this run's) or clears the folder for a
    fresh start; every process loads the one it picked. Returns the step resumed from (None: a fresh
    start) and the run's spec, which checkpoints record."""
    accelerator = run.accelerator
    spec = _run_spec(run.raw_model, data) if accelerator.is_main_process else {}
    checkpoint = _prepare_run_dir(run_dir, config, spec, resume) if accelerator.is_main_process else None
    checkpoint = broadcast_object_list([checkpoint])[0]  # every rank resumes from the one main chose
    resumed_from = None
    if checkpoint is not None:
        try:
            accelerator.load_state(str(checkpoint))
        except Exception as err:
            raise CheckpointError(
                f"checkpoint {checkpoint} is intact but cannot be loaded ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}): start over with resume=False (--no-resume)"
            ) from err
        resumed_from = json.loads((checkpoint / "trainer_state.json").read_text())["step"]
    accelerator.wait_for_everyone()
    return resumed_from, spec


@dataclass(frozen=True)
class _Throughput:
    """What turns a step's tokens and seconds into tokens/s and MFU (model FLOPs utilisation)."""

    seq_len: int
    flops_per_token: float
    peak: float | None  # the device's peak FLOP/s; None (no MFU) where unknown, as on a CPU
    world: int

    @classmethod
    def of(cls, run: _Run, data: TrainData) -> "_Throughput":
        seq_len = int(data.collate([0])["input_ids"].shape[1])
        return cls(seq_len, models.flops_per_token(run.raw_model, seq_len), peak_flops(run.accelerator.device, run.precision),
                   run.shape.world)

    def __call__(self, n_tokens: int, seconds: float) -> dict:
        """Over all processes, each of which ran ``n_tokens`` in ``seconds``."""
        tokens_per_s = n_tokens * self.world / seconds
        mfu = (self.flops_per_token * tokens_per_s / (self.peak * self.world)) if self.peak else None
        return {"tokens_per_s": tokens_per_s, "mfu": mfu}


def _evaluate(run: _Run, val_data: TrainData | None, config: TrainConfig, run_dir: Path, step: int) -> dict | None:
    """Evaluate the model on the first ``eval_examples`` validation examples; the main process appends
    the result, tagged with ``step``, to evals.jsonl. None without validation data."""
    if val_data is None:
        return None
    indices = np.arange(min(config.eval_examples, len(val_data)))
    batch_size = config.micro_batch_size or config.batch_size  # independent of the process count
    result = evaluate_lm(run.raw_model, val_data, indices, batch_size=batch_size).as_dict()
    result["step"] = step
    if run.accelerator.is_main_process:
        with (run_dir / "evals.jsonl").open("a") as f:
            f.write(json.dumps(result) + "\n")
    return result


@contextlib.contextmanager
def _step_log(run_dir: Path, config: TrainConfig, start_step: int, is_main: bool) -> Iterator[Callable[[dict], None]]:
    """Yields ``log(record)``: the main process appends the record to records.jsonl (flushed, so a killed
    run keeps it) and moves the progress bar (loss and lr every ``log_every`` steps). Both close
    however the loop ends."""
    bar = progress_bar(config.steps, "train", initial=start_step, disable=not (config.progress and is_main))
    records_file = (run_dir / "records.jsonl").open("a") if is_main else None

    def log(record: dict) -> None:
        if records_file is not None:
            records_file.write(json.dumps(record) + "\n")
            records_file.flush()
        bar.update(1)
        if record["step"] % max(1, config.log_every) == 0:
            bar.set_postfix(loss=f"{record['loss']:.3f}", lr=f"{record['lr']:.2e}", refresh=False)

    try:
        yield log
    finally:
        bar.close()
        if records_file is not None:
            records_file.close()


def _global_batch(step: int, n_examples: int, config: TrainConfig, order: Sequence[Sequence[int]] | None,
                  example_weights: Callable[[int, np.ndarray], np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """The examples of batch ``step`` (0-based; from ``order``, else seeded epochs) and their loss weights."""
    indices = (
        np.asarray(order[step], dtype=np.int64) if order is not None
        else batch_indices(step, n_examples, config.batch_size, config.seed)
    )
    if len(indices) != config.batch_size:
        raise ConfigError(f"batch {step} of order has {len(indices)} examples, batch_size is {config.batch_size}")
    weights = (
        np.asarray(example_weights(step, indices), dtype=np.float64) if example_weights
        else np.full(config.batch_size, 1.0 / config.batch_size)
    )
    return indices, weights


def _optimisation_step(run: _Run, data: TrainData, config: TrainConfig, indices: np.ndarray, weights: np.ndarray,
                       lr: float) -> tuple[float, torch.Tensor, int]:
    """One optimiser step at ``lr`` on this process's share of the global batch: per micro-batch the
    per-example losses, weighted, go backward; after the last the gradient is clipped and applied.
    Returns the global batch's mean (unweighted) loss, the gradient norm before clipping, and the
    number of tokens this process ran."""
    accelerator, shape = run.accelerator, run.shape
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    local_indices = shape.share(indices, accelerator.process_index)
    local_weights = shape.share(weights, accelerator.process_index)
    loss_sum = torch.zeros((), device=accelerator.device)
    n_tokens = 0
    for m in range(shape.accum):
        micro = slice(m * shape.micro, (m + 1) * shape.micro)
        w = torch.as_tensor(local_weights[micro], device=accelerator.device, dtype=torch.float32)
        batch = {k: v.to(accelerator.device) for k, v in data.collate(local_indices[micro]).items()}
        labels = batch.pop("labels")
        with accelerator.accumulate(run.model):
            losses = run.model(labels=labels, **batch) if run.compact else per_example_loss(run.model(**batch).logits, labels)
            # DDP averages over processes and accelerate divides by accum: undo both so the
            # gradient is exactly that of sum_i w_i * loss_i over the global batch.
            accelerator.backward((losses * w).sum() * shape.world * shape.accum)
            if accelerator.sync_gradients:
                grad_norm = accelerator.clip_grad_norm_(run.model.parameters(), config.grad_clip)
            run.optimizer.step()
            run.optimizer.zero_grad(set_to_none=True)
        loss_sum += losses.detach().sum()
        n_tokens += int(batch["input_ids"].numel())
    loss = accelerator.reduce(loss_sum, reduction="sum") / config.batch_size
    return float(loss), grad_norm, n_tokens


def _stop_if_diverged(loss: float, step: int, run_dir: Path) -> None:
    """A non-finite loss ends the run, naming the step and the checkpoint to go back to."""
    if not math.isfinite(loss):
        good = latest_checkpoint(run_dir)
        raise TrainingDiverged(
            f"loss became {loss} at step {step}; last good checkpoint: "
            f"{good or 'none (set checkpoint_every)'}. Lower lr or check the data."
        )


def _step_record(step: int, loss: float, lr: float, grad_norm: torch.Tensor, speed: dict, indices: np.ndarray,
                 data: TrainData) -> dict:
    """One line of records.jsonl; ``step`` counts the optimiser steps done, the ids name the examples
    (and the documents each was cut from) that the step saw."""
    return {"step": step, "loss": loss, "lr": lr, "grad_norm": float(grad_norm), **speed,
            "example_ids": [int(i) for i in indices], "doc_ids": [data.example_ids(int(i)) for i in indices]}


def _finish(run: _Run, config: TrainConfig, run_dir: Path, spec: dict, *, resumed_from: int | None,
            evaluate: Callable[[int], dict | None], throughput: _Throughput, timing: "StepTimer | None",
            tokenizer) -> TrainResult:
    """The final evaluation and checkpoint (a rerun of a finished run reads its final evaluation from
    disk instead), then train_meta.json, the samples, the timing line, and the result."""
    finished_before = resumed_from == config.steps
    final_rows = [row for row in _jsonl_rows(run_dir / "evals.jsonl") if row["step"] == config.steps] if finished_before else []
    final_eval = final_rows[-1] if final_rows else evaluate(config.steps)
    if config.checkpoint_every and config.steps % config.checkpoint_every and not finished_before:
        save_checkpoint(run.accelerator, run_dir, config.steps, config, spec)
    run.accelerator.wait_for_everyone()
    meta = {"device": device_name(run.accelerator.device), "precision": run.precision, "world_size": run.shape.world,
            "flops_per_token": throughput.flops_per_token, "peak_flops": throughput.peak, "config": asdict(config)}
    samples = []
    if tokenizer is not None and config.sample_prompts:
        samples = generate_samples(run.raw_model, tokenizer, config.sample_prompts, config.sample_tokens, seed=config.seed)
    if run.accelerator.is_main_process:
        (run_dir / "train_meta.json").write_text(json.dumps(meta, indent=2))
        if timing:
            timing.write(seq_len=throughput.seq_len, flops_per_token=throughput.flops_per_token, device=meta["device"])
        if samples:
            (run_dir / "samples.json").write_text(json.dumps(dict(zip(config.sample_prompts, samples)), indent=2))
    return TrainResult(
        model=run.raw_model,
        records=_read_jsonl(run_dir / "records.jsonl"),
        evals=_read_jsonl(run_dir / "evals.jsonl"),
        final_eval=final_eval,
        run_dir=run_dir,
        resumed_from=resumed_from,
        config=config,
        samples=samples,
    )


@_holding_run_lock
@_deterministic_on_cpu
def train(
    model: torch.nn.Module,
    data: TrainData,
    config: TrainConfig,
    run_dir: "str | os.PathLike",
    *,
    val_data: TrainData | None = None,
    order: Sequence[Sequence[int]] | None = None,
    example_weights: Callable[[int, np.ndarray], np.ndarray] | None = None,
    callbacks: Sequence[Callable[[StepInfo], None]] = (),
    resume: bool = True,
    tokenizer=None,
) -> TrainResult:
    """Train ``model`` on ``data`` and return records, evaluations and the model.

    order: explicit global batches (a list of example-index lists, one per step); ``config.steps``
        must equal its length. Default: seeded shuffled epochs (``batch_indices``).
    example_weights: ``f(step, indices) -> weights`` over the global batch (sum 1 for a mean);
        default uniform. The step loss is sum_i w_i * loss_i (per-example mean token loss).
    callbacks: called on every process after each optimiser step with a ``StepInfo``.
    resume: continue from the run folder's newest intact checkpoint if there is one (its settings,
        data and model shapes must match: a ConfigError names what changed); a run whose final
        checkpoint exists returns its result without training or evaluating again. Whenever a run
        starts at step 0 in a folder that holds another run, that run is first moved to
        ``<parent>/.<name>.replaced-<time>-<random>``. A second process on the same folder gets a
        ConfigError naming the first.
    tokenizer: with ``config.sample_prompts``, text is sampled at the end (seeded) into ``samples.json``.
    """
    run_dir = Path(run_dir)
    timing = StepTimer.from_environment(run_dir, config)
    callbacks = [*callbacks, timing] if timing else callbacks
    _check_inputs(data, config, order)
    seed_everything(config.seed, deterministic=False)  # the switch is _deterministic_on_cpu's
    run = _set_up(model, config, _BatchShape.of(config))
    resumed_from, spec = _resume(run, data, config, run_dir, resume)
    start_step = resumed_from or 0
    throughput = _Throughput.of(run, data)
    evaluate = functools.partial(_evaluate, run, val_data, config, run_dir)
    if start_step == 0 and config.eval_every:
        evaluate(0)

    run.model.train()
    with _step_log(run_dir, config, start_step, run.accelerator.is_main_process) as log:
        for step in range(start_step, config.steps):  # step: 0-based; done: optimiser steps done after it
            started = time.perf_counter()
            lr = learning_rate(step, config)
            indices, weights = _global_batch(step, len(data), config, order, example_weights)
            loss, grad_norm, n_tokens = _optimisation_step(run, data, config, indices, weights, lr)
            done = step + 1
            _stop_if_diverged(loss, done, run_dir)
            speed = throughput(n_tokens, time.perf_counter() - started)
            record = _step_record(done, loss, lr, grad_norm, speed, indices, data)
            log(record)
            if config.eval_every and done % config.eval_every == 0 and done < config.steps:
                evaluate(done)
            for callback in callbacks:
                callback(StepInfo(done, run.raw_model, record, run.accelerator))
            if config.checkpoint_every and done % config.checkpoint_every == 0:
                save_checkpoint(run.accelerator, run_dir, done, config, spec)

    return _finish(run, config, run_dir, spec, resumed_from=resumed_from, evaluate=evaluate,
                   throughput=throughput, timing=timing, tokenizer=tokenizer)


class StepTimer:
    """With ``MINI_LIB_TIMING_LOG`` set, one JSON line per ``train()`` call says how long its steps took
    (callbacks and evaluations included, compilation in the first step): the GPU acceptance run
    (``mini_lib.acceptance``) projects a full profile's wall time from these lines."""

    def __init__(self, log: Path, run_dir: Path, config: TrainConfig):
        self.log, self.run_dir, self.config = log, run_dir, config
        self.started = time.perf_counter()
        self.stamps: list[float] = []

    @classmethod
    def from_environment(cls, run_dir: Path, config: TrainConfig) -> "StepTimer | None":
        log = os.environ.get("MINI_LIB_TIMING_LOG")
        return cls(Path(log), run_dir, config) if log else None

    def __call__(self, info: StepInfo) -> None:
        self.stamps.append(time.perf_counter())

    def write(self, **facts: Any) -> None:
        if not self.stamps:
            return
        gaps = np.diff(self.stamps)
        cuda = torch.cuda.is_available()
        line = {"run_dir": str(self.run_dir.resolve()), "steps_run": len(self.stamps), "steps_planned": self.config.steps,
                "batch_size": self.config.batch_size, **facts,
                "first_step_s": self.stamps[0] - self.started,  # set-up, compilation and the first step
                # the median: one-off work at a step (a zero-shot test at the last) is counted once, in wall_s
                "step_s": float(np.median(gaps)) if len(gaps) else self.stamps[0] - self.started,
                "wall_s": time.perf_counter() - self.started,
                # the process's peak so far: a notebook's largest line is its peak up to its last training call
                "peak_gpu_gb": torch.cuda.max_memory_allocated() / 2**30 if cuda else None}
        with self.log.open("a") as f:
            f.write(json.dumps(line) + "\n")


def save_checkpoint(accelerator: Accelerator, run_dir: Path, step: int, config: TrainConfig, spec: dict) -> Path:
    """Write a checkpoint atomically: save into a temp folder with a manifest of checksums (written
    last), rename it into place, then move the ``latest`` pointer (itself replaced atomically), then
    prune. A crash at any point leaves the previous checkpoint intact and ``latest`` naming it."""
    checkpoints = run_dir / "checkpoints"
    final = checkpoints / f"step_{step:08d}"
    tmp = checkpoints / f".tmp_step_{step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        checkpoints.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        state = {"step": step, "config": asdict(config), "spec": spec}
        (tmp / "trainer_state.json").write_text(json.dumps(state))
        files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        (tmp / MANIFEST).write_text(json.dumps({"files": files}))
        # A folder of this step exists only if it failed verification when this run resumed from an
        # older one (resume takes the newest intact step_*), so ``latest`` never names an intact one here.
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        pointer_tmp = checkpoints / ".latest.tmp"
        pointer_tmp.write_text(final.name)
        os.replace(pointer_tmp, checkpoints / "latest")
        old = sorted(p for p in checkpoints.glob("step_*") if p != final)
        for stale in old[: max(0, len(old) - (config.keep_checkpoints - 1))]:
            shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final
