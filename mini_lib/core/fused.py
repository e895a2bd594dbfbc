"""Train same-shape GPT-NeoX cells together: K models as one stacked model, one optimiser step for all.

Why: a grid's small models leave a GPU idle while the host launches each model's kernels one model at a
time (0.3-1.8% MFU measured). Stacked, K models cost one model's kernel launches, each kernel K times
larger (the idea of HFTA, MLSys 2021). On a CPU the arithmetic is the same either way, so expect little.

What stays per cell is everything that decides its numbers, so a cell's results equal training it alone
with ``train()`` (fp32 on a CPU: losses to 1e-5, tested): its initial weights, data and data order, loss
weights, learning-rate schedule, AdamW settings and state, gradient clipping (each cell's gradient norm
clips only that cell), and its run folder: the same records, evaluations, ``train_meta.json`` and
checkpoints, written by ``train``'s own parts, so a cell started alone resumes in a group and the other
way round.

The layout: every parameter of every cell is a view into one buffer of shape (K, P). Cell k's model keeps
its own ``nn.Parameter``s (views of row k), so evaluating, sampling and checkpointing a cell use that
cell's model exactly as ``train()`` does; the stacked forward reads the same memory as (K, *shape)
views; and AdamW, which is elementwise, is one step over (K, P) with each cell's lr, betas, eps and weight
decay as a (K, 1) column. ``StackedNeoX.loss`` is ``neox.CompactNeoX.forward`` with a leading cell
dimension: a batched matmul per linear layer and one attention call for all cells (``torch.func.vmap``
over ``CompactNeoX`` computes the same, but on a CPU its fallbacks ran slower than a loop of models).
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.checkpointing import load_accelerator_state, save_accelerator_state
from accelerate.state import AcceleratorState, GradientState
from accelerate.utils import SAFE_WEIGHTS_NAME
from safetensors.torch import load_file

from mini_lib.core import neox
from mini_lib.core.checkpoints import StateIO, prepare_run_dir, run_spec, save_checkpoint
from mini_lib.core.errors import CheckpointError, ConfigError
from mini_lib.core.evaluate import per_example_loss
from mini_lib.core.hardware import resolve_device
from mini_lib.core.locking import folder_lock
from mini_lib.core.seeding import deterministic_algorithms
from mini_lib.core.throughput import StepClock, Throughput
from mini_lib.core.train import (
    StepInfo,
    TrainResult,
    _autocast_forward,
    _evaluate,
    _finish,
    _global_batch,
    _Run,
    _step_log,
    _step_record,
    _stop_if_diverged,
    build_optimizer,
)
from mini_lib.core.train_config import BatchShape, TrainConfig, TrainData, learning_rate, resolve_precision

# Settings that must be the same for every cell of a group: one step of the stacked model runs them all.
SHARED = ("steps", "batch_size", "micro_batch_size", "precision", "compile", "device")
# Model config keys that record where a config has been (saving fills them in, also on a config object
# that several cells share), not what the model computes: never part of a cell's shape or spec.
MODEL_METADATA = {"architectures", "dtype", "torch_dtype", "transformers_version", "_name_or_path"}
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_'s: coefficient = max_norm / (norm + 1e-6)


@dataclass
class Job:
    """One cell to train in a group: what ``train()`` would be called with."""

    model: torch.nn.Module
    data: TrainData
    config: TrainConfig
    run_dir: Path
    val_data: TrainData | None = None
    order: Sequence[Sequence[int]] | None = None
    example_weights: Callable[[int, np.ndarray], np.ndarray] | None = None
    tokenizer: object = None


def fusion_key(model: torch.nn.Module, data: TrainData, config: TrainConfig, train_kwargs: dict) -> tuple | None:
    """Cells with equal keys can train together; None for a cell that must train alone: a model our
    compact forward does not cover, a compiled run, several processes, batches with more than tokens and
    labels, or ``train()`` options a group cannot honour (callbacks after every step, resume=False)."""
    if (not neox.supports(model) or config.compile or BatchShape.of(config).world > 1
            or set(train_kwargs) - {"order", "example_weights", "tokenizer"}):
        return None
    batch = data.collate([0])
    if set(batch) != {"input_ids", "labels"}:
        return None
    shape = {k: v for k, v in model.config.to_dict().items() if k not in MODEL_METADATA}
    return (json.dumps(shape, sort_keys=True, default=str), tuple(batch["input_ids"].shape[1:]),
            *(getattr(config, name) for name in SHARED))


class StackedNeoX:
    """K GPT-NeoX models of one shape whose parameters live in one (K, P) buffer (see the module
    docstring): the stacked forward, per-cell gradient clipping and the stacked AdamW step."""

    def __init__(self, models: Sequence[torch.nn.Module], device: torch.device, loss_by_cell: bool | None = None):
        # On a CPU the output layer and loss run cell by cell: all cells' (tokens, vocabulary) logits at once
        # fall out of the caches, and the loss over them ran 2.8x slower per element (4 cells, d 64, V 1024).
        self.loss_by_cell = device.type == "cpu" if loss_by_cell is None else loss_by_cell
        self.template = neox.CompactNeoX(models[0]).to(device)  # rotary tables, activation, layer count
        named = list(self.template.named_parameters())  # tied weights once (tied names resolve below)
        self.names = [name for name, _ in named]
        self.shapes = [p.shape for _, p in named]
        sizes = [p.numel() for _, p in named]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        k, total = len(models), self.offsets[-1]
        self.values = torch.empty(k, total, device=device)
        self.grads = torch.zeros(k, total, device=device)
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(self.values), torch.zeros_like(self.values)
        self.optimizer_steps = 0
        # AdamW decays matrices only (build_optimizer): a 0/1 mask over the P columns
        self.decay_mask = torch.cat([torch.full((n,), float(len(s) >= 2), device=device)
                                     for n, s in zip(sizes, self.shapes)])[None]
        self.stacked: dict[str, torch.nn.Parameter] = {}
        for index, (name, shape) in enumerate(zip(self.names, self.shapes)):
            columns = slice(self.offsets[index], self.offsets[index + 1])
            self.stacked[name] = torch.nn.Parameter(self.values[:, columns].view(k, *shape))
            self.stacked[name].grad = self.grads[:, columns].view(k, *shape)  # backward accumulates in place
        self._grad_views = [p.grad for p in self.stacked.values()]
        for row, model in enumerate(models):
            own = dict(neox.CompactNeoX(model).named_parameters())
            views = {}
            for index, name in enumerate(self.names):
                columns = slice(self.offsets[index], self.offsets[index + 1])
                self.values[row, columns] = own[name].detach().reshape(-1).to(device)
                views[own[name]] = torch.nn.Parameter(self.values[row, columns].view(self.shapes[index]))
            for module in model.modules():  # every module holding a parameter (tied ones too) gets the view
                for attr, param in list(module._parameters.items()):
                    if param is not None:
                        module._parameters[attr] = views[param]
            model.to(device)  # buffers; the parameters already are views on the device

    def row(self, cell: int, name: str, which: torch.Tensor) -> torch.Tensor:
        """Cell ``cell``'s slice of parameter ``name`` in one of the (K, P) buffers."""
        index = self.names.index(name)
        return which[cell, self.offsets[index]:self.offsets[index + 1]].view(self.shapes[index])

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        weight, bias = self.stacked[name + ".weight"], self.stacked[name + ".bias"]
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        eps = self.template.gpt_neox.final_layer_norm.eps
        normed = F.layer_norm(x, x.shape[-1:], eps=eps)
        return torch.addcmul(self.stacked[name + ".bias"].unsqueeze(1), normed, self.stacked[name + ".weight"].unsqueeze(1))

    def loss(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Per-example mean next-token loss (K, batch) of (K, batch, seq) tokens: ``CompactNeoX.forward``
        with the cells along the first dimension."""
        t = self.template
        cells, batch, seq = input_ids.shape
        embed = self.stacked["gpt_neox.embed_in.weight"]
        x = embed[torch.arange(cells, device=embed.device)[:, None, None], input_ids].view(cells, batch * seq, -1)
        for i, layer in enumerate(t.gpt_neox.layers):
            name = f"gpt_neox.layers.{i}."
            qkv = self._linear(self._norm(x, name + "input_layernorm"), name + "attention.query_key_value")
            qkv = qkv.view(cells * batch, seq, t.n_heads, 3 * t.head_dim)
            q, k = t.rotary(qkv[..., : 2 * t.head_dim]).transpose(1, 2).split(t.head_dim, dim=-1)
            v = qkv[..., 2 * t.head_dim:].transpose(1, 2)
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2)
            attn_out = self._linear(out.reshape(cells, batch * seq, -1), name + "attention.dense")

            def mlp(h: torch.Tensor) -> torch.Tensor:
                hidden = layer.mlp.act(self._linear(h, name + "mlp.dense_h_to_4h"))
                return self._linear(hidden, name + "mlp.dense_4h_to_h")

            if t.parallel_residual:  # the sums in CompactNeoX's (transformers') order
                x = mlp(self._norm(x, name + "post_attention_layernorm")) + attn_out + x
            else:
                x = attn_out + x
                x = mlp(self._norm(x, name + "post_attention_layernorm")) + x
        x = self._norm(x, "gpt_neox.final_layer_norm")
        head = self.stacked.get("lm_head.weight", embed)  # tied: the input embedding
        if self.loss_by_cell:
            return torch.stack([per_example_loss((x[c] @ head[c].T).view(batch, seq, -1), labels[c])
                                for c in range(cells)])
        logits = torch.bmm(x, head.transpose(1, 2)).view(cells * batch, seq, -1)
        return per_example_loss(logits, labels.reshape(cells * batch, seq)).view(cells, batch)

    def backward(self, loss: torch.Tensor) -> None:
        """Accumulate into the (K, P) gradient buffer (through its views: torch warns that they are not
        dense, which is the point); a backward that replaced a view instead would be a silent bug."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")
            loss.backward()
        if any(p.grad is not view for p, view in zip(self.stacked.values(), self._grad_views)):
            raise RuntimeError("a gradient left the stacked buffer: fused training cannot go on")

    def set_settings(self, configs: Sequence[TrainConfig]) -> None:
        """Each cell's clipping and AdamW settings as (K, 1) float64 columns on the device, made once."""
        def column(name: str) -> torch.Tensor:
            return torch.tensor([getattr(c, name) for c in configs], dtype=torch.float64, device=self.values.device)[:, None]

        self.settings = {name: column(name) for name in ("grad_clip", "beta1", "beta2", "eps", "weight_decay")}

    @torch.no_grad()
    def clip_and_step(self, lrs: Sequence[float]) -> torch.Tensor:
        """Clip each cell's gradient to its ``grad_clip`` by its own norm, then one AdamW step per cell
        (torch's fused AdamW, elementwise: decay, moments, bias corrections) with its own settings
        (``set_settings``) and rate. Returns each cell's gradient norm before clipping, (K,)."""
        s = self.settings
        norms = torch.linalg.vector_norm(self.grads, dim=1, keepdim=True)
        self.grads.mul_(torch.clamp(s["grad_clip"].float() / (norms + CLIP_EPS), max=1.0))
        self.optimizer_steps += 1
        step = self.optimizer_steps
        lr = torch.tensor(lrs, dtype=torch.float64)[:, None].to(self.values.device, non_blocking=True)
        self.values.mul_((1 - lr * s["weight_decay"]).float() * self.decay_mask + (1 - self.decay_mask))
        self.exp_avg.lerp_(self.grads, (1 - s["beta1"]).float())
        self.exp_avg_sq.mul_(s["beta2"].float()).add_((1 - s["beta2"]).float() * self.grads * self.grads)
        step_size = (lr / (1 - s["beta1"] ** step)).float()
        denom = (self.exp_avg_sq.sqrt() / ((1 - s["beta2"] ** step).sqrt()).float()).add_(s["eps"].float())
        self.values.addcdiv_(self.exp_avg * step_size, denom, value=-1.0)
        self.grads.zero_()
        return norms[:, 0]


