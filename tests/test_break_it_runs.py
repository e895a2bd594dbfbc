"""Break-it tests for notebook runs, round two: reruns that are interrupted, Ctrl-C and dead kernels, a
full disk under the executed notebook. Each reproduces how main failed (finished results deleted, a
lock moved, tracebacks, a torn notebook) and checks it now ends in the right files and one clear line.

Real kernels run a stand-in notebook (a parameters cell, then cells of the test's choosing) under the
name of notebook 00, so each takes seconds; real signals stop them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.core.locking import folder_lock, lock_path
from mini_lib.core.paths import REPO_ROOT
from mini_lib.lab.runner import run_notebook
from tests.test_break_it_input import FakeKernel


class InterruptingKernel(FakeKernel):
    """The fake kernel; when ``interrupt`` is set it writes what a notebook writes before its training
    cell (settings.json, the executed notebook so far), then stops as Ctrl-C stops it."""

    interrupt = False

    def __call__(self, source, output, parameters, **kwargs):
        if not self.interrupt:
            return super().__call__(source, output, parameters, **kwargs)
        run_dir = Path(parameters["run_dir"])
        self.found.append(sorted(p.name for p in run_dir.iterdir()))
        (run_dir / "settings.json").write_text(json.dumps(parameters["overrides"]))
        (run_dir / "00_quickstart.ipynb").write_text("{}")
        raise KeyboardInterrupt


@pytest.fixture
def kernel(monkeypatch, tmp_path):
    import papermill

    monkeypatch.setenv("MINI_LIB_RUNS", str(tmp_path / "runs"))
    fake = InterruptingKernel()
    monkeypatch.setattr(papermill, "execute_notebook", fake)
    return fake


# --- 3. reruns that do not finish -----------------------------------------------------------------

def test_interrupted_reruns_never_delete_the_last_complete_results(kernel):
    """main: the second interrupted rerun's previous/ replaced the first's, which held the finished
    run's results: results.json, tables, figures and notebook were gone for good."""
    run_dir = run_notebook("00", "smoke", {"steps": 10}, run_name="r").run_dir
    kernel.interrupt = True
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            run_notebook("00", "smoke", {"steps": 10}, run_name="r")
    kept = run_dir / "previous"
    assert json.loads((kept / "results.json").read_text()) == {"run": 1}
    assert sorted(p.name for p in kept.iterdir()) == [
        "00_quickstart.ipynb", "loss.png", "results.json", "settings.json", "table.csv"]
    assert sorted(p.name for p in (run_dir / "unfinished").iterdir()) == ["00_quickstart.ipynb", "settings.json"]
    assert (run_dir / "train" / "checkpoint.pt").read_text() == "from run 1"  # the rerun resumes from here
    kernel.interrupt = False
    run_notebook("00", "smoke", {"steps": 10}, run_name="r")
    assert json.loads((run_dir / "results.json").read_text()) == {"run": 4}
    assert json.loads((kept / "results.json").read_text()) == {"run": 1}


def test_a_rerun_leaves_the_locks_of_training_folders_where_they_are(kernel, tmp_path):
    """main: the rerun moved ``.train.lock`` (a top-level file) into previous/, so a training process
    still holding it no longer kept a second one out of its folder."""
    run_dir = run_notebook("00", "smoke", {"steps": 10}, run_name="r").run_dir
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from mini_lib.core.locking import folder_lock\n"
         f"with folder_lock({str(run_dir / 'train')!r}):\n    print('held', flush=True); time.sleep(60)"],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        run_notebook("00", "smoke", {"steps": 10}, run_name="r")
        assert lock_path(run_dir / "train").is_file() and not (run_dir / "previous" / ".train.lock").exists()
        with pytest.raises(ConfigError, match=f"in use by pid {holder.pid}"):
            with folder_lock(run_dir / "train"):
                pass
    finally:
        holder.kill()
        holder.wait()


# --- 4-5. real kernels: Ctrl-C, a dead kernel, a full disk -----------------------------------------

STAND_IN = "00_quickstart"


def _stand_in(folder: Path, *cells: str) -> Path:
    """A notebook named like notebook 00: the parameters cell, then ``cells``."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('profile = "cpu"\noverrides = {}\nrun_dir = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / f"{STAND_IN}.ipynb")
    return folder


def _cli(notebooks: Path, runs: Path, *args: str, **popen) -> subprocess.Popen:
    """``python -m mini_lib run`` in a fresh process whose notebooks folder is ``notebooks``."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        import mini_lib.lab.runner as runner
        runner.NOTEBOOK_DIR = Path({str(notebooks)!r})
        from mini_lib.__main__ import main
        sys.exit(main({["run", "00", "--profile", "smoke", *args]!r}))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MINI_LIB_RUNS": str(runs), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", code], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_ctrl_c_as_in_a_terminal, **popen)


