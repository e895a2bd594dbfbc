"""Train a grid of models (sizes, data variants, seeds) through the one loop, resumably.

Each cell trains in its own folder; a finished cell leaves ``cell.json`` and is skipped when the grid
runs again, and an interrupted cell resumes from its checkpoint. So a 36-model grid that dies at model
20 loses at most one model's work since its last checkpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import torch

from mini_lib.models import model_size
from mini_lib.train import TrainConfig, train


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


def _write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)


@dataclass
class GridResult:
    """summary: one row per cell (tags, final validation metrics, parameters, tokens, FLOPs);
    curves: one row per (cell, evaluation step); models: trained models when kept."""

    summary: pd.DataFrame
    curves: pd.DataFrame
    models: dict[str, torch.nn.Module]


def run_grid(cells: list[GridCell], run_dir: "str | os.PathLike", keep_models: bool = False) -> GridResult:
    """Train every cell, skipping finished ones (unless their models must be kept in memory)."""
    run_dir = Path(run_dir)
    rows, curves = [], []
    models: dict[str, torch.nn.Module] = {}
    for cell in cells:
        folder = run_dir / cell.name
        done = folder / "cell.json"
        if done.is_file() and not keep_models:
            row = json.loads(done.read_text())
        else:
            model = cell.make_model()
            result = train(model, cell.train_data, cell.config, folder, val_data=cell.val_data, **cell.train_kwargs)
            seq_len = int(cell.train_data.collate([0])["input_ids"].shape[1])
            size = model_size(model.config, seq_len) if getattr(model.config, "model_type", "") == "gpt_neox" else None
            tokens_per_step = cell.config.batch_size * seq_len
            row = {
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
            _write_json(done, row)
            if keep_models:
                models[cell.name] = result.model
        for step, loss in zip(row["evals"].get("step", []), row["evals"].get("loss", [])):
            curves.append({"name": row["name"], **cell.tags, "step": step, "val_loss": loss,
                           "tokens": step * row["tokens_per_step"],
                           "flops": step * row["tokens_per_step"] * (row["flops_per_token"] or 0.0)})
        rows.append({k: v for k, v in row.items() if k != "evals"})
    return GridResult(pd.DataFrame(rows), pd.DataFrame(curves), models)
