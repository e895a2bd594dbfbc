"""The experiment of arXiv 2404.02204 at our scale: the model grid and its runs, which turn the two
training sets (``data``) and the settings into raw results.

The paper trains the same 18 shapes on both training sets (36 models) and compares their zero-shot
accuracy on benchmarks filtered to the child vocabulary. Here:

* ``grid_shapes`` / ``grid_cells``: hidden {32..1024} x layers {2, 4, 8}, 8 heads, FFN 4x, untied
  embeddings, in GPT-NeoX blocks (the paper used Llama blocks: RMSNorm, SwiGLU, sequential
  residual; our core has one architecture, Pythia's). One epoch over the budget, AdamW (0.9, 0.95),
  weight decay 0.1, warmup then cosine, through ``grid.run_grid``; each model scores the zero-shot
  tasks at its last step (``ZeroShotAtEnd``), so the grid never keeps models in memory.
* ``data_size_cells``: one shape retrained on fractions of the budget, the points of the loss-vs-data
  law (each a full one-epoch cosine run, since the middle of a longer run is not a shorter run).
* ``read_zero_shot``: the zero-shot rows every grid cell wrote, one row per model and task.

Turning these into accuracies, size ratios and power laws is ``analysis``; the paper's numbers and
claims are ``paper``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.grid import GridCell
from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.paths import write_text_atomic
from mini_lib.core.train import StepInfo, TrainConfig
from mini_lib.core.zero_shot import ChoiceTask, evaluate_tasks
from mini_lib.papers.simplified_vocab.data import VARIANTS, EqualBudgetData

HIDDEN_SIZES = (32, 64, 128, 256, 512, 1024)
LAYER_COUNTS = (2, 4, 8)
N_HEADS = 8


# --- the model grid ---------------------------------------------------------------------------------


def grid_lr(hidden: int, base_lr: float) -> float:
    """Pythia's learning-rate ratios by width: base up to 512, x0.6 up to 768, x0.3 beyond."""
    return base_lr if hidden <= 512 else base_lr * (0.6 if hidden <= 768 else 0.3)


def grid_shapes(hidden_sizes=HIDDEN_SIZES, layer_counts=LAYER_COUNTS, n_heads: int = N_HEADS) -> list[ModelShape]:
    """The paper's shapes: every hidden size x every layer count (learning rates: ``grid_lr``)."""
    shapes = []
    for hidden in hidden_sizes:
        if hidden % n_heads:
            raise ConfigError(f"hidden size {hidden} is not divisible by n_heads={n_heads}")
        shapes.extend(ModelShape(layers, hidden, n_heads) for layers in layer_counts)
    return shapes


def shape_name(shape: ModelShape) -> str:
    """How cells and tables name a grid shape, e.g. ``h64-l4``."""
    return f"h{shape.d_model}-l{shape.n_layers}"


@dataclass(frozen=True)
class ZeroShotAtEnd:
    """A training callback: at step ``at_step``, score the task sets and write them to ``path`` (JSON)."""

    tokenizer: object
    task_sets: dict  # name -> {task -> [ChoiceTask]}
    path: Path
    at_step: int
    batch_size: int = 32

    def __call__(self, info: StepInfo) -> None:
        if info.step != self.at_step or not info.accelerator.is_main_process:
            return
        frames = [evaluate_tasks(info.model, self.tokenizer, tasks, self.batch_size).assign(task_set=name)
                  for name, tasks in self.task_sets.items()]
        rows = pd.concat(frames, ignore_index=True).to_dict(orient="records")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, json.dumps(rows, indent=1))


