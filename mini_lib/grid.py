"""Train a grid of models (sizes, data variants, seeds) through the one loop, resumably.

Each cell trains in its own folder; a finished cell leaves ``cell.json`` and is skipped when the grid
runs again, and an interrupted cell resumes from its checkpoint. So a 36-model grid that dies at model
20 loses at most one model's work since its last checkpoint. A cell marked ``keep_model`` also saves
its final model (``save_pretrained``, in ``<cell>/model``), which a rerun loads instead of retraining.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import torch
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

from mini_lib.models import model_size
from mini_lib.paths import atomic_folder, write_text_atomic
from mini_lib.train import TrainConfig, TrainResult, train


@dataclass
class GridCell:
    """One model to train: a name, tags for the results table, and what train() needs."""

    name: str
    tags: dict
    make_model: Callable[[], torch.nn.Module]
    train_data: object
    config: TrainConfig
    val_data: object | None = None
    train_kwargs: dict = field(default_factory=dict)
    keep_model: bool = False  # save the final model and return it in GridResult.models


@dataclass
class GridResult:
    """summary: one row per cell (tags, final validation metrics, parameters, tokens, FLOPs);
    curves: one row per (cell, evaluation step); models: the final model of every ``keep_model`` cell."""

    summary: pd.DataFrame
    curves: pd.DataFrame
    models: dict[str, torch.nn.Module]


@contextmanager
def _no_hf_progress_bars() -> Iterator[None]:
    """One "writing/loading shards" bar per small model says nothing in a notebook's output."""
    were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if were_on:
            hf_logging.enable_progress_bar()


def _summary_row(cell: GridCell, result: TrainResult) -> dict:
    model = result.model
    seq_len = int(cell.train_data.collate([0])["input_ids"].shape[1])
    size = model_size(model.config, seq_len) if getattr(model.config, "model_type", "") == "gpt_neox" else None
    tokens_per_step = cell.config.batch_size * seq_len
    return {
        "name": cell.name, **cell.tags,
        "parameters": size.total if size else sum(p.numel() for p in model.parameters()),
        "non_embedding": size.non_embedding if size else None,
        "tokens": cell.config.steps * tokens_per_step,
        "flops": (size.flops_per_token if size else 0.0) * cell.config.steps * tokens_per_step,
        "final_train_loss": float(result.records["loss"].tail(10).mean()),
        **{f"val_{k}": v for k, v in (result.final_eval or {}).items() if k != "step"},
        "evals": result.evals.to_dict(orient="list"),
        "tokens_per_step": tokens_per_step,
        "flops_per_token": size.flops_per_token if size else None,
    }


def run_grid(cells: list[GridCell], run_dir: "str | os.PathLike") -> GridResult:
    """Train every cell, skipping finished ones; kept models of finished cells are loaded from disk."""
    run_dir = Path(run_dir)
    rows, curves = [], []
    models: dict[str, torch.nn.Module] = {}
    for cell in cells:
        folder = run_dir / cell.name
        done, model_dir = folder / "cell.json", folder / "model"
        if done.is_file() and (not cell.keep_model or model_dir.is_dir()):
            row = json.loads(done.read_text())
            if cell.keep_model:
                with _no_hf_progress_bars():
                    models[cell.name] = AutoModelForCausalLM.from_pretrained(model_dir)
        else:
            result = train(cell.make_model(), cell.train_data, cell.config, folder, val_data=cell.val_data, **cell.train_kwargs)
            row = _summary_row(cell, result)
            if cell.keep_model:
                with atomic_folder(model_dir) as tmp, _no_hf_progress_bars():
                    result.model.save_pretrained(tmp)
                models[cell.name] = result.model
            write_text_atomic(done, json.dumps(row, indent=2))  # last: finished only once all is on disk
        for step, loss in zip(row["evals"].get("step", []), row["evals"].get("loss", [])):
            curves.append({"name": row["name"], **cell.tags, "step": step, "val_loss": loss,
                           "tokens": step * row["tokens_per_step"],
                           "flops": step * row["tokens_per_step"] * (row["flops_per_token"] or 0.0)})
        rows.append({k: v for k, v in row.items() if k != "evals"})
    return GridResult(pd.DataFrame(rows), pd.DataFrame(curves), models)
