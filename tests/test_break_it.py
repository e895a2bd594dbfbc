"""Break-it tests for run folders: each reproduces a way a run folder lied on main (wrong data resumed,
two runs mixed, duplicate rows, damaged checkpoints, torn records, two writers, swallowed zeros, raw
tracebacks) and checks it now ends in the right result or one clear error."""

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import mini_lib.corpora.loaders as loaders
from mini_lib.__main__ import main as cli
from mini_lib.core.checkpoints import checkpoint_problem, latest_checkpoint, read_frame
from mini_lib.core.errors import ConfigError
from mini_lib.core.locking import folder_lock, lock_path
from mini_lib.core.store import data_fingerprint
from mini_lib.core.tokenization import PackedBlocks
from mini_lib.core.train import train
from tests.helpers import single_thread, tiny_model, tiny_setup
from tests.test_train import REPO, _corpus_file, _env, _train_cmd, quick

pytestmark = pytest.mark.usefixtures("one_thread")


class Killed(BaseException):
    """Stands in for SIGKILL inside one process: no ``except Exception`` catches it."""


def crash_at(step: int):
    def crash(info):
        if info.step == step:
            raise Killed(f"killed after step {step}")
    return crash


def run(folder: Path, blocks=None, resume=True, callbacks=(), vocab_extra=0, **kw):
    tokenizer, default = tiny_setup()
    return train(tiny_model(len(tokenizer) + vocab_extra), default if blocks is None else blocks, quick(**kw), folder,
                 val_data=default, resume=resume, callbacks=callbacks)


def losses(folder: Path) -> list[float]:
    return read_frame(folder / "records.jsonl")["loss"].tolist()


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> list[float]:
    """Losses of an uninterrupted 6-step run checkpointing every 2 steps: what every recovery must match."""
    folder = tmp_path_factory.mktemp("straight") / "run"
    with single_thread():
        run(folder, steps=6, checkpoint_every=2, resume=False)
    return losses(folder)


def cli_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:") or "Traceback" in line]


# --- 1. resume checks the data and the model, not only the settings ---------------------------------

def test_resume_refuses_other_data_or_model_naming_what_changed(tmp_path):
    _, blocks = tiny_setup()
    folder = tmp_path / "r"
    run(folder, steps=4, checkpoint_every=2, resume=False)
    with pytest.raises(ConfigError, match=rf"number of training examples {len(blocks)} -> 40") as fewer:
        run(folder, blocks=blocks.head(40), steps=4, checkpoint_every=2)
    reordered = PackedBlocks(blocks.tokens[::-1].copy(), blocks.doc_ids, blocks.doc_starts)  # same size
    with pytest.raises(ConfigError, match="training data"):
        run(folder, blocks=reordered, steps=4, checkpoint_every=2)
    with pytest.raises(ConfigError, match="model shapes"):
        run(folder, vocab_extra=8, steps=4, checkpoint_every=2)
    assert "\n" not in str(fewer.value)
    assert run(folder, steps=4, checkpoint_every=2).resumed_from == 4  # unchanged: it resumes


def test_data_without_a_fingerprint_method_is_hashed_from_its_batches():
    _, blocks = tiny_setup()

    class Plain:  # a TrainData without fingerprint()
        def __init__(self, data):
            self.data = data

        def __len__(self):
            return len(self.data)

        def collate(self, indices):
            return self.data.collate(indices)

    reordered = PackedBlocks(blocks.tokens[::-1].copy(), blocks.doc_ids, blocks.doc_starts)
    assert data_fingerprint(Plain(blocks)) == data_fingerprint(Plain(blocks))
    assert data_fingerprint(Plain(blocks)) != data_fingerprint(Plain(reordered))
    assert data_fingerprint(Plain(blocks)) != data_fingerprint(Plain(blocks.head(40)))


# --- 2. a fresh start moves the previous run aside ------------------------------------------------