def _ctrl_c_as_in_a_terminal() -> None:
    """A shell without job control that starts the tests in the background (``pytest &``) ignores SIGINT, and
    a child inherits an ignored signal, so Python would never raise KeyboardInterrupt in it. A user's run
    in a terminal gets Ctrl-C: give the child the default disposition, as a terminal's process has."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_cell(proc: subprocess.Popen, number: str) -> None:
    """Read the run's progress lines until cell ``number`` (e.g. "3/4") has finished."""
    for line in proc.stdout:
        if line.split()[:2] == ["cell", number]:
            return
    pytest.fail(f"the run ended before cell {number}: {proc.wait()} {proc.stderr.read()}")


def _kernels(proc: subprocess.Popen) -> list[psutil.Process]:
    return [p for p in psutil.Process(proc.pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]


def _gone(processes: list[psutil.Process], seconds: float = 20.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes):
            return True
        time.sleep(0.2)
    return False


def test_ctrl_c_on_a_run_is_one_line_with_exit_code_130_and_the_partial_notebook(tmp_path):
    """main: a KeyboardInterrupt traceback, and the kernel printed a ZMQError traceback of its own."""
    notebooks = _stand_in(tmp_path / "nb", "x = 41", "import time\ntime.sleep(120)")
    proc = _cli(notebooks, tmp_path / "runs", "--name", "r")
    _wait_for_cell(proc, "3/4")
    kernels = _kernels(proc)
    time.sleep(0.5)  # into the sleeping cell
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    executed = tmp_path / "runs" / STAND_IN / "r" / f"{STAND_IN}.ipynb"
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == [
        f"error: interrupted {STAND_IN} in cell 4 of 4; partial executed notebook: {executed}; "
        "the same command resumes it"]
    assert nbformat.read(executed, as_version=4).cells[2].source == "x = 41"
    assert kernels and _gone(kernels)


def test_a_dead_kernel_is_one_line_with_exit_code_6_and_the_partial_notebook(tmp_path):
    """main: a 36-line DeadKernelError traceback, exit code 1, and no path of the partial notebook."""
    notebooks = _stand_in(tmp_path / "nb", "x = 41", "import time\ntime.sleep(120)")
    proc = _cli(notebooks, tmp_path / "runs")
    _wait_for_cell(proc, "3/4")
    (kernel,) = _kernels(proc)
    time.sleep(0.5)
    kernel.kill()  # as the out-of-memory killer does
    _, err = proc.communicate(timeout=120)
    (run_dir,) = (tmp_path / "runs" / STAND_IN).iterdir()
    executed = run_dir / f"{STAND_IN}.ipynb"
    assert proc.returncode == 6, err
    assert err.strip().splitlines() == [
        f"error: the kernel running {STAND_IN} died in cell 4 of 4 (out of memory, or killed); partial executed "
        f"notebook: {executed}; add --name {run_dir.name} to the command to resume it"]
    assert nbformat.read(executed, as_version=4).cells[2].source == "x = 41"


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs: a real full file system (needs root and a mount namespace that allows it)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not root'}): the full-disk test needs one")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_under_the_executed_notebook_leaves_its_last_complete_save(tmp_path, small_disk):
    """main: the save that hit the full disk left a torn .ipynb, which report and reruns then read."""
    notebooks = _stand_in(tmp_path / "nb", "x = 41", "print('y' * 1_000_000)")
    proc = _cli(notebooks, small_disk, "--name", "r", "--quiet")
    _, err = proc.communicate(timeout=300)
    run_dir = small_disk / STAND_IN / "r"
    executed = run_dir / f"{STAND_IN}.ipynb"
    saved = nbformat.read(executed, as_version=4)  # main: NotJSONError, the file ends mid-output
    assert saved.cells[2].source == "x = 41"
    assert proc.returncode == 4, err
    assert err.strip().splitlines() == [
        f"error: OSError: [Errno 28] No space left on device: cannot save the executed notebook {executed} "
        "(its last complete save is kept)"]
    assert sorted(p.name for p in run_dir.iterdir()) == [f"{STAND_IN}.ipynb", "run.json"]  # no temporary file left
    assert sorted(p.name for p in run_dir.parent.iterdir()) == ["r"]  # nor a lock

