"""A disk that fills up during a checkpoint: one line and exit code 4, no half-written checkpoint left behind,
the previous checkpoint intact, and an exact resume once there is space again. The disk is a small tmpfs
mounted for the test (root only; skipped with the reason elsewhere)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from mini_lib.__main__ import main as cli
from mini_lib.core.checkpoints import checkpoint_problem, latest_checkpoint
from tests.test_train import _corpus_file, _losses, _train_cmd

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A 64 MB tmpfs at tmp_path/disk, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True,
                                 text=True)
    except FileNotFoundError:
        pytest.skip("no mount command: cannot make a small file system to fill")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "--lazy", str(disk)], check=True)  # lazy: a failed run may still hold a file open


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to ``leave`` free bytes with one file."""
    filler = disk / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * (shutil.disk_usage(disk).free - leave))
    return filler


def test_full_disk_at_a_checkpoint_is_one_line_exit_4_and_resumes_exactly(tmp_path, small_disk, capsys, monkeypatch):
    """main: RuntimeError traceback from torch's zip writer, exit 1, and a .tmp_step_N folder left."""
    monkeypatch.setenv("MINI_LIB_CACHE", str(tmp_path / "cache"))  # the cache stays off the small disk
    corpus = _corpus_file(tmp_path)

    def train(run_dir: Path) -> int:
        return cli(_train_cmd(corpus, run_dir, steps=4, **{"checkpoint-every": 2})[3:])

    assert train(small_disk / "straight") == 0  # on an empty disk: the reference, and a checkpoint's size
    size = sum(p.stat().st_size for p in (small_disk / "straight/checkpoints/step_00000002").iterdir())
    shutil.rmtree(small_disk / "straight/checkpoints")
    filler = _fill(small_disk, leave=size * 3 // 2)  # room for the checkpoint of step 2, not for that of step 4
    capsys.readouterr()

    run_dir = small_disk / "full"
    assert train(run_dir) == 4
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:") or "Traceback" in line]
    assert len(errors) == 1 and "no space left" in errors[0].lower() and "step_00000004" in errors[0], errors
    assert errors[0].startswith("error: OSError: [Errno 28]")
    checkpoints = run_dir / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest", "step_00000002"]  # no .tmp_step_00000004
    assert (checkpoints / "latest").read_text() == "step_00000002"
    assert checkpoint_problem(checkpoints / "step_00000002") is None

    filler.unlink()
    assert train(run_dir) == 0
    assert latest_checkpoint(run_dir).name == "step_00000004"
    assert _losses(run_dir) == pytest.approx(_losses(small_disk / "straight"), abs=1e-6)
