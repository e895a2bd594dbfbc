import json
import os

import pandas as pd
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.corpora.loaders import load_corpus, load_hub, load_local, train_val_split

STORIES = ["Once upon a time there was a cat.", "", "Tom and Mia went to the park.", "The end came soon."]


@pytest.fixture
def tinystories_parquet(tmp_path):
    """A file with the TinyStories schema (a single `text` column), as the hub serves it."""
    folder = tmp_path / "TinyStories" / "data"
    folder.mkdir(parents=True)
    pd.DataFrame({"text": STORIES}).to_parquet(folder / "train-00000-of-00001.parquet")
    return folder.parent


def test_local_txt_jsonl_parquet(tmp_path, tinystories_parquet):
    (tmp_path / "a.txt").write_text("\n".join(STORIES))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps({"story": s, "label": i}) for i, s in enumerate(STORIES)))
    txt = load_local(tmp_path / "a.txt")
    jsonl = load_local(tmp_path / "b.jsonl", text_column="story")
    parquet = load_local(next(tinystories_parquet.rglob("*.parquet")))
    for ds in (txt, jsonl, parquet):
        assert ds["text"] == [s for s in STORIES if s]  # blank documents dropped
        assert ds["id"] == [0, 1, 2]
    assert jsonl["label"] == [0, 2, 3]  # metadata columns survive


def test_hub_loader_reads_a_dataset_of_the_tinystories_schema(tinystories_parquet, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    ds = load_hub(str(tinystories_parquet), limit=2)  # a local dataset folder goes through the same code
    assert ds["text"] == [STORIES[0]]  # limit=2 takes rows 0-1; the blank one is dropped
    assert "id" in ds.column_names


def test_hub_offline_fails_fast_naming_alternatives():
    with pytest.raises(ConfigError, match="storyworld.*local file"):
        load_hub("roneneldan/TinyStories")


def test_split_is_seeded_and_disjoint(tmp_path):
    (tmp_path / "a.txt").write_text("\n".join(f"story number {i}." for i in range(50)))
    ds = load_local(tmp_path / "a.txt")
    train1, val1 = train_val_split(ds, 0.2, seed=1)
    train2, val2 = train_val_split(ds, 0.2, seed=1)
    assert val1["id"] == val2["id"] and len(val1) == 10
    assert not set(train1["id"]) & set(val1["id"])
    assert train_val_split(ds, 0.2, seed=2)[1]["id"] != val1["id"]


def test_bad_inputs(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_local(tmp_path / "missing.jsonl")
    (tmp_path / "x.csv").write_text("text\nhello\n")
    with pytest.raises(ConfigError, match="unsupported"):
        load_local(tmp_path / "x.csv")
    (tmp_path / "blank.txt").write_text("\n\n")
    with pytest.raises(ConfigError, match="empty"):
        load_local(tmp_path / "blank.txt")
    (tmp_path / "c.jsonl").write_text(json.dumps({"body": "hi"}))
    with pytest.raises(ConfigError, match="columns are: body"):
        load_local(tmp_path / "c.jsonl")
    with pytest.raises(ConfigError, match="fraction"):
        train_val_split(load_local(tmp_path / "c.jsonl", text_column="body"), 1.5)
    with pytest.raises(ConfigError, match="storyworld, local, hub"):
        load_corpus("wikipedia")
    with pytest.raises(ConfigError, match="path="):
        load_corpus("local")


BAD_FILES = {  # file name: (bytes, what the one error line must say)
    "empty.txt": (b"", "empty.txt is empty"),
    "latin1.txt": ("The caf\xe9 was open.\n".encode("latin-1"), r"latin1.txt is not UTF-8 \(byte 0xe9 at offset 7\)"),
    "image.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"image.txt looks binary \(a NUL byte at offset 8\)"),
    "broken.jsonl": (b'{"text": "fine"}\n{"text": "no end}\n', "broken.jsonl line 2 is not valid JSON"),
    "numbers.jsonl": (b'{"text": "fine"}\n{"text": 42}\n', "numbers.jsonl: 'text' of record 2 is int '42', not a string"),
    "list.jsonl": (b'["a", "b"]\n', "list.jsonl record 1 is str, not a JSON object"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_local_file_gets_one_line_naming_it(tmp_path, name):
    data, says = BAD_FILES[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ConfigError, match=says) as caught:
        load_local(tmp_path / name)
    assert "\n" not in str(caught.value) and caught.value.__cause__ is None


def test_local_files_leave_no_copy_in_the_datasets_cache(tmp_path):
    """datasets.load_dataset copied every local file into ~/.cache/huggingface/datasets (200 MB -> 198 MB)."""
    import subprocess
    import sys

    home = tmp_path / "home"
    (tmp_path / "a.txt").write_text("\n".join(f"story {i}." for i in range(50)))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps({"text": f"story {i}."}) for i in range(50)))
    pd.DataFrame({"text": [f"story {i}." for i in range(50)]}).to_parquet(tmp_path / "c.parquet")
    script = (
        "import sys; from mini_lib.corpora.loaders import load_local, train_val_split\n"
        "for f in sys.argv[1:]:\n"
        "    assert len(train_val_split(load_local(f, limit=40), 0.25)[1]) == 10\n"
    )
    env = {**os.environ, "HOME": str(home), "HF_HOME": str(home / "hf"), "XDG_CACHE_HOME": str(home / "cache")}
    env.pop("HF_DATASETS_CACHE", None)
    files = [str(tmp_path / n) for n in ("a.txt", "b.jsonl", "c.parquet")]
    subprocess.run([sys.executable, "-c", script, *files], env=env, check=True, capture_output=True)
    assert [p for p in home.rglob("*") if p.is_file()] == []