class _CellState:
    """A cell's checkpoint I/O as ``train()`` writes it (Accelerate's files: the model's weights, AdamW's
    state, the random states): its AdamW is built as ``train()`` builds it and holds the cell's row of the
    stacked moments while it is saved or loaded."""

    def __init__(self, stack: StackedNeoX, cell: int, model: torch.nn.Module, config: TrainConfig, accum: int):
        self.stack, self.cell, self.config, self.accum = stack, cell, config, accum
        self.compact = neox.CompactNeoX(model)
        self.optimizer = build_optimizer(model, config, fused=True)
        names = {param: name for name, param in self.compact.named_parameters()}
        self.params = [(p, names[p]) for group in self.optimizer.param_groups for p in group["params"]]

    def io(self) -> StateIO:
        return StateIO(self.save, self.load, "full")

    def save(self, folder: str) -> None:
        stack = self.stack
        for param, name in self.params:
            self.optimizer.state[param] = {
                "step": torch.tensor(float(stack.optimizer_steps), device=param.device),
                "exp_avg": stack.row(self.cell, name, stack.exp_avg).clone(),
                "exp_avg_sq": stack.row(self.cell, name, stack.exp_avg_sq).clone(),
            }
        for group in self.optimizer.param_groups:  # as train() leaves it: the last step's rate
            group["lr"] = learning_rate(max(stack.optimizer_steps - 1, 0), self.config)
        clones: dict[int, torch.Tensor] = {}  # the weights are views of one buffer: save copies, ties kept
        weights = OrderedDict((k, clones.setdefault(v.data_ptr(), v.clone())) for k, v in self.compact.state_dict().items())
        Path(folder).mkdir(parents=True, exist_ok=True)
        save_accelerator_state(folder, [weights], [self.optimizer], [], [], 0, stack.optimizer_steps * self.accum)
        self.optimizer.state.clear()

    def load(self, folder: str) -> None:
        """The weights are copied into the cell's views (safetensors' own loader refuses parameters that
        share one buffer), the moments into the stack; the random states are restored as Accelerate does."""
        own = self.compact.state_dict(keep_vars=True)
        saved = load_file(Path(folder) / SAFE_WEIGHTS_NAME)
        untied = [name for name in own.keys() - saved.keys() if not any(own[name] is own[k] for k in saved)]
        if untied or saved.keys() - own.keys():
            raise ConfigError(f"{folder}: weights do not match the model (missing {untied}, "
                              f"unexpected {sorted(saved.keys() - own.keys())})")
        with torch.no_grad():
            for name, value in saved.items():
                own[name].copy_(value)
        load_accelerator_state(folder, [], [self.optimizer], [], [], 0, None, "cpu")
        for param, name in self.params:
            state = self.optimizer.state[param]
            self.stack.row(self.cell, name, self.stack.exp_avg).copy_(state["exp_avg"])
            self.stack.row(self.cell, name, self.stack.exp_avg_sq).copy_(state["exp_avg_sq"])
            self.stack.optimizer_steps = int(state["step"])
        self.optimizer.state.clear()


