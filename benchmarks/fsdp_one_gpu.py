"""FSDP on one GPU at Pythia-410M beside data parallel: the wrapping, the sharded checkpoint and the resume
on CUDA, with tokens/s and peak memory, written as JSON into ``benchmarks/results/``.

    .venv/bin/python -m benchmarks.fsdp_one_gpu                  # a GPU machine: Pythia-410M, sequence 2048, bf16
    .venv/bin/python -m benchmarks.fsdp_one_gpu --cpu-dry-run    # the same runs on CPU with a tiny preset (tested)

Three runs of ``python -m mini_lib train`` on the same model, data, batch and steps, each through the
launcher a user types:

1. ``fsdp``: ``accelerate launch --config_file mini_lib/configs/accelerate/fsdp_8gpu.yaml --num_processes 1``;
2. ``fsdp-resumed``: the same command killed (SIGKILL, every process) after its first checkpoint, then run
   again: it resumes from the sharded checkpoint, and its losses are compared with run 1's;
3. ``ddp``: ``python -m mini_lib train``. Accelerate does not wrap one process in DDP, so this is what
   ``ddp_8gpu.yaml``'s loop computes per process: the compact forward (FSDP runs the model's own forward).

Tokens/s: the median of ``records.jsonl``'s per-step figure after the warm-up steps (checkpoint writes are
outside a step's time). Peak memory: ``train_meta.json``'s ``peak_gpu_gb`` (``torch.cuda.max_memory_allocated``
of the process); none on a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FSDP_CONFIG = REPO / "mini_lib/configs/accelerate/fsdp_8gpu.yaml"

# name: (train flags, warm-up steps left out of tokens/s)
SETTINGS = {
    "gpu": ({"preset": "pythia-410m", "seq-len": 2048, "batch-size": 16, "micro-batch-size": 8, "steps": 24,
             "checkpoint-every": 8, "n-documents": 6000, "vocab-size": 8192, "precision": "bf16", "device": "cuda"}, 4),
    "cpu-dry-run": ({"preset": "pythia-1m", "seq-len": 64, "batch-size": 8, "micro-batch-size": 4, "steps": 6,
                     "checkpoint-every": 2, "n-documents": 300, "vocab-size": 512, "precision": "fp32",
                     "device": "cpu"}, 1),
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fsdp_one_gpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-dry-run", action="store_true", help="tiny preset on CPU: checks the path, measures nothing")
    parser.add_argument("--work", default=None, help="run folders and cache (default: a temporary folder)")
    parser.add_argument("--out", default=None, help="folder of the JSON (default: benchmarks/results, or --work for a dry run)")
    args = parser.parse_args(argv)
    kind = "cpu-dry-run" if args.cpu_dry_run else "gpu"
    flags, warmup = SETTINGS[kind]
    work = Path(args.work or tempfile.mkdtemp(prefix="fsdp-one-gpu-"))
    env = {**os.environ, "MINI_LIB_CACHE": str(work / "cache"), "PYTHONPATH": str(REPO)}
    fsdp = [str(BIN / "accelerate"), "launch", "--config_file", str(FSDP_CONFIG), "--num_processes", "1"]

    runs = {"fsdp": _train(fsdp, flags, work / "fsdp", env)}
    first_checkpoint = flags["checkpoint-every"]
    _train(fsdp, flags, work / "fsdp-resumed", env, kill_after=first_checkpoint + 1)
    runs["fsdp-resumed"] = _train(fsdp, flags, work / "fsdp-resumed", env)
    runs["ddp"] = _train([sys.executable], flags, work / "ddp", env)

    straight, resumed = (_records(work / name) for name in ("fsdp", "fsdp-resumed"))
    result = {
        "what": "FSDP (fsdp_8gpu.yaml, one process) beside data parallel (one process), and a killed FSDP run resumed",
        "kind": kind, "date": date.today().isoformat(), "host": platform.node(),
        "device": json.loads((work / "fsdp/train_meta.json").read_text())["device"],
        "versions": _versions(), "settings": flags, "warmup_steps": warmup,
        "runs": {name: _summary(work / name, warmup) | {"command": run} for name, run in runs.items()},
        "resume": {
            "killed_after_step": first_checkpoint + 1,
            "resumed_from": json.loads((work / "fsdp-resumed/summary.json").read_text())["resumed_from"],
            "max_abs_loss_difference": float(np.max(np.abs(np.array(straight) - np.array(resumed)))),
        },
    }
    out = Path(args.out or (work if args.cpu_dry_run else REPO / "benchmarks/results"))
    out.mkdir(parents=True, exist_ok=True)
    name = "cpu-dry-run" if args.cpu_dry_run else f"{result['device'].replace(' ', '-')}-{date.today():%Y%m%d}"
    path = out / f"fsdp-one-gpu-{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for run_name, run in result["runs"].items():
        print(f"{run_name:13} {run['tokens_per_s']:>12,.0f} tokens/s  peak {run['peak_gpu_gb']} GB  "
              f"final loss {run['final_loss']:.4f}")
    print(f"resumed from step {result['resume']['resumed_from']}, largest loss difference to the straight run "
          f"{result['resume']['max_abs_loss_difference']:.2e}; written to {path}")
    return result


def _train(launcher: list[str], flags: dict, run_dir: Path, env: dict, kill_after: int | None = None) -> str:
    """Run ``python -m mini_lib train`` under ``launcher`` (returns the command); with ``kill_after``, kill
    every process of it once that many steps are recorded."""
    if launcher[0].endswith("accelerate"):
        launcher = [*launcher, "--main_process_port", str(_free_port())]
    command = [*launcher, "-m", "mini_lib", "train", *(x for k, v in flags.items() for x in (f"--{k}", str(v))),
               "--run-dir", str(run_dir)]
    if kill_after is None:
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
        return shlex.join(command)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    records = run_dir / "records.jsonl"
    while proc.poll() is None:
        if records.exists() and len(records.read_text().splitlines()) >= kill_after:
            # Every process, as a lost machine: launchers start their workers in sessions of their own.
            for process in [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]:
                process.kill()
            break
        time.sleep(0.05)
    proc.wait()
    if proc.returncode >= 0:
        raise RuntimeError(f"{run_dir.name} ended (code {proc.returncode}) before step {kill_after}: nothing to resume")
    return shlex.join(command)


def _records(run_dir: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run_dir / "records.jsonl").read_text().splitlines()]


def _summary(run_dir: Path, warmup: int) -> dict:
    """Throughput, memory and loss of one run, and how its parameters were spread."""
    rows = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    meta = json.loads((run_dir / "train_meta.json").read_text())
    newest = run_dir / "checkpoints" / (run_dir / "checkpoints/latest").read_text()
    return {
        "tokens_per_s": float(np.median([row["tokens_per_s"] for row in rows[warmup:]])),
        "mfu": float(np.median([row["mfu"] for row in rows[warmup:]])) if rows[-1]["mfu"] is not None else None,
        "peak_gpu_gb": meta["timing"]["peak_gpu_gb"], "step_s": meta["timing"]["step_s"],
        "final_loss": rows[-1]["loss"], "world_size": meta["world_size"], "precision": meta["precision"],
        "fsdp_units": len(meta["fsdp"]) if meta.get("fsdp") else None,
        "forward": "GPTNeoXForCausalLM.forward" if meta.get("fsdp") else "neox.CompactNeoX",
        "checkpoint_files": sorted(json.loads((newest / "manifest.json").read_text())["files"]),
    }


def _versions() -> dict:
    import accelerate
    import torch
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "accelerate": accelerate.__version__}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
