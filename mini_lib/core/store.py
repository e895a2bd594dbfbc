"""One spec-checked store for everything the package reuses from disk: caches, grid cells, base models.

An artefact is a folder committed with one atomic rename that holds its files, ``spec.json`` (the full
spec that produced it: its kind, the producing code's version, the settings and a fingerprint of the
data) and ``checksums.json`` (an xxh3-128 hash of every other file, written at commit). Reuse compares
specs, never mere existence, and verifies the checksums, in two modes:

* cache mode (``cached``): the folder is named by the spec's hash under a root, so another spec is
  simply another artefact. Several processes may build one artefact at once (two notebooks, a class
  sharing a cache): each builds in a staging folder of its own and the first complete one wins
  (``paths.commit_first``); a later builder discards its copy and uses the winner. A damaged artefact
  is rebuilt, with a ``DamagedArtefact`` warning naming it;
* named mode (``named``): the path is fixed (a cell of a named run); a committed artefact made with
  another spec is a ConfigError naming the differing keys (never silently reused), and so is a damaged
  one: the user decides (a new run name, or delete the folder to rebuild it).

Staging folders are named after their process; a build removes those its dead predecessors left.
Bump a kind's ``version`` whenever the code that produces it changes what it writes or computes;
mini_lib's own version is part of every spec too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import xxhash

from mini_lib import __version__
from mini_lib.core.errors import ConfigError
from mini_lib.core.locking import commit_lock
from mini_lib.core.paths import atomic_folder, remove_dead_staging, staging_folder, write_text_atomic

SPEC_FILE = "spec.json"
CHECKSUM_FILE = "checksums.json"
CHECKSUM = "xxh3_128"  # fast (several GB/s), so every reuse can afford to verify
READ_CHUNK = 1 << 22
ABSENT = "absent"
UNSEALED = f"no {CHECKSUM_FILE}"  # committed before artefacts had checksums: unverifiable, not damaged
ARRAY_FILE = "values.npy"
SMALL_ARRAY = 64  # arrays up to this size are written out in a spec; larger ones are hashed


def canonical(value: object) -> object:
    """``value`` as plain JSON data with sorted keys: dataclasses become dicts, tuples lists, paths
    strings, numpy scalars and arrays numbers and lists (large arrays a hash), callables their
    qualified names (plus, for closures, the values they captured)."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= SMALL_ARRAY else _array_digest(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    func = getattr(value, "func", None)  # functools.partial
    if func is not None:
        return {"partial": canonical(func), "args": canonical(value.args), "keywords": canonical(value.keywords)}
    if callable(value) and not isinstance(value, type):  # functions, and callbacks (callable objects)
        name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
        closure = getattr(value, "__closure__", None)
        # a closure's captured values (e.g. example weights) decide what it computes
        return {"function": name, "closure": [_lenient(c.cell_contents) for c in closure]} if closure else name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in sorted(dataclasses.fields(value), key=lambda f: f.name)}
    raise ConfigError(f"cannot put a {type(value).__qualname__} into an artefact spec: pass plain settings")


def _lenient(value: object) -> object:
    """``canonical(value)``, or the type's name for objects that have no plain form."""
    try:
        return canonical(value)
    except ConfigError:
        return type(value).__qualname__


def _array_digest(array: np.ndarray) -> dict:
    digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]
    return {"shape": list(array.shape), "dtype": str(array.dtype), "sha256": digest}


def canonical_json(value: object) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))


def fingerprint(value: object) -> str:
    """A short stable hash of any spec-able value."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Spec:
    """Everything that determines an artefact's content."""

    kind: str  # what it is: "tokenizer", "packed", "grid-cell", ...
    version: int  # bump when the producing code changes
    settings: object = None  # any dataclass / dict of settings
    data: object = ""  # a fingerprint (or dict of fingerprints) of the input data

    def as_json(self) -> dict:
        return json.loads(canonical_json({"kind": self.kind, "version": self.version, "mini_lib": __version__,
                                          "settings": self.settings, "data": self.data}))

    def key(self) -> str:
        return fingerprint(self.as_json())


@dataclass
class Artefact:
    """A committed artefact: where it is and, when it was built by this call, what the build returned."""

    path: Path
    built: bool
    value: object = None

    def load(self, loader: Callable[[Path], object]) -> object:
        """The value just built, or ``loader(path)`` for a reused artefact."""
        return self.value if self.built else loader(self.path)