def _accelerator(config: TrainConfig, shape: BatchShape) -> Accelerator:
    """The accelerator ``train()`` would build for these settings (device, precision, accumulation)."""
    use_cuda = resolve_device(config.device) == "cuda"
    AcceleratorState._reset_state()
    GradientState._reset_state()
    return Accelerator(cpu=not use_cuda, mixed_precision=resolve_precision(config, use_cuda),
                       gradient_accumulation_steps=shape.accum)


def train_together(jobs: Sequence[Job]) -> list[TrainResult]:
    """Train ``jobs`` (equal ``fusion_key``s) as one stacked model; each job's results and run folder
    are those ``train(job.model, job.data, job.config, job.run_dir, ...)`` gives. Holds every run
    folder's lock, as ``train()`` does; cells resumed from different steps train as separate groups."""
    keys = {fusion_key(j.model, j.data, j.config, {"order": j.order}) for j in jobs}
    if len(keys) != 1 or None in keys:
        raise ConfigError("train_together needs cells of one shape and the same shared settings "
                          f"({', '.join(SHARED)}) that can train together (grid.fusion_key)")
    config = jobs[0].config
    with contextlib.ExitStack() as locks, deterministic_algorithms(resolve_device(config.device) != "cuda"):
        for job in jobs:
            locks.enter_context(folder_lock(job.run_dir))
        starts = []
        for job in jobs:  # as checkpoints.resume_run, for one process: pick each cell's checkpoint
            spec = {**run_spec(job.model, job.data), "layout": "full"}
            starts.append((prepare_run_dir(Path(job.run_dir), job.config, spec, resume=True), spec))
        results: dict[int, TrainResult] = {}
        for step in sorted({_checkpoint_step(c) for c, _ in starts}, key=lambda s: -1 if s is None else s):
            members = [i for i, (c, _) in enumerate(starts) if _checkpoint_step(c) == step]
            group = _train_group([jobs[i] for i in members], [starts[i] for i in members])
            results.update(zip(members, group))
    return [results[i] for i in range(len(jobs))]


