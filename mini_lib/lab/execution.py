"""How the runner executes a notebook: papermill, with a line per finished cell and a quiet kernel.

A headless run that prints nothing for minutes looks hung. The ``mini_lib`` papermill engine prints
one line per finished code cell (its number, seconds, first line of code) when asked. Kernels talk to
the runner over local IPC sockets in a temporary folder: nothing listens on a network port, and the
kernel has no reason to print its "running over TCP without encryption" warning on every run.

Two things a run must survive: Ctrl-C kills the kernel at once (asked to shut down mid-cell, it prints
a ZMQError traceback of its own), and every save of the executed notebook goes through the
``mini-lib-atomic:`` papermill I/O scheme (``ATOMIC``): a temporary sibling renamed over the file, so a
full disk leaves the last complete save, never a torn notebook.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import TextIO

from jupyter_client.manager import AsyncKernelManager
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.iorw import papermill_io
from papermill.utils import remove_args

from mini_lib.core.paths import write_text_atomic

ENGINE_NAME = "mini_lib"
ATOMIC = "mini-lib-atomic:"  # papermill I/O scheme: ``ATOMIC + path`` is written atomically


class _DeathReported(logging.Filter):
    """The runner reports a dead kernel in a line of its own (``runner.KernelDied``): drop nbclient's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Kernel died")


_LOG = logging.getLogger("papermill.mini_lib")  # papermill's logger, for cell outputs (``--log``) too
_LOG.addFilter(_DeathReported())


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


class _Client(PapermillNotebookClient):
    """Papermill's notebook client; an interrupt kills the kernel at once instead of asking it to
    shut down in the middle of a cell."""

    def papermill_execute_cells(self):
        try:
            super().papermill_execute_cells()
        except KeyboardInterrupt:
            self.shutdown_kernel = "immediate"
            raise


class ProgressEngine(NBClientEngine):
    """NBClientEngine with ``_ProgressManager`` and ``_Client``; ``progress_bar`` True prints a line
    per cell to stdout."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        manager = _ProgressManager(nb, output_path=output_path, progress_bar=False, log_output=log_output,
                                   autosave_cell_every=autosave_cell_every)
        manager.stream = sys.stdout if progress_bar else None
        recorded = nb.metadata.get("papermill", {})
        if isinstance(recorded.get("output_path"), str):  # the notebook records where it lies, not how it is written
            recorded["output_path"] = recorded["output_path"].removeprefix(ATOMIC)
        manager.notebook_start()
        if log_output:  # stream cell output to ours (papermill logs it at a level nothing shows)
            kwargs["stdout_file"] = kwargs.get("stdout_file") or sys.stdout
            kwargs["stderr_file"] = kwargs.get("stderr_file") or sys.stderr
        try:
            cls.execute_managed_notebook(manager, kernel_name, **kwargs)
        finally:
            manager.notebook_complete()
        return manager.nb

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        """NBClientEngine's, with ``_Client``."""
        timeout = execution_timeout or kwargs.get("timeout")
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        return _Client(nb_man, timeout=timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                       log=_LOG, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                       **kwargs).execute()


class AtomicFileHandler:
    """Papermill I/O for ``ATOMIC + path``: local files, written through a temporary sibling."""

    def read(self, path: str) -> str:
        return Path(path.removeprefix(ATOMIC)).read_text(encoding="utf-8")

    def listdir(self, path: str) -> list[str]:
        folder = path.removeprefix(ATOMIC)
        return [os.path.join(folder, name) for name in os.listdir(folder)]

    def write(self, buf: str, path: str) -> None:
        target = Path(path.removeprefix(ATOMIC))
        try:
            write_text_atomic(target, buf)
        except OSError as error:
            raise OSError(error.errno, f"{error.strerror or error}: cannot save the executed notebook {target} "
                                       "(its last complete save is kept)") from None

    def pretty_path(self, path: str) -> str:
        return path.removeprefix(ATOMIC)


papermill_engines.register(ENGINE_NAME, ProgressEngine)
papermill_io.register(ATOMIC, AtomicFileHandler())
