"""A run folder and its checkpoints: what lets a killed run restart where it was, and never mix two runs.

* Records (``records.jsonl``, ``evals.jsonl``) are appended a line per step; a torn last line (the
  process died mid-write) is dropped, and on resume the lines after the checkpoint are redone.
* A checkpoint is the training state (``accelerator.save_state``, or each process's shards under FSDP:
  ``StateIO``) in a temporary folder, a manifest of checksums written last, then one rename into place and
  an atomic ``latest`` pointer: a crash at any point leaves the previous checkpoint intact, and a write that
  fails (a full disk) removes the temporary folder and ends as an OSError. Resume takes the newest
  checkpoint that verifies, warning about newer damaged ones.
* A checkpoint records the settings, data fingerprint and model shapes it was trained with, and its
  layout (full state dicts, or FSDP shards); resuming with others is a ConfigError naming them, and a
  fresh start moves a previous run aside, never deletes it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list

from mini_lib.core.errors import CheckpointError, ConfigError
from mini_lib.core.paths import move_aside, write_text_atomic
from mini_lib.core.store import data_fingerprint
from mini_lib.core.train_config import RESUMABLE_CHANGES, TrainConfig, TrainData

# What train() writes into a run folder: a folder holding any of these holds a run.
RUN_FILES = ("records.jsonl", "evals.jsonl", "checkpoints", "train_meta.json")
MANIFEST = "manifest.json"
FULL_BELOW = 2**20  # bytes left on a device after a failed write that mean the write failed for lack of space
LAYOUTS = {"full": "full state dicts (one process or data parallel)", "sharded": "FSDP shards"}


@dataclass(frozen=True)
class StateIO:
    """How a run's training state goes into a checkpoint folder and back: Accelerate's ``save_state`` and
    ``load_state`` (full state dicts), or ``sharding``'s (each process's shards). A checkpoint resumes only
    with the layout it was saved in."""

    save: Callable[[str], None]
    load: Callable[[str], None]
    layout: str  # a key of LAYOUTS

    @classmethod
    def of(cls, accelerator: Accelerator) -> "StateIO":
        return cls(accelerator.save_state, accelerator.load_state, "full")


def read_rows(path: Path) -> list[dict]:
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


def _truncate_after(path: Path, max_step: int) -> None:
    """Drop rows written after the checkpoint we resume from (they will be redone), and a torn tail."""
    if path.exists():
        keep = [row for row in read_rows(path) if row["step"] <= max_step]
        write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in keep))


def read_frame(path: Path) -> pd.DataFrame:
    return pd.DataFrame(read_rows(path))


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def checkpoint_problem(folder: Path) -> str | None:
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
        problem = checkpoint_problem(folder)
        if problem is None:
            return folder
        warnings.warn(f"skipping damaged checkpoint {folder}: {problem}")
    return None


def _model_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of the parameter names, shapes and dtypes: another architecture cannot resume."""
    shapes = [(name, tuple(t.shape), str(t.dtype)) for name, t in model.state_dict().items()]
    return hashlib.sha256(repr(shapes).encode()).hexdigest()[:16]


def run_spec(model: torch.nn.Module, data: TrainData) -> dict:
    """Besides the settings, what a checkpoint must have been trained with to be resumed."""
    return {"examples": len(data), "data": data_fingerprint(data), "model": _model_fingerprint(model)}


def _resume_blockers(saved: dict, config: TrainConfig, spec: dict) -> list[str]:
    """Settings, data or model that differ from those of a checkpoint (each named, old -> new)."""
    now = asdict(config)
    changed = [f"{k} {saved['config'].get(k)!r} -> {now[k]!r}" for k in now
               if k not in RESUMABLE_CHANGES and saved["config"].get(k) != now[k]]
    what = {"examples": "number of training examples", "data": "training data", "model": "model shapes"}
    saved_spec = saved.get("spec", {})
    changed += [f"{what[k]} {saved_spec.get(k)!r} -> {spec[k]!r}" for k in what if saved_spec.get(k) != spec[k]]
    return changed


def _move_aside(run_dir: Path) -> Path | None:
    """Move a previous run out of ``run_dir`` (one rename, so never half of it) to a hidden sibling
    ``.<name>.replaced-<time>-<random>``; returns where it went, None if the folder held no run."""
    if not any((run_dir / name).exists() for name in RUN_FILES):
        return None
    target = move_aside(run_dir, run_dir.parent, f".{run_dir.name}.replaced-{datetime.now():%Y%m%d-%H%M%S}-")
    warnings.warn(f"{run_dir} held another run: moved it to {target}")
    return target


