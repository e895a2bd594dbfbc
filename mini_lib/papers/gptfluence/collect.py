"""Training-dynamics collection on the one training loop, stored in the GPTDynamics layout.

GPTfluence (arXiv 2404.07840) learns from fine-tuning runs: each run samples 128 of a 200-example
pool, trains batch 4 for 3 epochs (96 steps), and records every test example's metric after EVERY
step. Here each run is one call of ``mini_lib.core.train.train`` with

* ``order=``: the run's batches (``synthetic.sample_batches``: sample, reshuffle every epoch);
* ``callbacks=``: after every step, the per-example mean loss over target tokens of every test
  example (batched, no grad, ``model.eval()`` then back to ``train()``), plus BLEU / ROUGE-L of
  greedy outputs for generation tasks; at steps 0, k, 2k, ... (``tracin_every``) the per-example
  output-layer gradients of the pool and the test set (``tracin.output_layer_grads``, randomly
  projected) for TracIn-CP (Grad-Dot uses step 0 only).

Every run starts from the same base weights, so the value before training (step 0) and the step-0
gradients are computed once per task. The batches and learning rates written to
``train_samples_id.json`` are read back from the loop's own records, and runs are written with
``gptdynamics.write_task`` / ``write_run`` so ``read_task`` reads ours and the paper's release alike.
Collection is resumable and spec-checked through the artefact store (``mini_lib.core.store``): the folder
records what it is collected with (other settings are a ConfigError), and each run (and step 0) is an
artefact committed with one rename, so finished runs are reused on re-run and an interrupted one
never counts as finished. For the unseen-training-example study, all runs but
the last ``holdout_runs`` draw from the pool without its last ``holdout_train`` examples.

The base model is a small Pythia-architecture model pre-trained on storyworld through the same loop
(``pretrain_base_model``), or any local checkpoint (``load_base_model``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import IGNORE_INDEX, eval_mode
from mini_lib.core.examples import ExampleSet
from mini_lib.core.hardware import resolve_device
from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.recipe import prepare_lm_data
from mini_lib.core.store import Spec, claim, named, tensors_fingerprint
from mini_lib.core.train import StepInfo, TrainConfig, train
from mini_lib.papers.gptfluence.data import FineTuneTask
from mini_lib.papers.gptfluence.generation import greedy_continuations, text_scores
from mini_lib.papers.gptfluence.gptdynamics import (
    Example,
    Run,
    TaskDynamics,
    read_file_ids,
    read_task,
    write_run,
    write_task,
)
from mini_lib.papers.gptfluence.synthetic import sample_batches
from mini_lib.papers.gptfluence.tracin import CheckpointGradients, GradientProjection, output_layer_grads

DONE_FILE = "done.json"
GRADS_FILE = "tracin_grads.npz"
COLLECT_VERSION = 1  # bump when collection changes what a run or step 0 records


@dataclass(frozen=True)
class PretrainConfig:
    """The base model: a Pythia-architecture shape pre-trained on storyworld by the training loop."""

    n_documents: int = 20_000
    vocab_size: int = 2048
    seq_len: int = 128
    n_layers: int = 2
    d_model: int = 64
    n_heads: int = 4
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3
    tier: str = "simple"
    precision: str = "auto"
    seed: int = 0

    @property
    def shape(self) -> ModelShape:
        return ModelShape(self.n_layers, self.d_model, self.n_heads)


@dataclass(frozen=True)
class CollectConfig:
    """How each fine-tuning run trains and what it records (defaults: the paper's run shape)."""

    n_sampled: int = 128  # training examples per run, drawn from the pool
    batch_size: int = 4
    epochs: int = 3
    lr: float = 1e-4
    min_lr_ratio: float = 0.1  # cosine decay to lr * min_lr_ratio (1.0: constant)
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_len: int = 128  # tokens per example; prompts lose tokens from the left
    eval_batch_size: int = 32
    max_new_tokens: int = 32  # greedy output length for BLEU / ROUGE-L
    tracin_every: int = 0  # 0: no gradients; k: output-layer gradients at steps 0, k, 2k, ... < T
    grad_k_vocab: int = 32  # random projection of each (vocab x hidden) gradient to k_vocab x k_hidden
    grad_k_hidden: int = 32
    holdout_train: int = 0  # the last this-many pool examples are left out of all runs but the last holdout_runs
    holdout_runs: int = 0
    precision: str = "fp32"
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_sampled", "batch_size", "epochs", "max_len", "eval_batch_size", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_sampled % self.batch_size:
            raise ConfigError(f"n_sampled ({self.n_sampled}) must be a multiple of batch_size ({self.batch_size})")
        if self.tracin_every < 0 or self.holdout_train < 0 or self.holdout_runs < 0:
            raise ConfigError("tracin_every, holdout_train and holdout_runs must be >= 0")

    @property
    def steps(self) -> int:
        """Optimiser steps per run: epochs x n_sampled / batch_size (3 x 128 / 4 = 96 in the paper)."""
        return self.epochs * self.n_sampled // self.batch_size

    def checkpoint_steps(self) -> list[int]:
        """Steps at which gradients are recorded: 0, k, 2k, ... before the last step."""
        return list(range(0, self.steps, self.tracin_every)) if self.tracin_every else []


@dataclass
class BaseModel:
    """The weights every run starts from, its tokenizer, and where they came from."""

    model: torch.nn.Module
    tokenizer: object
    description: str
    path: Path | None = None
    pretrain_eval: dict | None = None


@dataclass
class CollectedTask:
    """A collected task: its examples, the runs read back from disk, gradients and timings."""

    task: FineTuneTask
    dynamics: TaskDynamics
    folder: Path
    config: CollectConfig
    timing: pd.DataFrame  # one row per run: seconds training, recording metrics, recording gradients
    step0_grad_seconds: float = 0.0
    _grads: dict = field(default_factory=dict, repr=False)

    @property
    def runs(self) -> list[Run]:
        return self.dynamics.runs

    def regular_runs(self) -> list[Run]:
        """Runs drawn from the (possibly reduced) pool: the ones simulators are fitted and judged on."""
        n = len(self.runs) - self.config.holdout_runs
        return self.runs[:n]

    def full_pool_runs(self) -> list[Run]:
        """The last ``holdout_runs`` runs, which may train on the held-out pool examples."""
        return self.runs[len(self.runs) - self.config.holdout_runs:]

    def holdout_train_ids(self) -> list[int]:
        n = self.config.holdout_train
        return self.task.train_ids[len(self.task.train_ids) - n:] if n else []

    def gradients(self, run_id: str) -> CheckpointGradients:
        """Checkpoint gradients of one run (step 0 shared by all runs, then the run's own)."""
        if not self.config.tracin_every:
            raise ConfigError("no gradients were recorded: collect with tracin_every > 0 for TracIn-CP / Grad-Dot")
        if run_id not in self._grads:
            first = np.load(self.folder / "step0" / GRADS_FILE)
            own = np.load(self.folder / run_id / GRADS_FILE)
            self._grads[run_id] = CheckpointGradients(
                steps=[0, *own["steps"].tolist()],
                train=np.concatenate([first["train"], own["train"]]),
                test=np.concatenate([first["test"], own["test"]]),
                train_ids=self.task.train_ids,
                test_ids=self.task.test_ids,
            )
        return self._grads[run_id]


# --- the base model -------------------------------------------------------------------------------


def pretrain_base_model(config: PretrainConfig, folder: str | Path, *, progress: bool = False) -> BaseModel:
    """Pre-train (or load, when ``folder/model`` holds one made with ``config``) a Pythia-shaped model on
    storyworld; a model there made with other settings is a ConfigError."""
    folder = Path(folder)
    description = (f"Pythia-architecture {config.n_layers} layers x d {config.d_model}, pre-trained on "
                   f"{config.n_documents:,} storyworld stories for {config.steps} steps")

    def build(tmp: Path) -> BaseModel:
        data = prepare_lm_data(n_stories=config.n_documents, vocab_size=config.vocab_size, seq_len=config.seq_len,
                               seed=config.seed, tier=config.tier)
        model = build_model(neox_config(config.shape, len(data.tokenizer), config.seq_len), seed=config.seed)
        result = train(
            model, data.train,
            TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr, precision=config.precision,
                        eval_examples=256, seed=config.seed, progress=progress),
            folder / "train", val_data=data.val,
        )
        result.model.save_pretrained(tmp)
        data.tokenizer.save_pretrained(tmp)
        (tmp / "pretrain.json").write_text(json.dumps({"config": asdict(config), "final_eval": result.final_eval}, indent=1))
        return BaseModel(result.model.cpu(), data.tokenizer, description, folder / "model", result.final_eval)

    def load(target: Path) -> BaseModel:
        base = load_base_model(target)
        info = json.loads((target / "pretrain.json").read_text())
        return BaseModel(base.model, base.tokenizer, description, target, info["final_eval"])

    return named(folder / "model", Spec("base-model", COLLECT_VERSION, config), build).load(load)


