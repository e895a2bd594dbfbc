"""One spec-checked store for everything the package reuses from disk: caches, grid cells, base models.

An artefact is a folder committed with one atomic rename (``paths.atomic_folder``) that holds its files
and ``spec.json``: the full spec that produced it (its kind, the producing code's version, the settings
and a fingerprint of the data). Reuse compares specs, never mere existence, in two modes:

* cache mode (``cached``): the folder is named by the spec's hash under a root, so another spec is
  simply another artefact; only committed folders ever carry a final name, so a build killed half-way
  is never mistaken for a finished one;
* named mode (``named``): the path is fixed (a cell of a named run); a committed artefact made with
  another spec is a ConfigError naming the differing keys (never silently reused), and the user
  decides: a new run name, or delete the folder to rebuild it.

Bump a kind's ``version`` whenever the code that produces it changes what it writes or computes;
mini_lib's own version is part of every spec too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from mini_lib import __version__
from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import atomic_folder, write_text_atomic

SPEC_FILE = "spec.json"
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


def _build(folder: Path, spec: dict, build: Callable[[Path], object]) -> Artefact:
    with atomic_folder(folder) as tmp:
        write_text_atomic(tmp / SPEC_FILE, json.dumps(spec, indent=1))
        value = build(tmp)
    return Artefact(folder, True, value)


def cache_folder(root: "str | os.PathLike", spec: Spec, name: str = "") -> Path:
    """Where cache mode keeps the artefact of ``spec``: ``root/<name or kind>-<spec hash>``."""
    return Path(root) / f"{name or spec.kind}-{spec.key()}"


def cached(root: "str | os.PathLike", spec: Spec, build: Callable[[Path], object], *, name: str = "") -> Artefact:
    """Cache mode: ``cache_folder(root, spec, name)``, built by ``build(temporary folder)`` unless committed."""
    folder = cache_folder(root, spec, name)
    wanted = spec.as_json()
    if read_spec(folder, strict=False) == wanted:
        return Artefact(folder, False)
    return _build(folder, wanted, build)


def named(folder: "str | os.PathLike", spec: Spec, build: Callable[[Path], object], *,
          require: Sequence[str] = ()) -> Artefact:
    """Named mode: the artefact at the fixed ``folder``; reused when committed with this very spec (and
    holding every file in ``require``, e.g. an optional saved model), a ConfigError when committed with
    another spec, else built by ``build(temporary folder)``."""
    folder = Path(folder)
    wanted = spec.as_json()
    saved = read_spec(folder, strict=True)
    if saved is not None:
        _refuse_other_spec(folder, saved, wanted, f"a {spec.kind}")
        if all((folder / name).exists() for name in require):
            return Artefact(folder, False)
    _remove_stale_staging(folder)
    return _build(folder, wanted, build)


def _remove_stale_staging(folder: Path) -> None:
    """Temporary siblings left by a killed build of a named folder (a named folder has one writer)."""
    if folder.parent.is_dir():
        for leftover in folder.parent.iterdir():
            if leftover.name.startswith(f".{folder.name}."):
                shutil.rmtree(leftover, ignore_errors=True)


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
