"""Corpora from local files or the Hugging Face hub, behind the same interface as storyworld.

Every loader returns a ``datasets.Dataset`` with a ``text`` column and an integer ``id`` column
(plus whatever metadata the source has), so notebooks never care where text came from. Hub loading
is real code for users with a network; offline it fails at once with a message naming the local
alternatives, instead of hanging on retries.

Local files are read here, into an in-memory dataset, not through ``datasets.load_dataset``: that
would leave an Arrow copy of every file in ``~/.cache/huggingface/datasets`` (a 200 MB text, a
198 MB copy) and bury a bad byte or line under a DatasetGenerationError; here a file that is not
UTF-8, binary, empty or malformed gets one ConfigError naming the file and what is wrong.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import datasets

from mini_lib.core.errors import ConfigError, check_fraction, choose
from mini_lib.core.paths import require_file

LOCAL_FORMATS = (".txt", ".jsonl", ".json", ".parquet")


def _with_ids(ds: datasets.Dataset, text_column: str, source: str) -> datasets.Dataset:
    """Rename the text column to ``text`` and add a running ``id`` when the source has none.

    ``source`` (a file or hub name) starts every error, so the user knows which input to fix."""
    if text_column not in ds.column_names:
        raise ConfigError(f"{source}: no column {text_column!r}; columns are: {', '.join(ds.column_names)}")
    if text_column != "text":
        if "text" in ds.column_names:
            ds = ds.remove_columns("text")
        ds = ds.rename_column(text_column, "text")
    ds = ds.filter(lambda batch: [bool(t and t.strip()) for t in batch["text"]], batched=True)
    if len(ds) == 0:
        raise ConfigError(f"{source}: the corpus is empty after dropping blank documents")
    if "id" not in ds.column_names:
        ds = ds.add_column("id", list(range(len(ds))))
    return ds


def _read_utf8(file: Path) -> str:
    """The file's text, or one error saying it is binary or which byte is not UTF-8."""
    data = file.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ConfigError(
            f"{file.name} looks binary (a NUL byte at offset {nul}), not UTF-8 text: pass a text file "
            "(a UTF-16 file: re-encode it as UTF-8)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{file.name} is not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}): "
            "re-encode it or pass a UTF-8 file"
        ) from None


