"""FSDP and multi-node runs of the one training loop, in real CPU processes (gloo): the shipped FSDP config
really shards every layer, sharded checkpoints keep the guarantees of full ones and resume on another
number of processes, and two machines train what one process trains.

Tolerance: the losses of a sharded or multi-machine run equal the single-process run's within 1e-5
(absolute). The runs compute the same sums in another order: gradients are reduce-scattered over the
processes, and under FSDP the model's own forward runs instead of the compact one (``core.sharding``).
"""

import json
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from mini_lib.__main__ import main as cli
from mini_lib.core.checkpoints import latest_checkpoint
from tests.test_train import BIN, REPO, _corpus_file, _env, _losses, _train_cmd

STEPS = 8
TOLERANCE = 1e-5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]


def _assert_same_run(run_dir: Path, reference: Path) -> None:
    """Same data order (the examples of every step) and the same losses within TOLERANCE."""
    ours, theirs = _records(run_dir), _records(reference)
    assert [r["example_ids"] for r in ours] == [r["example_ids"] for r in theirs]
    np.testing.assert_allclose(_losses(run_dir), _losses(reference), rtol=0, atol=TOLERANCE)


def _assert_sharded(run_dir: Path, processes: int) -> None:
    """Each process holds a part, never all, of every layer; together they hold all of it."""
    units = json.loads((run_dir / "train_meta.json").read_text())["fsdp"]
    layers = {name: unit for name, unit in units.items() if name.startswith("gpt_neox.layers.")}
    assert len(layers) == 4  # pythia-1m's layers, each its own FSDP unit
    for unit in units.values():
        assert len(unit["per_process"]) == processes and sum(unit["per_process"]) == unit["parameters"]
        assert all(0 < held < unit["parameters"] for held in unit["per_process"])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sharding")


@pytest.fixture(scope="module")
def single(workdir) -> Path:
    """The single-process run every other run must reproduce."""
    run_dir = workdir / "single"
    subprocess.run(_train_cmd(_corpus_file(workdir), run_dir, steps=STEPS), env=_env(workdir), check=True,
                   capture_output=True)
    return run_dir


def test_fsdp_config_shards_every_layer_and_matches_one_process(workdir, single):
    """The shipped config through `accelerate launch`, with 2 processes (main: trained unsharded, silently)."""
    run_dir = workdir / "fsdp-config"
    launcher = [str(BIN / "accelerate"), "launch", "--config_file", str(REPO / "mini_lib/configs/accelerate/fsdp_8gpu.yaml"),
                "--num_processes", "2", "--main_process_port", str(_free_port())]
    subprocess.run(_train_cmd(_corpus_file(workdir), run_dir, launcher=launcher, steps=STEPS, **{"checkpoint-every": 4}),
                   env=_env(workdir), check=True, capture_output=True)
    _assert_sharded(run_dir, processes=2)
    files = set(json.loads((run_dir / "checkpoints/step_00000008/manifest.json").read_text())["files"])
    assert files == {".metadata", "__0_0.distcp", "__1_0.distcp", "trainer_state.json"}  # each process's shards
    _assert_same_run(run_dir, single)


def test_sharded_checkpoint_survives_sigkill_and_damage_and_resumes_on_one_process(workdir, single, capsys,
                                                                                    monkeypatch):
    """2 processes killed at a random step; the newest checkpoint then damaged in one process's shard.
    One process resumes from the newest intact one; without FSDP the checkpoint is refused in one line."""
    corpus, env, run_dir = _corpus_file(workdir), _env(workdir), workdir / "killed"
    flags = {"checkpoint-every": 2, "fsdp": True}

    def torchrun(processes: int) -> list[str]:
        return [str(BIN / "torchrun"), "--nproc_per_node", str(processes), "--master_port", str(_free_port())]

    cmd = _train_cmd(corpus, run_dir, launcher=torchrun(2), steps=STEPS, **flags)
    kill_after = random.Random().randint(5, 7)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records, deadline = run_dir / "records.jsonl", time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if records.exists() and len(records.read_text().splitlines()) >= kill_after:
            # Every process, as a lost machine: torchrun starts its workers in sessions of their own.
            for process in [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]:
                process.kill()
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    newest = latest_checkpoint(run_dir)
    shard = newest / "__1_0.distcp"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    older = int(newest.name.removeprefix("step_")) - 2

    cmd = _train_cmd(corpus, run_dir, launcher=torchrun(1), steps=STEPS, **flags)
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["world_size"] == 1 and summary["resumed_from"] == older
    assert f"skipping damaged checkpoint {newest}" in out.stderr
    _assert_same_run(run_dir, single)

    monkeypatch.setenv("MINI_LIB_CACHE", env["MINI_LIB_CACHE"])
    assert cli(_train_cmd(corpus, run_dir, steps=STEPS, **{"checkpoint-every": 2})[3:]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:") or "Traceback" in line]
    assert len(errors) == 1 and "holds FSDP shards" in errors[0] and "--fsdp" in errors[0]


def test_two_machines_match_one_process(workdir, single):
    """Two torchrun "machines" on localhost, one process each, sharding the model between them."""
    corpus, env, run_dir, port = _corpus_file(workdir), _env(workdir), workdir / "two-nodes", _free_port()
    procs = []
    for node in (0, 1):
        launcher = [str(BIN / "torchrun"), "--nnodes", "2", "--node_rank", str(node), "--nproc_per_node", "1",
                    "--master_addr", "127.0.0.1", "--master_port", str(port)]
        cmd = _train_cmd(corpus, run_dir, launcher=launcher, steps=STEPS, fsdp=True)
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [proc.communicate(timeout=600) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs[0][1][-2000:] + outputs[1][1][-2000:]
    assert json.loads(outputs[0][0].strip().splitlines()[-1])["world_size"] == 2
    _assert_sharded(run_dir, processes=2)
    _assert_same_run(run_dir, single)