def load_base_model(path: str | Path) -> BaseModel:
    """Any local GPT-NeoX checkpoint folder (e.g. a downloaded Pythia) with its tokenizer."""
    from transformers import AutoTokenizer, GPTNeoXForCausalLM

    path = Path(path)
    if not (path / "config.json").is_file():
        raise ConfigError(f"no model at {path}: give a folder holding config.json, the weights and a tokenizer")
    model = GPTNeoXForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.eos_token_id is None:
        raise ConfigError(f"the tokenizer in {path} has no end-of-text token")
    return BaseModel(model, tokenizer, f"checkpoint {path.name}", path)


# --- examples, batches, metrics -------------------------------------------------------------------


def example_set(tokenizer, examples: Sequence[Example], kind: str, max_len: int) -> ExampleSet:
    """Examples for the loop: prompt = end-of-text (a new document starts) + input; target = output,
    followed by end-of-text for generation tasks (so greedy outputs stop). Prompts that do not fit
    ``max_len`` lose tokens from the left."""
    if not examples:
        raise ConfigError("no examples")
    eos = tokenizer.eos_token_id
    backend = tokenizer.backend_tokenizer
    prompts = [e.ids for e in backend.encode_batch_fast([e.input for e in examples], add_special_tokens=False)]
    targets = [e.ids for e in backend.encode_batch_fast([e.output for e in examples], add_special_tokens=False)]
    if kind == "generation":
        targets = [t + [eos] for t in targets]
    if any(not t for t in targets):
        raise ConfigError("every example needs a non-empty target")
    if any(len(t) >= max_len for t in targets):
        raise ConfigError(f"a target is {max(len(t) for t in targets)} tokens long, max_len is {max_len}: raise max_len")
    prompts = [([eos] + p)[-(max_len - len(t)):] for p, t in zip(prompts, targets)]
    return ExampleSet([e.id for e in examples], prompts, targets, eos)