def _json_rows(file: Path, text: str) -> list[dict[str, Any]]:
    """A .json array of objects or JSON lines (one object per line), each record checked."""
    if text.lstrip().startswith("["):
        try:
            records = list(enumerate(json.loads(text), 1))
        except json.JSONDecodeError as err:
            raise ConfigError(f"{file.name} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    else:
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            try:
                records += [(n, json.loads(line))] if line.strip() else []
            except json.JSONDecodeError as err:
                raise ConfigError(
                    f"{file.name} line {n} is not valid JSON ({err.msg} at column {err.colno}): "
                    "write one JSON object per line"
                ) from None
    for n, record in records:
        if not isinstance(record, dict):
            raise ConfigError(f"{file.name} record {n} is {type(record).__name__}, not a JSON object like {{\"text\": ...}}")
    return [record for _, record in records]


def _read_rows(file: Path) -> dict[str, list]:
    """The file's columns (in memory): .txt one document per line, .json/.jsonl objects, .parquet."""
    if file.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(file).to_pydict()
        except Exception as err:  # noqa: BLE001 - pyarrow raises several types; the user needs one line
            raise ConfigError(f"{file.name} is not a readable parquet file ({type(err).__name__}: {err})") from None
    text = _read_utf8(file)
    if file.suffix.lower() == ".txt":
        # as datasets' "text" builder: universal newlines, then split on "\n" only (not on \f or \u2028)
        return {"text": [line.rstrip("\n") for line in io.StringIO(text, newline=None).readlines()]}
    rows = _json_rows(file, text)
    names = dict.fromkeys(key for row in rows for key in row)
    return {key: [row.get(key) for row in rows] for key in names}


def load_local(path: "str | os.PathLike", text_column: str = "text", limit: int | None = None) -> datasets.Dataset:
    """Load a .txt (one document per non-empty line), .jsonl/.json or .parquet file, in memory.

    ``limit`` takes the first rows (blank ones count, as with ``train[:limit]``)."""
    file = require_file(path, "corpus file")
    if file.suffix.lower() not in LOCAL_FORMATS:
        raise ConfigError(f"unsupported corpus file type {file.suffix!r}; use one of: {', '.join(LOCAL_FORMATS)}")
    columns = _read_rows(file)
    if not any(columns.values()):
        raise ConfigError(f"{file.name} is empty: it holds no documents")
    if limit is not None:
        columns = {key: values[: int(limit)] for key, values in columns.items()}
    texts = columns.get(text_column, [])  # a missing column: _with_ids names the ones there are
    not_text = next(((i, t) for i, t in enumerate(texts) if not (t is None or isinstance(t, str))), None)
    if not_text:
        row, value = not_text
        raise ConfigError(
            f"{file.name}: {text_column!r} of record {row + 1} is {type(value).__name__} {str(value)[:40]!r}, "
            "not a string: every document must be text"
        )
    try:
        ds = datasets.Dataset.from_dict(columns)
    except Exception as err:  # noqa: BLE001 - arrow's type errors name no file or column
        raise ConfigError(f"{file.name}: its columns do not each hold one type ({type(err).__name__}: {err})") from None
    return _with_ids(ds, text_column, file.name)


def hub_offline() -> bool:
    """True when the environment forbids hub access (the smoke and cpu profiles set this)."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def load_hub(
    name: str,
    split: str = "train",
    text_column: str = "text",
    limit: int | None = None,
    config: str | None = None,
) -> datasets.Dataset:
    """Load a hub dataset by name (e.g. ``roneneldan/TinyStories``); ``limit`` takes the first rows."""
    if hub_offline():
        raise ConfigError(
            f"cannot load hub dataset {name!r}: the hub is offline here (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE). "
            "Use corpus='storyworld' (built in) or a local file: corpus='local', path='stories.jsonl' "
            "(txt, jsonl or parquet with a text column)."
        )
    if limit is not None:
        split = f"{split}[:{int(limit)}]"
    ds = datasets.load_dataset(name, config, split=split)
    return _with_ids(ds, text_column, name)


def train_val_split(ds: datasets.Dataset, val_fraction: float = 0.1, seed: int = 0) -> tuple[datasets.Dataset, datasets.Dataset]:
    """A seeded document-level split: the same seed always gives the same two halves."""
    check_fraction("val_fraction", val_fraction, allow_zero=False, allow_one=False)
    if len(ds) < 2:
        raise ConfigError(f"need at least 2 documents to split into train and validation, got {len(ds)}")
    parts = ds.train_test_split(test_size=val_fraction, seed=seed, shuffle=True)
    return parts["train"], parts["test"]


SOURCES = ("storyworld", "local", "hub")


def load_corpus(
    source: str = "storyworld",
    *,
    n: int | None = None,
    seed: int = 0,
    tier: str = "simple",
    path: str | None = None,
    name: str | None = None,
    text_column: str = "text",
) -> datasets.Dataset:
    """One entry point for the three sources; ``n`` documents (all of a file/hub split when None)."""
    choose("corpus source", source, SOURCES)
    if source == "storyworld":
        from mini_lib.corpora.storyworld import generate_stories

        return generate_stories(n or 10_000, seed=seed, tier=tier)
    if source == "local":
        if not path:
            raise ConfigError("corpus source 'local' needs path= (a .txt, .jsonl or .parquet file)")
        return load_local(Path(path), text_column=text_column, limit=n)
    if not name:
        raise ConfigError("corpus source 'hub' needs name= (e.g. 'roneneldan/TinyStories')")
    return load_hub(name, text_column=text_column, limit=n)