def one_epoch_config(base: TrainConfig, n_blocks: int, lr: float, warmup_fraction: float,
                     evals_per_run: int) -> TrainConfig:
    """The paper's schedule scaled to our budget: one epoch, warmup then cosine, a few evaluations."""
    steps = max(1, n_blocks // base.batch_size)
    return replace(base, steps=steps, lr=lr, warmup_steps=max(1, round(warmup_fraction * steps)),
                   eval_every=max(1, steps // evals_per_run) if evals_per_run else 0)


def grid_cells(
    data: EqualBudgetData,
    shapes: list[ModelShape],
    base: TrainConfig,
    run_dir: "str | os.PathLike",
    task_sets: dict[str, dict[str, list[ChoiceTask]]],
    *,
    warmup_fraction: float = 0.01,
    evals_per_run: int = 8,
    score_batch_size: int = 32,
    seed: int = 0,
) -> list[GridCell]:
    """Every shape on both training sets; each cell scores ``task_sets`` at its last step.

    ``base`` carries the optimiser settings (batch, betas, weight decay, precision...) and the base
    learning rate (scaled by width, ``grid_lr``); steps, warmup and evaluation points are set here:
    one epoch over the budget.
    """
    run_dir = Path(run_dir)
    cells = []
    for variant_name, variant in data.variants.items():
        vocab, seq_len = len(variant.tokenizer), variant.train.seq_len
        for shape in shapes:
            config = one_epoch_config(base, len(variant.train), grid_lr(shape.d_model, base.lr), warmup_fraction,
                                      evals_per_run)
            name = f"{variant_name}-{shape_name(shape)}"
            callback = ZeroShotAtEnd(variant.tokenizer, task_sets, run_dir / name / "zero_shot.json",
                                     config.steps, score_batch_size)
            cells.append(GridCell(
                name=name,
                tags={"data": variant_name, "hidden": shape.d_model, "layers": shape.n_layers},
                make_model=_model_maker(shape, vocab, seq_len, seed),
                train_data=variant.train, val_data=variant.val, config=config,
                train_kwargs={"callbacks": [callback]},
            ))
    return cells


def data_size_cells(data: EqualBudgetData, shape: ModelShape, fractions, base: TrainConfig,
                    *, variant: str = "simple", warmup_fraction: float = 0.01, evals_per_run: int = 8,
                    seed: int = 0) -> list[GridCell]:
    """One shape retrained on the first ``fraction`` of the budget: the points of the loss-vs-D law."""
    choose("data variant", variant, VARIANTS)
    chosen = data.variants[variant]
    cells = []
    for fraction in fractions:
        if not 0 < fraction < 1:
            raise ConfigError(f"data fractions must be in (0, 1) (the full budget is the grid's run), got {fraction}")
        blocks = chosen.train.head(max(1, int(fraction * len(chosen.train))))
        config = one_epoch_config(base, len(blocks), grid_lr(shape.d_model, base.lr), warmup_fraction, evals_per_run)
        cells.append(GridCell(
            name=f"{variant}-{shape_name(shape)}-D{fraction:g}",
            tags={"data": variant, "hidden": shape.d_model, "layers": shape.n_layers, "fraction": fraction},
            make_model=_model_maker(shape, len(chosen.tokenizer), chosen.train.seq_len, seed),
            train_data=blocks, val_data=chosen.val, config=config,
        ))
    return cells


def _model_maker(shape: ModelShape, vocab: int, seq_len: int, seed: int):
    return lambda: build_model(neox_config(shape, vocab, seq_len, ffn_mult=4, tie_embeddings=False), seed=seed)


def read_zero_shot(summary: pd.DataFrame, run_dir: "str | os.PathLike") -> pd.DataFrame:
    """The zero-shot rows every grid cell wrote, joined with its tags and size (one row per model x task)."""
    frames = []
    for _, row in summary.iterrows():
        path = Path(run_dir) / row["name"] / "zero_shot.json"
        if not path.is_file():
            raise ConfigError(f"{path} is missing: the cell {row['name']} did not score its tasks; delete its "
                              "folder and run the grid again")
        frame = pd.DataFrame(json.loads(path.read_text()))
        for column in ("name", "data", "hidden", "layers", "parameters", "non_embedding"):
            frame[column] = row[column]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
