"""Corpora from local files or the Hugging Face hub, behind the same interface as storyworld.

Every loader returns a ``datasets.Dataset`` with a ``text`` column and an integer ``id`` column
(plus whatever metadata the source has), so notebooks never care where text came from. Hub loading
is real code for users with a network; offline it fails at once with a message naming the local
alternatives, instead of hanging on retries.
"""

from __future__ import annotations

import os
from pathlib import Path

import datasets

from mini_lib.errors import ConfigError, check_fraction, choose
from mini_lib.paths import require_file

LOCAL_FORMATS = {".txt": "text", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def _with_ids(ds: datasets.Dataset, text_column: str) -> datasets.Dataset:
    """Rename the text column to ``text`` and add a running ``id`` when the source has none."""
    if text_column not in ds.column_names:
        raise ConfigError(f"no column {text_column!r} in the data; columns are: {', '.join(ds.column_names)}")
    if text_column != "text":
        if "text" in ds.column_names:
            ds = ds.remove_columns("text")
        ds = ds.rename_column(text_column, "text")
    ds = ds.filter(lambda batch: [bool(t and t.strip()) for t in batch["text"]], batched=True)
    if len(ds) == 0:
        raise ConfigError("the corpus is empty after dropping blank documents")
    if "id" not in ds.column_names:
        ds = ds.add_column("id", list(range(len(ds))))
    return ds


def load_local(path: "str | os.PathLike", text_column: str = "text", limit: int | None = None) -> datasets.Dataset:
    """Load a .txt (one document per non-empty line), .jsonl/.json or .parquet file."""
    file = require_file(path, "corpus file")
    fmt = LOCAL_FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise ConfigError(f"unsupported corpus file type {file.suffix!r}; use one of: {', '.join(LOCAL_FORMATS)}")
    split = "train" if limit is None else f"train[:{int(limit)}]"
    ds = datasets.load_dataset(fmt, data_files=str(file), split=split)
    return _with_ids(ds, text_column)


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
    return _with_ids(ds, text_column)


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
