"""Execute notebooks headless with papermill into ``runs/<notebook>/<run-name>/``.

Parameters, the run name, the device and the corpus size are checked BEFORE a kernel starts, so a
typo or a run that cannot fit costs a second, not a minute or an hour; a failing cell surfaces as one
error naming the cell and its exception, and an interrupt or a dead kernel as one line naming the
partly executed notebook.

A run folder holds ``run.json`` (notebook, profile, the fully resolved settings, and whether the run
finished), so it is never reused for something else:

* a new name (the default ``<profile>-<date>-<time>-<microseconds>`` is created exclusively, so two
  runs started in the same second get two folders) starts a fresh folder;
* rerunning a name with identical settings resumes it. The outputs at the top of the folder
  (settings/results JSON, CSV tables, PNG figures, the executed notebook) move aside first, so old
  results never sit beside new ones: those of a finished run into ``previous/`` (replacing an older
  one), those of a run that did not finish (failed, interrupted, killed) into ``unfinished/``, which
  leaves ``previous/`` alone. So the last complete results are never deleted by a rerun that does not
  finish; a rerun that finishes removes ``unfinished/``. Sub-folders (cached models, checkpoints) and
  hidden files (the locks of training folders) stay where they are, for the notebook to reuse;
* rerunning a name with other settings is refused, naming the settings that changed; ``replace=True``
  (``run --replace``) first moves the old folder to ``runs/<notebook>/.replaced/<name>-<timestamp>-<random>``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mini_lib.core.errors import ConfigError
from mini_lib.core.locking import folder_lock
from mini_lib.core.paths import NOTEBOOK_DIR, move_aside, replace_folder, runs_dir, write_text_atomic
from mini_lib.core.progress import HEADLESS_KERNEL_ENV
from mini_lib.lab.profiles import apply_profile_environment, notebook_settings, resolve_notebook
from mini_lib.lab.sizing import check_fits, check_gpu_profile, generated_documents

KERNEL_NAME = "python3"
RUN_RECORD = "run.json"
PREVIOUS = "previous"  # the outputs of the last finished run before this one
UNFINISHED = "unfinished"  # the outputs of the last attempt that did not finish
FINISHED = "finished"  # run.json's key: when the run finished (absent or None while it has not)
RUN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class NotebookFailed(RuntimeError):
    """A cell raised; the message carries the exception name and value from the kernel."""


class KernelDied(RuntimeError):
    """The kernel process died mid-run (out of memory, or killed); the message names the partial notebook."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a run; the message names the partial notebook."""


@dataclass(frozen=True)
class NotebookRun:
    notebook: str
    profile: str
    run_dir: Path
    executed: Path


def parse_parameter(text: str) -> tuple[str, object]:
    """``key=value`` with value read as a Python literal when it is one (``steps=10``, ``tier=rich``)."""
    if "=" not in text:
        raise ConfigError(f"parameters look like key=value, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key.strip(), value


def notebook_path(notebook: str) -> Path:
    path = NOTEBOOK_DIR / f"{notebook}.ipynb"
    if not path.is_file():
        raise ConfigError(f"notebook file missing: {path}")
    return path


def check_run_name(name: str) -> str:
    """A run name is one plain folder name, so no name can write outside ``runs/<notebook>/``."""
    if not RUN_NAME.fullmatch(name):
        raise ConfigError(
            f"run name {name!r} must be a plain folder name: letters, digits, '.', '_' or '-', "
            "not starting with '.' (no '/' or '..')"
        )
    return name


def _timestamp() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S-%f}"


def _new_default_folder(parent: Path, profile: str) -> Path:
    """``<profile>-<timestamp>`` (then ``-2``, ``-3``, ...), created exclusively: two runs never share one."""
    parent.mkdir(parents=True, exist_ok=True)
    base = f"{profile}-{_timestamp()}"
    folder, attempt = parent / base, 1
    while True:
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            attempt += 1
            folder = parent / f"{base}-{attempt}"


def _changed_settings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``key: old -> new`` for every field (settings and profile) that differs between two records."""
    flat_old = {"profile": old.get("profile"), **old.get("settings", {})}
    flat_new = {"profile": new["profile"], **new["settings"]}
    return [f"{k}: {flat_old.get(k)!r} -> {flat_new.get(k)!r}"
            for k in sorted(set(flat_old) | set(flat_new)) if flat_old.get(k) != flat_new.get(k)]


def _read_record(path: Path) -> dict[str, Any] | None:
    """A run's ``run.json``; None when it is missing or cannot be read."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("settings"), dict) else None


def _finished(run_dir: Path) -> bool:
    """Whether the outputs at the top of ``run_dir`` are those of a finished run (a record written
    before runs recorded it: when they include results.json)."""
    record = _read_record(run_dir / RUN_RECORD) or {}
    if FINISHED in record:
        return bool(record[FINISHED])
    return (run_dir / "results.json").is_file()


def _set_aside_outputs(run_dir: Path) -> None:
    """Move the last run's outputs (the top-level files but ``run.json`` and hidden ones such as
    locks) into ``previous/`` when that run finished, else into ``unfinished/``; the new folder is
    complete before it replaces its older namesake."""
    outputs = [p for p in run_dir.iterdir() if p.is_file() and p.name != RUN_RECORD and not p.name.startswith(".")]
    if not outputs:
        return
    into = PREVIOUS if _finished(run_dir) else UNFINISHED
    staging = Path(tempfile.mkdtemp(dir=run_dir, prefix=f".{into}-"))  # hidden: never read as outputs
    for path in outputs:
        os.replace(path, staging / path.name)
    replace_folder(staging, run_dir / into)


