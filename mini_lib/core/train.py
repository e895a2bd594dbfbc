"""The one training loop: every experiment in this package trains through ``train()``.

Built on Accelerate, so the same code runs on a laptop CPU, one GPU, or many processes under
``accelerate launch`` / ``torchrun``. ``train()`` at the bottom reads as the algorithm: set up the
accelerator and AdamW, resume, then per step the learning rate, the global batch, one optimisation step
(gradient accumulation, weighted per-example loss, backward, clipping), a record, and at their intervals
an evaluation, the callbacks and a checkpoint. What it guarantees, because later notebooks depend on it:

* the data order and the learning rate are pure functions of the step (``train_config``): you can ask
  which examples step k saw, and resuming never replays or skips data;
* records per step (example ids, loss, lr, grad norm, tokens/s, MFU) in ``records.jsonl``;
* exact resume from atomic, checksummed checkpoints, one run per folder (``checkpoints``), and one
  writer per folder (``locking``);
* the same numbers on one process, many (data parallel), or fully sharded (FSDP, ``sharding``);
* hooks: per-example loss weights (optimal learning policies), an explicit batch order (fine-tuning runs
  for training dynamics), and callbacks after every step (per-example test losses, timing).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MethodType
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState
from accelerate.utils import convert_outputs_to_fp32, get_mixed_precision_context_manager

from mini_lib.core import neox, sharding
from mini_lib.core.checkpoints import StateIO, latest_checkpoint, read_frame, read_rows, resume_run, save_checkpoint
from mini_lib.core.errors import ConfigError, TrainingDiverged
from mini_lib.core.evaluate import evaluate_lm, generate_samples, per_example_loss
from mini_lib.core.hardware import device_name, resolve_device
from mini_lib.core.locking import holding_run_lock
from mini_lib.core.progress import progress_bar
from mini_lib.core.seeding import deterministic_on_cpu, seed_everything
from mini_lib.core.throughput import StepClock, Throughput
from mini_lib.core.train_config import (  # noqa: F401 - the loop's settings and schedule, imported from here too
    PRECISIONS,
    RESUMABLE_CHANGES,
    BatchShape,
    TrainConfig,
    TrainData,
    batch_indices,
    check_inputs,
    learning_rate,
    resolve_precision,
)


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


# --- the parts of the loop, in the order train() runs them ------------------------------------------

@dataclass(frozen=True)
class _Run:
    """What set-up builds: the accelerator, the optimiser, the two views of the model, its checkpoint I/O."""

    accelerator: Accelerator
    model: torch.nn.Module  # what trains, prepared by Accelerate: neox.CompactNeoX or the caller's model
    raw_model: torch.nn.Module  # the caller's model (sharded in place under FSDP): evaluation, callbacks, samples
    optimizer: torch.optim.Optimizer
    compact: bool  # model(labels=..., ...) returns per-example losses itself (neox.CompactNeoX)
    shape: BatchShape
    precision: str  # as train_meta.json names it: fp32, bf16 or fp16
    io: StateIO  # full state dicts through Accelerate, or each process's shards (FSDP)


def _set_up(model: torch.nn.Module, config: TrainConfig, shape: BatchShape) -> _Run:
    """The accelerator (device, precision, accumulation, compilation), AdamW, and the model it trains.
    GPT-NeoX trains through our compact forward + loss (same parameters, same state_dict keys), except
    under FSDP, whose gathers run in the layers' own forward (``sharding``)."""
    use_cuda = resolve_device(config.device) == "cuda"
    # A notebook trains many models in one process: forget the previous run's precision and
    # accumulation (the process group, held by PartialState, is kept).
    AcceleratorState._reset_state()
    GradientState._reset_state()
    accelerator = Accelerator(
        cpu=not use_cuda,
        mixed_precision=resolve_precision(config, use_cuda),
        gradient_accumulation_steps=shape.accum,
        dynamo_backend="inductor" if config.compile else None,
    )
    precision = "fp32" if accelerator.mixed_precision == "no" else accelerator.mixed_precision
    fsdp = sharding.requested(accelerator)  # the launcher's FSDP settings, or None
    compact = fsdp is None and neox.supports(model)
    make_optimizer = functools.partial(build_optimizer, config=config, fused=True)  # fused AdamW: CPU and CUDA
    if fsdp:  # shards the model in place, then builds AdamW over the shards
        trained, optimizer, io = sharding.prepare(accelerator, model, fsdp, make_optimizer)
    else:
        trained, optimizer = accelerator.prepare(neox.CompactNeoX(model) if compact else model, make_optimizer(model))
        io = StateIO.of(accelerator)
    if compact or fsdp:
        _autocast_forward(model, accelerator)
    return _Run(accelerator, trained, model, optimizer, compact, shape, precision, io)


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
            evaluate: Callable[[int], dict | None], throughput: Throughput, clock: StepClock, tokenizer) -> TrainResult:
    """The final evaluation and checkpoint (a rerun of a finished run reads its final evaluation from
    disk instead), then train_meta.json (with the call's timing), the samples, and the result."""
    finished_before = resumed_from == config.steps
    final_rows = [row for row in read_rows(run_dir / "evals.jsonl") if row["step"] == config.steps] if finished_before else []
    final_eval = final_rows[-1] if final_rows else evaluate(config.steps)
    if config.checkpoint_every and config.steps % config.checkpoint_every and not finished_before:
        save_checkpoint(run.accelerator, run_dir, config.steps, config, spec, run.io)
    run.accelerator.wait_for_everyone()
    meta = {"device": device_name(run.accelerator.device), "precision": run.precision, "world_size": run.shape.world,
            "seq_len": throughput.seq_len, "flops_per_token": throughput.flops_per_token, "peak_flops": throughput.peak,
            "timing": clock.summary(), "config": asdict(config),
            "fsdp": sharding.describe(run.raw_model) if run.io.layout == "sharded" else None}
    samples = []
    if tokenizer is not None and config.sample_prompts:
        samples = generate_samples(run.raw_model, tokenizer, config.sample_prompts, config.sample_tokens, seed=config.seed)
    if run.accelerator.is_main_process:
        (run_dir / "train_meta.json").write_text(json.dumps(meta, indent=2))
        if samples:
            (run_dir / "samples.json").write_text(json.dumps(dict(zip(config.sample_prompts, samples)), indent=2))
    return TrainResult(
        model=run.raw_model,
        records=read_frame(run_dir / "records.jsonl"),
        evals=read_frame(run_dir / "evals.jsonl"),
        final_eval=final_eval,
        run_dir=run_dir,
        resumed_from=resumed_from,
        config=config,
        samples=samples,
    )


@holding_run_lock
@deterministic_on_cpu
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
    clock = StepClock()
    callbacks = [*callbacks, clock]
    check_inputs(data, config, order)
    seed_everything(config.seed, deterministic=False)  # the switch is deterministic_on_cpu's
    run = _set_up(model, config, BatchShape.of(config))
    resumed_from, spec = resume_run(run.accelerator, run.raw_model, data, config, run_dir, resume, run.io)
    start_step = resumed_from or 0
    throughput = Throughput.of(run.raw_model, data, run.accelerator.device, run.precision, run.shape.world)
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
                save_checkpoint(run.accelerator, run_dir, done, config, spec, run.io)

    return _finish(run, config, run_dir, spec, resumed_from=resumed_from, evaluate=evaluate,
                   throughput=throughput, clock=clock, tokenizer=tokenizer)