def run_batches(task: FineTuneTask, config: CollectConfig, n_runs: int) -> list[list[list[int]]]:
    """The batches (example ids) of every run: sample ``n_sampled`` of the pool, reshuffle each epoch."""
    pool = np.array(task.train_ids)
    reduced = pool[: len(pool) - config.holdout_train]
    if config.holdout_runs > n_runs or (config.holdout_train and not config.holdout_runs):
        raise ConfigError(f"holdout_runs ({config.holdout_runs}) must be in [1, n_runs={n_runs}] when holdout_train > 0")
    if config.n_sampled > len(reduced):
        raise ConfigError(f"n_sampled={config.n_sampled} exceeds the pool of {len(reduced)} examples runs draw from")
    rng = np.random.default_rng([config.seed, 1])
    return [sample_batches(pool if r >= n_runs - config.holdout_runs else reduced, config.n_sampled, config.batch_size,
                           config.epochs, rng) for r in range(n_runs)]


@torch.no_grad()
def target_losses(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per-example mean loss over target tokens (labels != -100), as ``evaluate.per_example_loss``,
    with the output layer applied to target positions only (most positions are prompt)."""
    labels = batch["labels"][:, 1:]
    mask = labels != IGNORE_INDEX
    hidden = model.base_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    logits = model.get_output_embeddings()(hidden[:, :-1][mask]).float()
    losses = F.cross_entropy(logits, labels[mask], reduction="none")
    rows = torch.nonzero(mask)[:, 0]
    totals = torch.zeros(labels.shape[0], device=losses.device).index_add_(0, rows, losses)
    return totals / mask.sum(dim=1).clamp(min=1)


def evaluate_metrics(
    model: torch.nn.Module, tokenizer, test_set: ExampleSet, references: Sequence[str], metrics: Sequence[str],
    config: CollectConfig,
) -> dict[str, np.ndarray]:
    """Every metric of every test example, in ``test_set`` order (no grad, eval mode, restored)."""
    device = next(model.parameters()).device
    with eval_mode(model):
        losses = []
        for start in range(0, len(test_set), config.eval_batch_size):
            batch = test_set.collate(np.arange(start, min(start + config.eval_batch_size, len(test_set))))
            losses.append(target_losses(model, {k: v.to(device) for k, v in batch.items()}).cpu())
        out = {"loss": torch.cat(losses).double().numpy()}
        if any(m != "loss" for m in metrics):
            prompts = test_set.prompt_ids
            outputs = greedy_continuations(model, prompts, eos_id=tokenizer.eos_token_id,
                                           max_new_tokens=config.max_new_tokens, batch_size=config.eval_batch_size)
            texts = tokenizer.batch_decode(outputs, skip_special_tokens=True)
            scores = text_scores([t.strip() for t in texts], [r.strip() for r in references])
            out.update({m: np.asarray(scores[m], dtype=np.float64) for m in metrics if m != "loss"})
    return out


def example_gradients(model: torch.nn.Module, data: ExampleSet, projection: GradientProjection, batch_size: int) -> np.ndarray:
    """Projected output-layer gradients of every example of ``data`` (rows in its order)."""
    device = next(model.parameters()).device
    moved = GradientProjection(projection.vocab.to(device), projection.hidden.to(device))
    rows = []
    for start in range(0, len(data), batch_size):
        b = {k: v.to(device) for k, v in data.collate(np.arange(start, min(start + batch_size, len(data)))).items()}
        g = output_layer_grads(model, b["input_ids"], b["labels"] != IGNORE_INDEX, attention_mask=b["attention_mask"],
                               projection=moved, chunk_size=batch_size)
        rows.append(g.float().cpu().numpy())
    return np.concatenate(rows)


# --- collection -----------------------------------------------------------------------------------


def collect_task(
    task: FineTuneTask,
    base: BaseModel,
    config: CollectConfig,
    n_runs: int,
    folder: str | Path,
    *,
    log: Callable[[str], None] | None = print,
) -> CollectedTask:
    """Record ``n_runs`` fine-tuning runs of ``task`` from ``base`` into ``folder`` (resumable)."""
    if n_runs < 1:
        raise ConfigError(f"n_runs must be >= 1, got {n_runs}")
    spec = _spec(task, base, config, n_runs)
    folder = claim(folder, spec)
    if not (folder / "train.json").is_file():  # a folder begun before the official format keeps its own ids
        write_task(folder, TaskDynamics(task.train, task.test))
    ids = read_file_ids(folder)
    tokenizer = base.tokenizer
    pool = example_set(tokenizer, task.train, task.kind, config.max_len)
    test = example_set(tokenizer, task.test, task.kind, config.max_len)
    references = [e.output for e in task.test]
    projection = _projection(base.model, config)
    step0 = _step0(base, pool, test, references, task, config, projection, folder / "step0", spec)
    batches = run_batches(task, config, n_runs)
    position = {i: n for n, i in enumerate(pool.ids)}
    for r, run_batches_ in enumerate(batches):

        def collect_run(run_dir: Path) -> None:
            started = time.perf_counter()
            recorder = _Recorder(tokenizer, test, references, task.metrics, config, pool, projection)
            result = train(
                copy.deepcopy(base.model), pool, _train_config(config), run_dir / "train",
                order=[[position[i] for i in b] for b in run_batches_], callbacks=[recorder], resume=False,
            )
            records = result.records
            recorded = [[int(d[0]) for d in doc_ids] for doc_ids in records["doc_ids"]]
            if recorded != run_batches_:
                raise RuntimeError(f"run {r}: the training loop's records differ from the planned batches")
            trajectories = {m: np.column_stack([step0["metrics"][m], *[v[m] for v in recorder.values]]) for m in task.metrics}
            run = Run(f"run_{r}", recorded, trajectories, task.test_ids, first_step=0,
                      learning_rates=[float(x) for x in records["lr"]])
            write_run(run_dir, run, ids)
            if projection is not None:
                np.savez(run_dir / GRADS_FILE, steps=np.array(recorder.grad_steps, dtype=np.int64),
                         train=np.stack(recorder.train_grads), test=np.stack(recorder.test_grads))
            seconds = time.perf_counter() - started
            timing = {"run_id": run.run_id, "seconds": seconds, "metric_seconds": recorder.metric_seconds,
                      "grad_seconds": recorder.grad_seconds, "steps": config.steps}
            (run_dir / DONE_FILE).write_text(json.dumps(timing))
            if log:
                log(f"{task.name} run {r + 1}/{n_runs}: {seconds:.1f} s (metrics {recorder.metric_seconds:.1f} s, "
                    f"gradients {recorder.grad_seconds:.1f} s)")

        named(folder / f"run_{r}", Spec("dynamics-run", COLLECT_VERSION, {"run": r, **spec.settings}, spec.data),
              collect_run)
    return load_collected(task, folder, config)


def load_collected(task: FineTuneTask, folder: str | Path, config: CollectConfig) -> CollectedTask:
    """Read a collected task folder back (``read_task`` plus gradients and timings)."""
    folder = Path(folder)
    incomplete = [p.name for p in folder.glob("run_*") if not (p / DONE_FILE).is_file()]
    if incomplete:
        raise ConfigError(f"runs {incomplete} in {folder} are incomplete: run collect_task again to finish them")
    dynamics = read_task(folder)
    timing = pd.DataFrame([json.loads((folder / r.run_id / DONE_FILE).read_text()) for r in dynamics.runs])
    step0 = json.loads((folder / "step0" / "step0.json").read_text())
    return CollectedTask(task, dynamics, folder, config, timing, step0.get("grad_seconds", 0.0))


def finetune(
    base: BaseModel, task: FineTuneTask, train_ids: Sequence[int], config: CollectConfig, run_dir: str | Path, *, seed: int = 0,
) -> torch.nn.Module:
    """Fine-tune a copy of the base model on ``train_ids`` for ``config.epochs`` shuffled epochs
    (batch ``config.batch_size``; a last partial batch is dropped) through the training loop."""
    ids = set(train_ids)
    chosen = [e for e in task.train if e.id in ids]
    if len(chosen) < config.batch_size:
        raise ConfigError(f"need at least batch_size={config.batch_size} training examples of the pool, got {len(chosen)}")
    data = example_set(base.tokenizer, chosen, task.kind, config.max_len)
    rng = np.random.default_rng([seed, 2])
    per_epoch = len(chosen) // config.batch_size
    order = []
    for _ in range(config.epochs):
        perm = rng.permutation(len(chosen))
        order += [perm[k * config.batch_size:(k + 1) * config.batch_size].tolist() for k in range(per_epoch)]
    cfg = _train_config(config, steps=len(order))
    return train(copy.deepcopy(base.model), data, cfg, run_dir, order=order, resume=False).model


# --- helpers --------------------------------------------------------------------------------------


class _Recorder:
    """The callback: metrics after every step, gradients at the checkpoint steps."""

    def __init__(self, tokenizer, test: ExampleSet, references, metrics, config: CollectConfig, pool: ExampleSet, projection):
        self.tokenizer, self.test, self.references, self.metrics = tokenizer, test, references, metrics
        self.config, self.pool, self.projection = config, pool, projection
        self.checkpoints = set(config.checkpoint_steps()) - {0}
        self.values: list[dict[str, np.ndarray]] = []
        self.grad_steps: list[int] = []
        self.train_grads: list[np.ndarray] = []
        self.test_grads: list[np.ndarray] = []
        self.metric_seconds = self.grad_seconds = 0.0

    def __call__(self, info: StepInfo) -> None:
        started = time.perf_counter()
        self.values.append(evaluate_metrics(info.model, self.tokenizer, self.test, self.references, self.metrics, self.config))
        self.metric_seconds += time.perf_counter() - started
        if self.projection is not None and info.step in self.checkpoints:
            started = time.perf_counter()
            self.grad_steps.append(info.step)
            self.train_grads.append(example_gradients(info.model, self.pool, self.projection, self.config.eval_batch_size))
            self.test_grads.append(example_gradients(info.model, self.test, self.projection, self.config.eval_batch_size))
            self.grad_seconds += time.perf_counter() - started


def _train_config(config: CollectConfig, steps: int | None = None) -> TrainConfig:
    return TrainConfig(
        steps=steps or config.steps, batch_size=config.batch_size, lr=config.lr, min_lr_ratio=config.min_lr_ratio,
        warmup_steps=config.warmup_steps, weight_decay=config.weight_decay, precision=config.precision,
        device=config.device, seed=config.seed, progress=False, log_every=10**9,
    )


def _projection(model: torch.nn.Module, config: CollectConfig) -> GradientProjection | None:
    if not config.tracin_every:
        return None
    vocab, hidden = model.get_output_embeddings().weight.shape
    return GradientProjection.create(vocab, hidden, config.grad_k_vocab, config.grad_k_hidden, seed=config.seed)


def _step0(base: BaseModel, pool, test, references, task: FineTuneTask, config: CollectConfig, projection,
           folder: Path, spec: Spec) -> dict:
    """Metrics (and gradients) of the base model: step 0 of every run, computed once."""
    def build(tmp: Path) -> dict:
        model = copy.deepcopy(base.model).to(resolve_device(config.device))
        metrics = evaluate_metrics(model, base.tokenizer, test, references, task.metrics, config)
        grad_seconds = 0.0
        if projection is not None:
            started = time.perf_counter()
            train_grads = example_gradients(model, pool, projection, config.eval_batch_size)
            test_grads = example_gradients(model, test, projection, config.eval_batch_size)
            grad_seconds = time.perf_counter() - started
            np.savez(tmp / GRADS_FILE, steps=np.array([0]), train=train_grads[None], test=test_grads[None])
        (tmp / "step0.json").write_text(json.dumps({"metrics": {m: v.tolist() for m, v in metrics.items()},
                                                    "grad_seconds": grad_seconds}))
        return {"metrics": metrics}

    def load(path: Path) -> dict:
        saved = json.loads((path / "step0.json").read_text())
        return {"metrics": {m: np.asarray(v) for m, v in saved["metrics"].items()}}

    return named(folder, Spec("dynamics-step0", COLLECT_VERSION, spec.settings, spec.data), build).load(load)


def _spec(task: FineTuneTask, base: BaseModel, config: CollectConfig, n_runs: int) -> Spec:
    """What a collection folder is made with: re-running with other settings is an error, not a mix."""
    digest = hashlib.sha256()
    for e in task.train + task.test:
        digest.update(f"{e.id}\x00{e.input}\x00{e.output}\x01".encode())
    settings = {"task": task.name, "kind": task.kind, "config": config, "n_runs": n_runs}
    return Spec("dynamics-collection", COLLECT_VERSION, settings,
                {"examples": digest.hexdigest()[:16], "base": tensors_fingerprint(list(base.model.state_dict().values())[:4])})