def prepare_run_folder(notebook: str, run_name: str | None, record: dict[str, Any], replace: bool = False) -> Path:
    """The folder a run writes to, made ready as the module docstring says, with ``run.json`` written."""
    parent = runs_dir() / notebook
    if run_name is None:
        run_dir = _new_default_folder(parent, record["profile"])
    else:
        run_dir = parent / check_run_name(run_name)
        if replace and run_dir.exists():
            move_aside(run_dir, parent / ".replaced", f"{run_name}-{_timestamp()}-")
        if run_dir.exists() and any(run_dir.iterdir()):
            old = _read_record(run_dir / RUN_RECORD)
            changes = _changed_settings(old, record) if old is not None else None
            if changes != []:
                differs = f"with other settings ({'; '.join(changes)})" if changes else f"without a readable {RUN_RECORD}"
                raise ConfigError(
                    f"run {run_name!r} of {notebook} exists {differs}: "
                    "pick a new --name, or pass --replace to move the old run aside"
                )
            _set_aside_outputs(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(run_dir / RUN_RECORD, json.dumps({**record, FINISHED: None}, indent=2))
    return run_dir.resolve()


def _finish(run_dir: Path, record: dict[str, Any]) -> None:
    """Record that the run finished; the outputs of an earlier attempt that did not are obsolete now."""
    write_text_atomic(run_dir / RUN_RECORD, json.dumps({**record, FINISHED: datetime.now().isoformat()}, indent=2))
    shutil.rmtree(run_dir / UNFINISHED, ignore_errors=True)


def _how_to_resume(run_name: str | None, run_dir: Path) -> str:
    return "the same command resumes it" if run_name else f"add --name {run_dir.name} to the command to resume it"


def _stopped_in(executed: Path) -> str:
    """`` in cell N`` for the last code cell the partial notebook started, or "" when it cannot tell."""
    try:
        cells = json.loads(executed.read_text())["cells"]
        started = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    return f" in cell {started[-1] + 1} of {len(cells)}" if started else ""


def run_notebook(
    notebook: str,
    profile: str = "cpu",
    params: dict | None = None,
    run_name: str | None = None,
    log_output: bool = False,
    replace: bool = False,
    progress: bool = False,
    allow_cpu_for_gpu_profile: bool = False,
    skip_size_check: bool = False,
) -> NotebookRun:
    """Run one notebook end to end; raises NotebookFailed with the failing cell's error, KernelDied
    when the kernel dies, RunInterrupted on Ctrl-C.

    ``run_name`` reruns resume or are refused as the module docstring says; ``replace`` moves an
    existing run of that name aside first; ``progress`` prints a line per finished cell (the CLI's
    default), ``log_output`` streams every cell's output too. The gpu profile without a GPU, and a
    generated corpus that clearly exceeds memory, are refused unless the matching flag allows them
    (``mini_lib.lab.sizing``)."""
    notebook = resolve_notebook(notebook)
    params = dict(params or {})
    if run_name is not None:
        check_run_name(run_name)
    settings = notebook_settings(notebook, profile, params)  # fail fast on bad input
    source = notebook_path(notebook)
    if not skip_size_check:
        documents = generated_documents(settings)
        check_fits(documents, f"{notebook} with {documents:,} generated documents")
    if not allow_cpu_for_gpu_profile:
        check_gpu_profile(profile)
    record = {"notebook": notebook, "profile": profile, "settings": json.loads(json.dumps(asdict(settings)))}
    import papermill  # after the checks: a typo costs no import
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from mini_lib.lab.execution import ATOMIC, ENGINE_NAME, IPCKernelManager

    with ExitStack() as held:
        if run_name is not None:  # a second run with this --name stops here, before touching the folder
            held.enter_context(folder_lock(runs_dir() / notebook / run_name))
        run_dir = prepare_run_folder(notebook, run_name, record, replace=replace)
        if run_name is None:  # a fresh default folder: nobody else knows its name yet
            held.enter_context(folder_lock(run_dir))
        executed = run_dir / f"{notebook}.ipynb"
        apply_profile_environment(profile)
        os.environ.update(HEADLESS_KERNEL_ENV)  # the kernel inherits it: see mini_lib.core.progress
        try:
            papermill.execute_notebook(
                str(source),
                ATOMIC + str(executed),
                parameters={"profile": profile, "overrides": params, "run_dir": str(run_dir)},
                kernel_name=KERNEL_NAME,
                cwd=str(NOTEBOOK_DIR),
                progress_bar=progress,
                log_output=log_output,
                engine_name=ENGINE_NAME,
                kernel_manager_class=IPCKernelManager,
            )
        except PapermillExecutionError as err:
            raise NotebookFailed(
                f"{notebook} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
                f"executed notebook with the traceback: {executed}"
            ) from None
        except DeadKernelError:
            raise KernelDied(f"the kernel running {notebook} died{_stopped_in(executed)} (out of memory, or killed); "
                             f"partial executed notebook: {executed}; {_how_to_resume(run_name, run_dir)}") from None
        except KeyboardInterrupt:
            raise RunInterrupted(f"interrupted {notebook}{_stopped_in(executed)}; partial executed notebook: "
                                 f"{executed}; {_how_to_resume(run_name, run_dir)}") from None
        _finish(run_dir, record)
    return NotebookRun(notebook, profile, run_dir, executed)
