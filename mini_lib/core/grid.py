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

Faster grids, both opt-in: ``fuse=K`` trains up to K same-shape cells at once as one stacked model
(``fused``: per-cell results equal training alone), and ``client=`` (a ``dask.distributed`` client)
makes each group of cells a task on the cluster's workers (``grid_cluster``). The store is the shared
truth either way: a cell's folder is the same, a finished cell is read, never trained again, and a
cell's ``result`` lock (``locking.folder_lock``) is held from the check until its commit, so two
processes never train one cell: the second waits, then reads what the first committed.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import torch
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

from mini_lib.core import fused
from mini_lib.core.fused import MODEL_METADATA
from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.locking import folder_lock
from mini_lib.core.models import flops_per_token, model_size
from mini_lib.core.store import Artefact, Spec, cache_folder, claim, data_fingerprint, named, tensors_fingerprint
from mini_lib.core.train import RESUMABLE_CHANGES, TrainConfig, TrainResult, train

CELL_VERSION = 1  # bump when training or the summary row changes what a finished cell holds
MODES = ("named", "cache")
WAIT_S = 1.0  # how often a cell held by another process is looked at again


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
        "model": shape, "initial_weights": _initial_weights(model),
        "train_kwargs": cell.train_kwargs,
    }
    return Spec("grid-cell", CELL_VERSION, settings, {"train": data_key(cell.train_data), "val": data_key(cell.val_data)})


def _initial_weights(model: torch.nn.Module) -> str:
    """The fingerprint of a model's first tensors: enough to tell one seed's initial weights from another's."""
    return tensors_fingerprint(list(model.state_dict().values())[:4])


@dataclass
class _Entry:
    """A cell with its spec, folder and fusion key (None: it trains alone). Its initial model is not
    kept: a grid of large models would hold them all at once; ``model()`` builds it again when it trains."""

    cell: GridCell
    spec: Spec
    folder: Path
    key: tuple | None

    @property
    def result(self) -> Path:
        return self.folder / "result"

    @property
    def require(self) -> tuple[str, ...]:
        return ("model",) if self.cell.keep_model else ()

    def model(self) -> torch.nn.Module:
        """The cell's initial model, built again: it must have the initial weights its spec records."""
        model = self.cell.make_model()
        if _initial_weights(model) != self.spec.settings["initial_weights"]:
            raise ConfigError(f"cell {self.cell.name}: make_model() built other initial weights on a second call; "
                              "it must build the same model every time (seed it)")
        return model


class _NotTrained(Exception):
    """What a probe's build raises: the cell has no committed result yet."""


def groups(entries: list, fuse: int, key: Callable[[object], tuple | None]) -> list[list]:
    """Entries that train together, in grid order: up to ``fuse`` with the same key; None keys alone."""
    chunks: dict[tuple, list] = {}
    out: list[list] = []
    for entry in entries:
        k = key(entry) if fuse > 1 else None
        if k is None:
            out.append([entry])
        elif k in chunks and len(chunks[k]) < fuse:
            chunks[k].append(entry)
        else:
            chunks[k] = [entry]
            out.append(chunks[k])
    return out


