"""How the runner executes a notebook: papermill, with a line per finished cell and a quiet kernel.

A headless run that prints nothing for minutes looks hung. The ``mini_lib`` papermill engine prints
one line per finished code cell (its number, seconds, first line of code) when asked. Kernels talk to
the runner over local IPC sockets in a temporary folder: nothing listens on a network port, and the
kernel has no reason to print its "running over TCP without encryption" warning on every run.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path
from typing import TextIO

from jupyter_client.manager import AsyncKernelManager
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

ENGINE_NAME = "mini_lib"


class IPCKernelManager(AsyncKernelManager):
    """A kernel on IPC sockets under the temporary folder (not in the notebook's working folder)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", str(Path(tempfile.gettempdir()) / f"mini_lib-kernel-{uuid.uuid4().hex[:12]}"))
        super().__init__(**kwargs)


def cell_line(index: int, n_cells: int, seconds: float, source: str) -> str:
    """``  cell  7/31    12.4 s  train_config = ...``: what a finished cell prints."""
    first = next((line.strip() for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    return f"  cell {index + 1:>2}/{n_cells}  {seconds:7.1f} s  {first[:70]}"


class _ProgressManager(NotebookExecutionManager):
    """Papermill's execution manager, printing ``cell_line`` for each finished code cell."""

    stream: TextIO | None = None

    def cell_complete(self, cell, cell_index=None, **kwargs):
        super().cell_complete(cell, cell_index, **kwargs)
        if self.stream is not None and cell.cell_type == "code" and cell_index is not None:
            seconds = float(cell.metadata.papermill.get("duration") or 0.0)
            print(cell_line(cell_index, len(self.nb.cells), seconds, cell.source), file=self.stream, flush=True)


class ProgressEngine(NBClientEngine):
    """NBClientEngine with ``_ProgressManager``; ``progress_bar`` True prints a line per cell to stdout."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        manager = _ProgressManager(nb, output_path=output_path, progress_bar=False, log_output=log_output,
                                   autosave_cell_every=autosave_cell_every)
        manager.stream = sys.stdout if progress_bar else None
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
        finally:
            manager.notebook_complete()
        return manager.nb


papermill_engines.register(ENGINE_NAME, ProgressEngine)