def read_spec(folder: "str | os.PathLike", *, strict: bool) -> dict | None:
    """The spec a committed artefact was made with; None when there is none (missing folder or file).
    A corrupt spec.json is a ConfigError when ``strict`` (named artefacts), else counts as absent."""
    path = Path(folder) / SPEC_FILE
    try:
        saved = json.loads(path.read_text())
        if not isinstance(saved, dict):
            raise ValueError("not a JSON object")
        return saved
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as error:
        if strict:
            raise ConfigError(f"unreadable {path} ({error}): delete {Path(folder)} to rebuild it") from None
        return None


def differing_keys(saved: object, wanted: object, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ, with both values, e.g. ``settings.config.steps (30 -> 20)``."""
    if isinstance(saved, dict) and isinstance(wanted, dict):
        keys = sorted(set(saved) | set(wanted))
        return [d for k in keys for d in differing_keys(saved.get(k), wanted.get(k), f"{prefix}{k}.")]
    if saved == wanted:
        return []
    return [f"{prefix.rstrip('.')} ({_short(saved)} -> {_short(wanted)})"]


def _short(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse_other_spec(folder: Path, saved: dict, wanted: dict, what: str) -> None:
    changed = differing_keys(saved, wanted)
    if changed:
        raise ConfigError(f"{folder} holds {what} made with other settings: {'; '.join(changed)}. "
                          f"Use a new run name (or folder), or delete {folder} to rebuild it")


class DamagedArtefact(UserWarning):
    """A cached artefact failed its checksums and is being rebuilt."""


def file_checksums(folder: "str | os.PathLike") -> dict[str, str]:
    """``{relative path: xxh3-128 hex}`` of every file under ``folder`` except ``checksums.json``."""
    folder = Path(folder)
    buffer = bytearray(READ_CHUNK)  # one buffer read into: no copy per chunk
    view = memoryview(buffer)
    sums = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name != CHECKSUM_FILE:
            digest = xxhash.xxh3_128()
            with path.open("rb", buffering=0) as f:
                while n := f.readinto(buffer):
                    digest.update(view[:n])
            sums[name] = digest.hexdigest()
    return sums


def damage(folder: "str | os.PathLike") -> str | None:
    """What is wrong with a committed artefact's files, in words (the first file that fails its
    checksum, is missing, or no checksums at all); None when every file is as committed."""
    folder = Path(folder)
    try:
        saved = json.loads((folder / CHECKSUM_FILE).read_text())
        wanted = saved["files"]
        if saved.get("algorithm") != CHECKSUM or not isinstance(wanted, dict):
            raise ValueError(f"not {CHECKSUM} checksums")
    except FileNotFoundError:
        return UNSEALED
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        return f"unreadable {CHECKSUM_FILE} ({error})"
    found = file_checksums(folder)
    for name, digest in sorted(wanted.items()):
        if name not in found:
            return f"{name} is missing"
        if found[name] != digest:
            return f"{name} does not match its checksum"
    return None


def _seal(tmp: Path) -> None:
    """Record the checksums of everything the build wrote: the last file of a committed artefact."""
    write_text_atomic(tmp / CHECKSUM_FILE, json.dumps({"algorithm": CHECKSUM, "files": file_checksums(tmp)}, indent=1))


def _stage(tmp: Path, spec: dict, build: Callable[[Path], object]) -> object:
    write_text_atomic(tmp / SPEC_FILE, json.dumps(spec, indent=1))
    value = build(tmp)
    _seal(tmp)
    return value


def _problem(folder: Path, wanted: dict) -> str | None:
    """Why the cache-mode artefact at ``folder`` cannot be reused (``ABSENT`` when there is none)."""
    if not folder.exists():
        return ABSENT
    saved = read_spec(folder, strict=False)
    if saved != wanted:
        return f"{SPEC_FILE} {'is unreadable' if saved is None else 'differs from its name'}"
    return damage(folder)


def cache_folder(root: "str | os.PathLike", spec: Spec, name: str = "") -> Path:
    """Where cache mode keeps the artefact of ``spec``: ``root/<name or kind>-<spec hash>``."""
    return Path(root) / f"{name or spec.kind}-{spec.key()}"


def cached(root: "str | os.PathLike", spec: Spec, build: Callable[[Path], object], *, name: str = "") -> Artefact:
    """Cache mode: ``cache_folder(root, spec, name)``, built by ``build(staging folder)`` unless committed
    and intact. When another process commits the same artefact first, its copy is used (``built`` False)."""
    folder = cache_folder(root, spec, name)
    wanted = spec.as_json()
    problem = _problem(folder, wanted)
    if problem is None:
        return Artefact(folder, False)
    if problem not in (ABSENT, UNSEALED):
        warnings.warn(f"cached {spec.kind} {folder} is damaged ({problem}): rebuilding it", DamagedArtefact,
                      stacklevel=2)
    remove_dead_staging(folder.parent)
    with staging_folder(folder) as tmp:
        value = _stage(tmp, wanted, build)
        with commit_lock(folder):  # whoever holds it sees every earlier commit: no two repairs interleave
            if _problem(folder, wanted) is None:
                return Artefact(folder, False)  # another process won; our copy goes with the staging folder
            if folder.exists():
                with staging_folder(folder) as damaged:
                    os.replace(folder, damaged)  # a whole damaged folder leaves in one rename
            os.rename(tmp, folder)
    return Artefact(folder, True, value)


def named(folder: "str | os.PathLike", spec: Spec, build: Callable[[Path], object], *,
          require: Sequence[str] = ()) -> Artefact:
    """Named mode: the artefact at the fixed ``folder``; reused when committed with this very spec,
    intact, and holding every file in ``require`` (e.g. an optional saved model); a ConfigError when
    committed with another spec or damaged; else built by ``build(staging folder)``. One process
    writes a named folder (its run's lock), so a rebuild replaces the folder."""
    folder = Path(folder)
    wanted = spec.as_json()
    saved = read_spec(folder, strict=True)
    if saved is not None:
        _refuse_other_spec(folder, saved, wanted, f"a {spec.kind}")
        problem = damage(folder)
        if problem not in (None, UNSEALED):
            raise ConfigError(f"{folder} holds a damaged {spec.kind}: {problem}. Delete {folder} to rebuild it, "
                              "or use a new run name")
        if problem is None and all((folder / name).exists() for name in require):
            return Artefact(folder, False)
    remove_dead_staging(folder.parent)
    with atomic_folder(folder) as tmp:
        value = _stage(tmp, wanted, build)
    return Artefact(folder, True, value)


def claim(folder: "str | os.PathLike", spec: Spec) -> Path:
    """A named folder that fills up over time with artefacts of its own (e.g. collected runs): the
    first call records ``spec``; a later call with another spec is a ConfigError naming the keys."""
    folder = Path(folder)
    wanted = spec.as_json()
    saved = read_spec(folder, strict=True)
    if saved is None:
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / SPEC_FILE, json.dumps(wanted, indent=1))
    else:
        _refuse_other_spec(folder, saved, wanted, f"a {spec.kind}")
    return folder


def cached_array(root: "str | os.PathLike", spec: Spec, compute: Callable[[], object]) -> np.ndarray:
    """``compute()`` once per spec; later calls load the array from the cache."""
    def build(tmp: Path) -> np.ndarray:
        values = np.asarray(compute())
        np.save(tmp / ARRAY_FILE, values)
        return values

    return cached(root, spec, build).load(lambda path: np.load(path / ARRAY_FILE))


def data_fingerprint(data: object) -> str:
    """What a training set holds: its own ``fingerprint()`` when it has one, else its type, length and
    the collated first, middle and last examples. None (no data) is the empty string."""
    if data is None:
        return ""
    own = getattr(data, "fingerprint", None)
    if callable(own):
        return own()
    n = len(data)
    digest = hashlib.sha256(f"{type(data).__qualname__}:{n}".encode())
    for index in sorted({0, n // 2, n - 1} if n else set()):
        for key, value in sorted(data.collate([index]).items()):
            digest.update(key.encode())
            digest.update(np.ascontiguousarray(np.asarray(value)).tobytes())
    return digest.hexdigest()[:16]


def tensors_fingerprint(tensors: Iterable) -> str:
    """A short hash of tensors' values (as float32 on the CPU): tells initial weights (seeds) apart."""
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]
