"""Where things live (the repo's runs folder, the shared data folder, the local cache), and how files
and folders are written there so that a reader never sees half of one.

Shared research data (``../shared/data`` beside the repo) is read in place and never copied into
the package tree; ``MINI_LIB_SHARED_DATA`` points elsewhere when the layout differs. A folder is built
in a staging sibling named after its process and renamed into place whole: ``commit_first`` when
several processes may build it at once (the first complete one wins), ``replace_folder`` when one
process owns it; a later build removes the staging folders of dead processes.
"""

import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"


def shared_data_dir() -> Path:
    """The shared data folder (may not exist: callers check and explain)."""
    return Path(os.environ.get("MINI_LIB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def cache_dir() -> Path:
    """Cache for derived artefacts (tokenizers, converted models, embeddings); ``MINI_LIB_CACHE`` overrides."""
    path = Path(os.environ.get("MINI_LIB_CACHE", REPO_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    """Root of executed notebooks and their results; ``MINI_LIB_RUNS`` overrides."""
    return Path(os.environ.get("MINI_LIB_RUNS", REPO_ROOT / "runs"))


def require_file(path: "str | os.PathLike", what: str) -> Path:
    """Return ``path`` as a Path if it is an existing file, else raise one clear error."""
    from mini_lib.core.errors import ConfigError

    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"{what} not found: {p} (check the path, or pass another one)")
    return p


def texts_fingerprint(texts: Iterable[str], *extra: object) -> str:
    """A short stable hash of texts (in order) and settings: the key of every on-disk cache."""
    digest = hashlib.sha256(repr(extra).encode())
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


@contextmanager
def staging_folder(folder: "str | os.PathLike") -> Iterator[Path]:
    """A fresh temporary sibling of ``folder`` to build it in, removed when the block ends unless it was
    renamed into place by then. Its name carries this host and process id, so a later process can tell
    the leftover of a killed build from a build still running (``remove_dead_staging``)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-{_host_tag()}-{os.getpid()}-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # nothing left there once committed


def commit_first(tmp: "str | os.PathLike", folder: "str | os.PathLike") -> bool:
    """Rename ``tmp`` to ``folder`` unless ``folder`` already holds something; True when ``tmp`` won.
    One rename: a reader sees no folder or a whole one, and a second builder never deletes the first's."""
    try:
        os.rename(tmp, folder)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise
    return True


def replace_folder(tmp: "str | os.PathLike", folder: "str | os.PathLike") -> None:
    """Put ``tmp`` at ``folder``: an existing folder is renamed to a hidden sibling first and removed
    after, so a reader sees the old folder, none, or the new one, never a mix of two."""
    folder = Path(folder)
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-{_host_tag()}-{os.getpid()}-"))
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_folder(folder: "str | os.PathLike") -> Iterator[Path]:
    """Yield a fresh temporary sibling of ``folder`` to write into; it replaces ``folder`` only when
    the block finishes (``replace_folder``), so a crash never leaves a half-written model or tokenizer
    where readers look. For a folder that several processes may build at once, see ``commit_first``."""
    with staging_folder(folder) as tmp:
        yield tmp
        replace_folder(tmp, folder)


def remove_dead_staging(parent: "str | os.PathLike") -> list[Path]:
    """Remove the staging folders (``staging_folder``) in ``parent`` whose process has died on this
    host; those of live processes, or of other hosts sharing the folder, stay. Returns those removed."""
    parent = Path(parent)
    removed = []
    for entry in parent.iterdir() if parent.is_dir() else ():
        match = _STAGING.fullmatch(entry.name)
        if match and match["host"] == _host_tag() and not _alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


_STAGING = re.compile(r"\..+\.tmp-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[^.]+")


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def move_aside(folder: "str | os.PathLike", into: "str | os.PathLike", prefix: str) -> Path:
    """Move ``folder`` whole, in one rename, to a new folder ``into/<prefix><random>``: a run put aside is
    kept, never half-deleted, and two runs put aside in the same second never collide."""
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(dir=into, prefix=prefix))  # an empty unique folder to rename over
    os.replace(folder, target)
    return target


def write_text_atomic(path: "str | os.PathLike", text: str) -> Path:
    """Write ``text`` to a temporary sibling, then rename it over ``path``: readers see the old file
    or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")  # one per writer
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves neither a torn file nor a temporary one
        raise
    return path