def prepare_run_dir(run_dir: Path, config: TrainConfig, spec: dict, resume: bool) -> Path | None:
    """Main process, before anything is written: the checkpoint to resume from (records after it
    dropped), or None after moving any previous run aside for a fresh start."""
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if checkpoint is None:
        _move_aside(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        return None
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    layout = state.get("spec", {}).get("layout", "full")  # checkpoints from before FSDP hold full state dicts
    if layout != spec["layout"]:
        raise ConfigError(
            f"checkpoint {checkpoint} holds {LAYOUTS[layout]} but this run saves {LAYOUTS[spec['layout']]}: "
            f"resume it {'with FSDP (--fsdp)' if layout == 'sharded' else 'without FSDP'} on any number of "
            "processes, or start over with --no-resume"
        )
    changed = _resume_blockers(state, config, spec)
    if changed:
        raise ConfigError(
            f"run folder {run_dir} holds a checkpoint of another run ({'; '.join(changed)}): "
            "use a new run folder or resume=False (--no-resume)"
        )
    for name in ("records.jsonl", "evals.jsonl"):
        _truncate_after(run_dir / name, state["step"])
    return checkpoint


def resume_run(accelerator: Accelerator, model: torch.nn.Module, data: TrainData, config: TrainConfig, run_dir: Path,
               resume: bool, io: StateIO) -> tuple[int | None, dict]:
    """The main process picks the checkpoint (checked to be this run's) or clears the folder for a
    fresh start; every process loads the one it picked. Returns the step resumed from (None: a fresh
    start) and the run's spec, which checkpoints record."""
    spec = {**run_spec(model, data), "layout": io.layout} if accelerator.is_main_process else {}
    checkpoint = prepare_run_dir(run_dir, config, spec, resume) if accelerator.is_main_process else None
    checkpoint = broadcast_object_list([checkpoint])[0]  # every rank resumes from the one main chose
    resumed_from = None
    if checkpoint is not None:
        try:
            io.load(str(checkpoint))
        except Exception as err:
            raise CheckpointError(
                f"checkpoint {checkpoint} is intact but cannot be loaded ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}): start over with resume=False (--no-resume)"
            ) from err
        resumed_from = json.loads((checkpoint / "trainer_state.json").read_text())["step"]
    accelerator.wait_for_everyone()
    return resumed_from, spec


def save_checkpoint(accelerator: Accelerator, run_dir: Path, step: int, config: TrainConfig, spec: dict,
                    io: StateIO) -> Path:
    """Write a checkpoint atomically: save into a temp folder with a manifest of checksums (written
    last), rename it into place, then move the ``latest`` pointer (itself replaced atomically), then
    prune. A crash at any point leaves the previous checkpoint intact and ``latest`` naming it; a write
    that fails removes the temp folder, and on a full disk ends as an OSError (ENOSPC)."""
    checkpoints = run_dir / "checkpoints"
    final = checkpoints / f"step_{step:08d}"
    tmp = checkpoints / f".tmp_step_{step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        checkpoints.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()
    try:
        io.save(str(tmp))
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            state = {"step": step, "config": asdict(config), "spec": spec}
            (tmp / "trainer_state.json").write_text(json.dumps(state))
            files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
            (tmp / MANIFEST).write_text(json.dumps({"files": files}))
    except BaseException as err:  # torch.distributed.checkpoint's errors, and Ctrl-C, are BaseExceptions
        _clean_up_and_raise(err, checkpoints, tmp, accelerator.is_main_process)
    if accelerator.is_main_process:
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


def _clean_up_and_raise(err: BaseException, checkpoints: Path, tmp: Path, is_main: bool) -> None:
    """Remove the half-written checkpoint and re-raise. Serialisers report a full disk in their own words
    (torch: ``RuntimeError: [enforce fail at inline_container.cc] unexpected pos``, safetensors and
    torch.distributed.checkpoint likewise), so a failure that leaves the device full is an OSError."""
    interrupted = isinstance(err, (KeyboardInterrupt, SystemExit))
    full = not isinstance(err, OSError) and not interrupted and shutil.disk_usage(checkpoints).free < FULL_BELOW
    if is_main:
        shutil.rmtree(tmp, ignore_errors=True)
    if full:
        raise OSError(errno.ENOSPC, f"no space left on the device holding {checkpoints}: checkpoint {tmp.name[5:]} "
                      f"not written, the previous ones are intact ({type(err).__name__}: "
                      f"{str(err).splitlines()[0] if str(err) else ''})") from err
    raise err
