"""Where things live: the repo's runs folder, the shared data folder, the local cache.

Shared research data (``../shared/data`` beside the repo) is read in place and never copied into
the package tree; ``MINI_LIB_SHARED_DATA`` points elsewhere when the layout differs.
"""

import hashlib
import os
import shutil
import tempfile
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
def atomic_folder(folder: "str | os.PathLike") -> Iterator[Path]:
    """Yield a fresh temporary sibling of ``folder`` to write into; it replaces ``folder`` only when
    the block finishes, so a crash never leaves a half-written model or tokenizer where readers look.
    The temporary name is unique, so two processes building the same folder do not collide."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path