def run_grid(cells: list[GridCell], run_dir: "str | os.PathLike", *, mode: str = "named", fuse: int = 1,
             client: object | None = None) -> GridResult:
    """Train every cell, reusing finished ones made with the same spec (see the module docstring for
    ``mode``); kept models of finished cells are loaded from disk.

    fuse: train up to this many same-shape cells at once as one stacked model (``fused``); 1, the
        default, trains one cell at a time. Cells that cannot train together train alone.
    client: a ``dask.distributed.Client``: the groups train as tasks on its workers first
        (``grid_cluster``), then this process reads their results from the store."""
    choose("mode", mode, MODES)
    if fuse < 1:
        raise ConfigError(f"fuse must be >= 1 (cells trained at once), got {fuse}")
    run_dir = Path(run_dir)
    fingerprints: dict[int, str] = {}  # cells usually share their data: hash each data object once

    def data_key(data: object) -> str:
        if id(data) not in fingerprints:
            fingerprints[id(data)] = data_fingerprint(data)
        return fingerprints[id(data)]

    entries = []
    for cell in cells:
        model = cell.make_model()
        spec = _cell_spec(cell, model, data_key)
        folder = claim(run_dir / cell.name if mode == "named" else cache_folder(run_dir, spec, cell.name), spec)
        key = fused.fusion_key(model, cell.train_data, cell.config, cell.train_kwargs) if fuse > 1 else None
        entries.append(_Entry(cell, spec, folder, key))
    if client is not None:
        from mini_lib.core.grid_cluster import train_on_cluster

        index = {id(entry): i for i, entry in enumerate(entries)}
        train_on_cluster(client, cells, run_dir, mode, fuse,
                         [[index[id(e)] for e in group] for group in groups(entries, fuse, _key)])
    built = _train_missing(entries, fuse)
    rows, curves = [], []
    models: dict[str, torch.nn.Module] = {}
    for entry in entries:
        cell = entry.cell
        artefact = built.get(cell.name) or named(entry.result, entry.spec, _not_trained, require=entry.require)
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


def _key(entry: _Entry) -> tuple | None:
    return entry.key


def _not_trained(tmp: Path) -> None:
    raise _NotTrained


def _finished(entry: _Entry) -> bool:
    """Whether the cell's result is committed, intact and complete (``store.named``'s test, which also
    refuses a result made with another spec or damaged)."""
    try:
        named(entry.result, entry.spec, _not_trained, require=entry.require)
    except _NotTrained:
        return False
    return True


def _train_missing(entries: list[_Entry], fuse: int) -> dict[str, Artefact]:
    """Train and commit every cell without a result, holding each cell's result lock from the check
    to the commit; a cell whose lock another process holds is left to it, then read (or trained here,
    if that process died first). Returns the artefacts built here, by cell name."""
    built: dict[str, Artefact] = {}
    elsewhere: list[_Entry] = []
    for group in groups(entries, fuse, _key):
        with ExitStack() as locks:
            mine = []
            for entry in group:
                try:
                    locks.enter_context(folder_lock(entry.result))
                    mine.append(entry)
                except ConfigError:  # in use: another process trains it
                    elsewhere.append(entry)
            todo = [entry for entry in mine if not _finished(entry)]
            built.update(_train_and_commit(todo))
    for entry in elsewhere:
        with ExitStack() as lock:
            _wait_for_lock(lock, entry.result)
            if not _finished(entry):
                built.update(_train_and_commit([entry]))
    return built


def _wait_for_lock(stack: ExitStack, folder: Path) -> None:
    """Take the lock of ``folder`` into ``stack``, waiting while another process holds it."""
    while True:
        try:
            stack.enter_context(folder_lock(folder))
            return
        except ConfigError:  # in use: its holder is training the cell
            time.sleep(WAIT_S)


def _train_and_commit(todo: list[_Entry]) -> dict[str, Artefact]:
    """Train the cells (together when several) and commit each one's result artefact."""
    if len(todo) > 1:
        jobs = [fused.Job(e.model(), e.cell.train_data, e.cell.config, e.folder, e.cell.val_data, **e.cell.train_kwargs)
                for e in todo]
        results = fused.train_together(jobs)
    else:
        results = [train(e.model(), e.cell.train_data, e.cell.config, e.folder, val_data=e.cell.val_data,
                         **e.cell.train_kwargs) for e in todo]
    built = {}
    for entry, result in zip(todo, results):
        def build(tmp: Path, cell: GridCell = entry.cell, result: TrainResult = result) -> tuple[dict, torch.nn.Module]:
            row = _summary_row(cell, result)
            if cell.keep_model:
                with _no_hf_progress_bars():
                    result.model.save_pretrained(tmp / "model")
            (tmp / "cell.json").write_text(json.dumps(row, indent=2))
            return row, result.model

        built[entry.cell.name] = named(entry.result, entry.spec, build, require=entry.require)
    return built
