"""Execute notebooks headless with papermill into ``runs/<notebook>/<run-name>/``.

Parameters are validated against the notebook's settings BEFORE a kernel starts, so a typo costs a
second, not a minute; a failing cell surfaces as one error naming the cell and its exception.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mini_lib.errors import ConfigError
from mini_lib.locking import folder_lock
from mini_lib.paths import NOTEBOOK_DIR, runs_dir
from mini_lib.profiles import apply_profile_environment, notebook_settings, resolve_notebook

KERNEL_NAME = "python3"


class NotebookFailed(RuntimeError):
    """A cell raised; the message carries the exception name and value from the kernel."""


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


def run_notebook(
    notebook: str,
    profile: str = "cpu",
    params: dict | None = None,
    run_name: str | None = None,
    log_output: bool = False,
) -> NotebookRun:
    """Run one notebook end to end; raises NotebookFailed with the failing cell's error."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = resolve_notebook(notebook)
    params = dict(params or {})
    notebook_settings(notebook, profile, params)  # fail fast on bad input
    source = notebook_path(notebook)
    run_dir = (runs_dir() / notebook / (run_name or f"{profile}-{datetime.now():%Y%m%d-%H%M%S}")).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    executed = run_dir / f"{notebook}.ipynb"
    apply_profile_environment(profile)
    try:
        with folder_lock(run_dir):  # two runs with one --name would write into the same folder
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters={"profile": profile, "overrides": params, "run_dir": str(run_dir)},
                kernel_name=KERNEL_NAME,
                cwd=str(NOTEBOOK_DIR),
                progress_bar=False,
                log_output=log_output,
            )
    except PapermillExecutionError as err:
        raise NotebookFailed(
            f"{notebook} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
            f"executed notebook with the traceback: {executed}"
        ) from None
    return NotebookRun(notebook, profile, run_dir, executed)