def test_fresh_start_moves_the_previous_run_aside_instead_of_resuming_it_later(tmp_path):
    folder = tmp_path / "run"
    finished = run(folder, steps=6, checkpoint_every=3, resume=False)
    with pytest.raises(Killed):
        run(folder, steps=6, checkpoint_every=3, resume=False, callbacks=[crash_at(1)])  # dies before a checkpoint
    assert not (folder / "checkpoints").exists()
    again = run(folder, steps=6, checkpoint_every=3)  # on main: "resumed" from the old run's step 6
    assert again.resumed_from is None
    assert again.records["step"].tolist() == [1, 2, 3, 4, 5, 6]
    aside = sorted(tmp_path.glob(".run.replaced-*"))
    assert len(aside) == 2  # the finished run, then the killed one; nothing deleted
    kept = next(p for p in aside if (p / "checkpoints").exists())
    assert losses(kept) == finished.records["loss"].tolist()
    assert latest_checkpoint(kept).name == "step_00000006"


# --- 3. a finished run rerun returns its result -------------------------------------------------

def test_rerun_of_a_finished_run_returns_it_without_new_rows_or_checkpoints(tmp_path):
    folder = tmp_path / "f"
    settings = dict(steps=5, checkpoint_every=2, eval_every=2, eval_examples=16)
    first = run(folder, resume=False, **settings)
    before = {name: (folder / name).read_text() for name in ("records.jsonl", "evals.jsonl")}
    final = folder / "checkpoints" / "step_00000005" / "model.safetensors"
    final_inode = final.stat().st_ino
    again = run(folder, **settings)
    assert again.resumed_from == 5
    assert {name: (folder / name).read_text() for name in before} == before  # main: a second step-5 eval row
    assert final.stat().st_ino == final_inode  # main: deleted and rewritten the checkpoint `latest` names
    assert again.final_eval == first.final_eval
    assert again.evals["step"].tolist() == [0, 2, 4, 5]
    for a, b in zip(first.model.parameters(), again.model.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


# --- 4. damaged checkpoints: fall back to the newest intact one -----------------------------------

def flip_4kb(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-8192:-4096] = bytes(b ^ 0xFF for b in data[-8192:-4096])  # tensor bytes, past the header
    path.write_bytes(bytes(data))


def truncate_half(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize("damage", [
    lambda step: flip_4kb(step / "model.safetensors"),  # main: resumed silently with a wrong model
    lambda step: truncate_half(step / "optimizer.bin"),  # main: raw traceback
    shutil.rmtree,  # `latest` names a deleted folder; main: restarted at 0 and deleted the records
], ids=["flipped-bytes", "truncated", "deleted"])
def test_damaged_newest_checkpoint_falls_back_to_the_newest_intact_one(tmp_path, straight, damage):
    folder = tmp_path / "d"
    with pytest.raises(Killed):
        run(folder, steps=6, checkpoint_every=2, resume=False, callbacks=[crash_at(5)])
    damage(folder / "checkpoints" / "step_00000004")
    with pytest.warns(UserWarning, match="step_00000004"):
        resumed = run(folder, steps=6, checkpoint_every=2)
    assert resumed.resumed_from == 2
    assert losses(folder) == pytest.approx(straight, abs=1e-6)


def test_a_kill_at_any_checkpoint_write_leaves_latest_naming_an_intact_checkpoint(tmp_path, monkeypatch, straight):
    """Kill (in turn) at the rename into place, at the pointer update and halfway through pruning."""
    folder = tmp_path / "k"
    pointer = folder / "checkpoints" / "latest"
    real_replace, real_rmtree = os.replace, shutil.rmtree

    def kill_renaming_step_4_into_place(src, dst):
        if Path(dst).name == "step_00000004":
            raise Killed(f"killed before renaming {src}")
        real_replace(src, dst)

    def kill_pointing_latest_at_step_4(src, dst):
        if Path(dst).name == "latest" and Path(src).read_text() == "step_00000004":
            raise Killed("killed before moving the pointer")
        real_replace(src, dst)

    def rmtree_halfway(path, *args, **kwargs):
        if Path(path).name == "step_00000002":
            next(Path(path).glob("*.bin")).unlink()
            raise Killed("killed while pruning")
        real_rmtree(path, *args, **kwargs)

    for fault in (kill_renaming_step_4_into_place, kill_pointing_latest_at_step_4):
        monkeypatch.setattr(os, "replace", fault)
        with pytest.raises(Killed):
            run(folder, steps=6, checkpoint_every=2)
        monkeypatch.setattr(os, "replace", real_replace)
        assert checkpoint_problem(pointer.parent / pointer.read_text()) is None
    monkeypatch.setattr(shutil, "rmtree", rmtree_halfway)
    with pytest.raises(Killed):
        run(folder, steps=6, checkpoint_every=2)
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)
    assert checkpoint_problem(pointer.parent / pointer.read_text()) is None
    assert run(folder, steps=6, checkpoint_every=2).resumed_from == 6
    assert losses(folder) == pytest.approx(straight, abs=1e-6)


# --- 5. a torn last record ------------------------------------------------------------------------

def test_torn_record_from_a_full_disk_is_dropped_on_resume(tmp_path, monkeypatch, straight):
    folder = tmp_path / "t"
    real_open = Path.open

    class FullDisk:
        """records.jsonl whose 5th write stores half the line, then fails as a full disk does."""

        def __init__(self, f):
            self.f, self.writes = f, 0

        def write(self, text):
            self.writes += 1
            if self.writes == 5:
                self.f.write(text[: len(text) // 2])
                self.f.flush()
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(text)

        def __getattr__(self, name):
            return getattr(self.f, name)

    def open_(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return FullDisk(f) if path.name == "records.jsonl" and mode == "a" else f

    monkeypatch.setattr(Path, "open", open_)
    with pytest.raises(OSError, match="No space"):
        run(folder, steps=6, checkpoint_every=2, resume=False)
    monkeypatch.setattr(Path, "open", real_open)
    assert not (folder / "records.jsonl").read_text().endswith("\n")
    assert read_frame(folder / "records.jsonl")["step"].tolist() == [1, 2, 3, 4]  # main: JSONDecodeError
    assert run(folder, steps=6, checkpoint_every=2).resumed_from == 4
    assert losses(folder) == pytest.approx(straight, abs=1e-6)


def test_a_damaged_line_before_the_last_is_one_clear_error(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"step": 1}\n{"step": 2\n{"step": 3}\n')
    with pytest.raises(ConfigError, match="line 2"):
        read_frame(path)


# --- 6. one writer per folder ---------------------------------------------------------------------

def _wait_for(predicate, proc, seconds=120.0) -> None:
    deadline = time.time() + seconds
    while not predicate():
        assert proc.poll() is None and time.time() < deadline, "the first process ended or hung"
        time.sleep(0.05)


def test_second_train_process_is_refused_and_a_killed_holders_lock_is_taken_over(tmp_path):
    corpus, env = _corpus_file(tmp_path), _env(tmp_path)
    folder = tmp_path / "shared"
    first = subprocess.Popen(_train_cmd(corpus, folder, steps=100_000), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: (folder / "records.jsonl").is_file() and (folder / "records.jsonl").stat().st_size, first)
        second = subprocess.run(_train_cmd(corpus, folder, steps=100_000), env=env, capture_output=True, text=True,
                                timeout=300)
        assert second.returncode == 2, second.stderr  # main: both train, every step recorded twice
        assert f"in use by pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    steps = read_frame(folder / "records.jsonl")["step"].tolist()
    assert steps == list(range(1, len(steps) + 1))  # only the first process wrote
    assert lock_path(folder).exists()  # left behind by the killed holder...
    third = subprocess.run(_train_cmd(corpus, folder, steps=4), env=env, capture_output=True, text=True)
    assert third.returncode == 0, third.stderr  # ...and taken over
    assert read_frame(folder / "records.jsonl")["step"].tolist() == [1, 2, 3, 4]
    assert not lock_path(folder).exists()


def test_second_notebook_run_with_the_same_name_is_refused(tmp_path):
    env = {**_env(tmp_path), "MINI_LIB_RUNS": str(tmp_path / "runs")}
    folder = tmp_path / "runs" / "00_quickstart" / "same"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from mini_lib.core.locking import folder_lock\n"
         f"with folder_lock({str(folder)!r}):\n    print('held', flush=True); time.sleep(120)"],
        env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        second = subprocess.run([sys.executable, "-m", "mini_lib", "run", "00", "--profile", "smoke", "--name", "same"],
                                env=env, capture_output=True, text=True, cwd=REPO)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 2, second.stderr
    assert f"in use by pid {holder.pid}" in second.stderr
    assert not (folder / "00_quickstart.ipynb").exists()


def test_lock_is_exclusive_and_released(tmp_path):
    with folder_lock(tmp_path / "x"):
        with pytest.raises(ConfigError, match=f"pid {os.getpid()}"):
            with folder_lock(tmp_path / "x"):
                pass
    with folder_lock(tmp_path / "x"):  # free again
        pass


# --- 7-8. the CLI: zeros, and one line with an exit code per kind of failure ----------------------

def cli_train(tmp_path, *extra: str) -> list[str]:
    corpus = _corpus_file(tmp_path)
    return ["train", "--corpus", "local", "--path", str(corpus), "--n-documents", "300", "--vocab-size", "320",
            "--seq-len", "32", "--steps", "4", "--batch-size", "8", "--precision", "fp32", "--device", "cpu",
            "--run-dir", str(tmp_path / "cli"), *extra]


@pytest.mark.parametrize("flags,message", [
    (["--lr", "0"], "lr must be > 0"),  # main: trained at the preset's 1e-3
    (["--n-documents", "0"], "--n-documents must be >= 1"),  # main: trained on 10,000 stories
])
def test_explicit_zero_is_rejected_in_one_line(tmp_path, capsys, flags, message):
    assert cli(cli_train(tmp_path, *flags)) == 2
    lines = cli_lines(capsys)
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "cli").exists()  # before any work


def test_cli_exit_codes_for_divergence_io_and_unloadable_checkpoints(tmp_path, capsys):
    assert cli(cli_train(tmp_path, "--lr", "1e6")) == 3
    assert "loss became nan" in cli_lines(capsys)[0]
    (tmp_path / "a-file").write_text("")
    assert cli(cli_train(tmp_path, "--run-dir", str(tmp_path / "a-file"))) == 4
    assert cli_lines(capsys) == [f"error: FileExistsError: [Errno 17] File exists: '{tmp_path / 'a-file'}'"]

    assert cli(cli_train(tmp_path, "--checkpoint-every", "2")) == 0
    newest = tmp_path / "cli" / "checkpoints" / "step_00000004"
    (newest / "model.safetensors").write_bytes(b"not a safetensors file")  # intact by its (rewritten) manifest
    manifest = json.loads((newest / "manifest.json").read_text())
    manifest["files"]["model.safetensors"] = hashlib.sha256(b"not a safetensors file").hexdigest()
    (newest / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert cli(cli_train(tmp_path, "--checkpoint-every", "2")) == 5
    lines = cli_lines(capsys)
    assert len(lines) == 1 and "cannot be loaded" in lines[0] and "--no-resume" in lines[0]


def test_unreachable_hub_is_one_line_and_only_hub_corpora_go_online(tmp_path, capsys, monkeypatch):
    seen = {}

    def unreachable(name, **kwargs):
        seen["offline"] = os.environ.get("HF_HUB_OFFLINE")
        raise ConnectionError(f"Couldn't reach '{name}' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(loaders, "load_hub", unreachable)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert cli(cli_train(tmp_path, "--corpus", "hub", "--name", "someone/stories")) == 4
    assert seen["offline"] == "0"  # the user asked for the hub: not forced offline
    assert cli_lines(capsys) == ["error: ConnectionError: Couldn't reach 'someone/stories' on the Hub (LocalEntryNotFoundError)"]


def test_train_forces_the_hub_offline_before_the_hub_libraries_load(tmp_path):
    """In a fresh process (the libraries read the setting once, at import), for a non-hub corpus."""
    env = {k: v for k, v in _env(tmp_path).items() if not k.endswith("_OFFLINE")}
    code = ("import sys; from mini_lib.__main__ import main\n"
            f"code = main({cli_train(tmp_path, '--precision', 'fp8')!r})\n"
            "import huggingface_hub.constants as c, datasets.config as d\n"
            "print(code, c.HF_HUB_OFFLINE, d.HF_DATASETS_OFFLINE)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "True", "True"]  # main: False False (a 32 s wait on a dead network)
