"""Atomic writes: readers see the old content or the new, never a half-written file or folder."""

import pytest

from mini_lib.core.paths import atomic_folder, write_text_atomic


def test_atomic_folder_replaces_the_old_folder_only_when_the_block_finishes(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_folder(target) as staging:
        (staging / "new.txt").write_text("new")
        assert (target / "old.txt").is_file() and staging.parent == tmp_path and staging != target
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging folder left


def test_a_failing_block_keeps_the_old_folder_and_removes_its_staging(tmp_path):
    target = tmp_path / "deep" / "tokenizer"  # missing parents are created
    with atomic_folder(target) as staging:
        (staging / "a.json").write_text("{}")
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_folder(target) as staging:
            (staging / "b.json").write_text("{}")
            raise RuntimeError("crash while saving")
    assert [p.name for p in target.iterdir()] == ["a.json"]
    assert [p.name for p in target.parent.iterdir()] == ["tokenizer"]


def test_write_text_atomic_replaces_the_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "cell.json"
    assert write_text_atomic(path, "1") == path and path.read_text() == "1"
    write_text_atomic(path, "2")
    assert path.read_text() == "2" and [p.name for p in tmp_path.iterdir()] == ["cell.json"]


def test_move_aside_keeps_every_moved_folder_whole_and_distinct(tmp_path):
    from mini_lib.core.paths import move_aside

    targets = []
    for content in ("first", "second"):
        run = tmp_path / "run"
        run.mkdir()
        (run / "results.json").write_text(content)
        targets.append(move_aside(run, tmp_path / ".replaced", "run-same-second-"))
        assert not run.exists()
    assert targets[0] != targets[1] and all(t.parent == tmp_path / ".replaced" for t in targets)
    assert [(t / "results.json").read_text() for t in targets] == ["first", "second"]
