"""One writer per run folder: an advisory lock beside the folder, so two processes never interleave
their steps in the same records, checkpoints or notebook outputs.

The lock is ``<parent>/.<name>.lock`` (beside the folder, not inside it, so moving a replaced run
aside never moves the lock). It is taken with ``fcntl.flock``: the kernel drops it when its holder
dies, so the lock of a killed process is taken over without anyone deciding what "stale" means.
The file holds the holder's pid, host and command, which the second writer's error names.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from mini_lib.core.errors import ConfigError


def lock_path(folder: "str | os.PathLike") -> Path:
    """Where the lock of ``folder`` lives."""
    folder = Path(folder).absolute()
    return folder.parent / f".{folder.name}.lock"


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return f"pid {info['pid']} on {info['host']} ({info['command']})"
    except (OSError, ValueError, KeyError):
        return "a process that has not yet written its pid"


@contextmanager
def folder_lock(folder: "str | os.PathLike") -> Iterator[Path]:
    """Hold the lock of ``folder`` for the block; a second holder gets a ConfigError naming the first."""
    path = lock_path(folder)
    try:
        fd = _take(path, wait=False)
    except BlockingIOError:
        raise ConfigError(
            f"{Path(folder)} is in use by {_holder(path)}: wait for it to finish or use another folder"
        ) from None
    try:
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)}
        os.write(fd, json.dumps(info).encode())
        yield path
    finally:
        path.unlink(missing_ok=True)  # while still holding it: see _take
        os.close(fd)


@contextmanager
def commit_lock(folder: "str | os.PathLike") -> Iterator[None]:
    """Wait for, then hold, the short lock that orders the commits of ``folder`` by several processes
    (``store.cached``): ``<parent>/.<name>.commit.lock``, beside the lock of ``folder_lock``."""
    folder = Path(folder).absolute()
    path = folder.parent / f".{folder.name}.commit.lock"
    fd = _take(path, wait=True)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def is_locked(folder: "str | os.PathLike") -> bool:
    """Whether a live process holds the lock of ``folder`` (a run in progress); never creates a lock file."""
    try:
        fd = os.open(lock_path(folder), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the shared lock when we got it
    return False


def _take(path: Path, *, wait: bool) -> int:
    """A descriptor holding an exclusive flock on the file at ``path``; BlockingIOError when another
    process holds it and ``wait`` is False.

    After taking the lock we check that the file is still the one at ``path`` (its previous holder
    may have removed it between our open and our flock) and retry if not, so two holders never coexist.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BaseException:
            os.close(fd)
            raise
        try:
            same_file = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same_file = False
        if same_file:
            return fd
        os.close(fd)


def holding_run_lock(train_fn: Callable) -> Callable:
    """Run ``train`` holding its run folder's lock; only the main process (rank 0) takes it, as all
    ranks of one run share the folder."""

    @functools.wraps(train_fn)
    def locked(model, data, config, run_dir, **kwargs):
        if os.environ.get("RANK", "0") != "0":
            return train_fn(model, data, config, run_dir, **kwargs)
        with folder_lock(run_dir):
            return train_fn(model, data, config, run_dir, **kwargs)

    return locked