def _checkpoint_step(checkpoint: Path | None) -> int | None:
    return None if checkpoint is None else json.loads((checkpoint / "trainer_state.json").read_text())["step"]


def _train_group(jobs: Sequence[Job], starts: Sequence[tuple[Path | None, dict]]) -> list[TrainResult]:
    """The loop of ``train()``, once for all cells: per step each cell's rate and batch, one stacked
    forward and backward per micro-batch, the stacked clip and AdamW step, then per cell its record,
    evaluation, callbacks (its clock) and checkpoint; at the end ``train()``'s own ``_finish`` per cell."""
    shape = BatchShape.of(jobs[0].config)
    accelerator = _accelerator(jobs[0].config, shape)
    precision = "fp32" if accelerator.mixed_precision == "no" else accelerator.mixed_precision
    stack = StackedNeoX([job.model for job in jobs], accelerator.device)
    stack.set_settings([job.config for job in jobs])
    runs, clocks, evaluate = [], [], []
    for cell, job in enumerate(jobs):
        _autocast_forward(job.model, accelerator)
        state = _CellState(stack, cell, job.model, job.config, shape.accum)
        runs.append(_Run(accelerator, state.compact, job.model, state.optimizer, True, shape, precision, state.io()))
        clocks.append(StepClock())
        evaluate.append(functools.partial(_evaluate, runs[cell], job.val_data, job.config, Path(job.run_dir)))
    resumed = []
    for run, (checkpoint, _) in zip(runs, starts):
        if checkpoint is not None:
            try:
                run.io.load(str(checkpoint))
            except Exception as err:
                raise CheckpointError(f"checkpoint {checkpoint} is intact but cannot be loaded ({type(err).__name__}): "
                                      "start over with resume=False (--no-resume)") from err
        resumed.append(_checkpoint_step(checkpoint))
    config, start = jobs[0].config, resumed[0] or 0
    throughputs = [Throughput.of(job.model, job.data, accelerator.device, precision, 1) for job in jobs]
    if start == 0:
        for job, evaluate_cell in zip(jobs, evaluate):
            if job.config.eval_every:
                evaluate_cell(0)
    with contextlib.ExitStack() as logs:
        log = [logs.enter_context(_step_log(Path(j.run_dir), j.config, start, True)) for j in jobs]
        for step in range(start, config.steps):
            started = time.perf_counter()
            lrs = [learning_rate(step, job.config) for job in jobs]
            batches = [_global_batch(step, len(j.data), j.config, j.order, j.example_weights) for j in jobs]
            losses, n_tokens = _stacked_backward(stack, jobs, batches, shape, accelerator)
            norms = stack.clip_and_step(lrs)
            losses, norms = torch.stack([losses / config.batch_size, norms]).tolist()  # the step's one host sync
            done = step + 1
            seconds = time.perf_counter() - started
            for cell, job in enumerate(jobs):
                _stop_if_diverged(losses[cell], done, Path(job.run_dir))
                record = _step_record(done, losses[cell], lrs[cell], norms[cell],
                                      throughputs[cell](n_tokens, seconds), batches[cell][0], job.data)
                log[cell](record)
                if job.config.eval_every and done % job.config.eval_every == 0 and done < config.steps:
                    evaluate[cell](done)
                clocks[cell](StepInfo(done, job.model, record, accelerator))
                if job.config.checkpoint_every and done % job.config.checkpoint_every == 0:
                    save_checkpoint(accelerator, Path(job.run_dir), done, job.config, starts[cell][1], runs[cell].io)
    results = []
    for cell, job in enumerate(jobs):
        result = _finish(runs[cell], job.config, Path(job.run_dir), starts[cell][1], resumed_from=resumed[cell],
                         evaluate=evaluate[cell], throughput=throughputs[cell], clock=clocks[cell], tokenizer=job.tokenizer)
        meta_file = Path(job.run_dir) / "train_meta.json"
        meta = json.loads(meta_file.read_text())
        meta["trained_together"] = len(jobs)  # its timing is the group's: one step trains every cell
        meta_file.write_text(json.dumps(meta, indent=2))
        results.append(replace(result, model=job.model))
    return results


