"""Train a grid of models (sizes, data variants, seeds) through the one loop, resumably.

Each cell trains in its own folder; a finished cell commits its result (``<cell>/result``: ``cell.json``
and, for a cell marked ``keep_model``, the final model) as one artefact of the store (``mini_lib.core.store``),
and an interrupted cell resumes from its checkpoint. So a 36-model grid that dies at model 20 loses at
most one model's work since its last checkpoint.

A cell's spec is everything that decides its numbers: its training settings, tags, model config and
initial weights, and fingerprints of its data. In a named run folder (``mode="named"``, the default) a
rerun reuses a cell only when the spec is the same, and a cell made with other settings is a
ConfigError naming them (never silent reuse); in ``mode="cache"`` the cell folder is named by its
spec's hash, so changed settings simply train a new cell.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import torch
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

from mini_lib.core.errors import choose
from mini_lib.core.models import flops_per_token, model_size
from mini_lib.core.store import Spec, cache_folder, claim, data_fingerprint, named, tensors_fingerprint
from mini_lib.core.train import RESUMABLE_CHANGES, TrainConfig, TrainResult, train

CELL_VERSION = 1  # bump when training or the summary row changes what a finished cell holds
MODES = ("named", "cache")
# Model config keys that record where a config has been (saving fills them in, also on a config object
# that several cells share), not what the model computes: never part of a cell's spec.
MODEL_METADATA = {"architectures", "dtype", "torch_dtype", "transformers_version", "_name_or_path"}


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
    per_token = flops_per_token(model, seq_len)
    tokens_per_step = cell.config.batch_size * seq_len
    return {
        "name": cell.name, **cell.tags,
        "parameters": size.total if size else sum(p.numel() for p in model.parameters()),
        "non_embedding": size.non_embedding if size else None,
        "tokens": cell.config.steps * tokens_per_step,
        "flops": per_token * cell.config.steps * tokens_per_step,
        "final_train_loss": float(result.records["loss"].tail(10).mean()),
        **{f"val_{k}": v for k, v in (result.final_eval or {}).items() if k != "step"},
        "evals": result.evals.to_dict(orient="list"),
        "tokens_per_step": tokens_per_step,
        "flops_per_token": per_token,
    }


def _cell_spec(cell: GridCell, model: torch.nn.Module, data_key: Callable[[object], str]) -> Spec:
    config = getattr(model, "config", None)
    shape = {k: v for k, v in config.to_dict().items() if k not in MODEL_METADATA} if config else repr(model)
    settings = {
        "name": cell.name, "tags": cell.tags,
        "train": {k: v for k, v in asdict(cell.config).items() if k not in RESUMABLE_CHANGES},
        "model": shape, "initial_weights": tensors_fingerprint(list(model.state_dict().values())[:4]),
        "train_kwargs": cell.train_kwargs,
    }
    return Spec("grid-cell", CELL_VERSION, settings, {"train": data_key(cell.train_data), "val": data_key(cell.val_data)})


def run_grid(cells: list[GridCell], run_dir: "str | os.PathLike", *, mode: str = "named") -> GridResult:
    """Train every cell, reusing finished ones made with the same spec (see the module docstring for
    ``mode``); kept models of finished cells are loaded from disk."""
    choose("mode", mode, MODES)
    run_dir = Path(run_dir)
    rows, curves = [], []
    models: dict[str, torch.nn.Module] = {}
    fingerprints: dict[int, str] = {}  # cells usually share their data: hash each data object once

    def data_key(data: object) -> str:
        if id(data) not in fingerprints:
            fingerprints[id(data)] = data_fingerprint(data)
        return fingerprints[id(data)]

    for cell in cells:
        model = cell.make_model()
        spec = _cell_spec(cell, model, data_key)
        folder = claim(run_dir / cell.name if mode == "named" else cache_folder(run_dir, spec, cell.name), spec)

        def build(tmp: Path) -> tuple[dict, torch.nn.Module]:
            result = train(model, cell.train_data, cell.config, folder, val_data=cell.val_data, **cell.train_kwargs)
            row = _summary_row(cell, result)
            if cell.keep_model:
                with _no_hf_progress_bars():
                    result.model.save_pretrained(tmp / "model")
            (tmp / "cell.json").write_text(json.dumps(row, indent=2))
            return row, result.model

        artefact = named(folder / "result", spec, build, require=("model",) if cell.keep_model else ())
        if artefact.built:
            row, trained = artefact.value
            if cell.keep_model:
                models[cell.name] = trained
        else:
            row = json.loads((artefact.path / "cell.json").read_text())
            if cell.keep_model:
                with _no_hf_progress_bars():
                    models[cell.name] = AutoModelForCausalLM.from_pretrained(artefact.path / "model")
        for step, loss in zip(row["evals"].get("step", []), row["evals"].get("loss", [])):
            curves.append({"name": row["name"], **cell.tags, "step": step, "val_loss": loss,
                           "tokens": step * row["tokens_per_step"],
                           "flops": step * row["tokens_per_step"] * row["flops_per_token"]})
        rows.append({k: v for k, v in row.items() if k != "evals"})
    return GridResult(pd.DataFrame(rows), pd.DataFrame(curves), models)