def _stacked_backward(stack: StackedNeoX, jobs: Sequence[Job], batches: list[tuple[np.ndarray, np.ndarray]],
                      shape: BatchShape, accelerator: Accelerator) -> tuple[torch.Tensor, int]:
    """Per micro-batch each cell's examples, stacked; the weighted per-example losses go backward into
    the stacked gradient (the cells' losses are independent, so one backward gives each its own).
    Returns each cell's summed (unweighted) loss over the global batch, (K,), and tokens per cell."""
    device = accelerator.device
    loss_sum = torch.zeros(len(jobs), device=device)
    n_tokens = 0
    for m in range(shape.accum):
        micro = slice(m * shape.micro, (m + 1) * shape.micro)
        collated = [job.data.collate(indices[micro]) for job, (indices, _) in zip(jobs, batches)]
        input_ids = torch.stack([c["input_ids"] for c in collated]).to(device)
        labels = torch.stack([c["labels"] for c in collated]).to(device)
        weights = torch.as_tensor(np.stack([w[micro] for _, w in batches]), dtype=torch.float32, device=device)
        with accelerator.autocast():
            losses = stack.loss(input_ids, labels)
        stack.backward((losses * weights).sum())
        loss_sum += losses.detach().sum(dim=1)
        n_tokens += int(input_ids[0].numel())
    return loss_sum, n_tokens
