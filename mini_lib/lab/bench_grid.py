"""Grid throughput: K same-shape cells trained together (``run_grid(fuse=K)``) against one at a time.

``python -m mini_lib bench grid [--cells K] [--device auto|cpu|cuda]`` builds K cells of notebook 03's gpu
grid shape (4 layers, d 128, 4 heads, context 128, batch 32, vocabulary 8192, tied embeddings; the small
flags shrink it for a CPU), each with its own seed (initial weights and data order) on the same random
blocks, and trains them through ``run_grid`` both ways in fresh folders, alternating rounds and keeping
each way's best (the least disturbed by other work on the machine). It reports cells per second end to
end (set-up, steps, commits), cells per second at the steady step time, tokens/s, MFU (where the device's
peak is known) and peak memory, and checks that both ways reach the same final losses. The JSON (device,
versions, command) goes to ``runs/bench/`` unless ``--out`` names a file (``benchmarks/results/...``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.grid import GridCell, run_grid
from mini_lib.core.hardware import device_name, peak_flops, resolve_device
from mini_lib.core.models import build_model, model_size
from mini_lib.core.train import TrainConfig
from mini_lib.lab.bench import _peak_memory_gb, random_blocks, versions
from mini_lib.papers.quality_quantity.experiment import paper_model
from mini_lib.papers.quality_quantity.settings import QualityQuantitySettings

WAYS = ("one_at_a_time", "together")
LOSS_AGREEMENT = 1e-4  # fp32: both ways must reach the same final losses (the tests hold 1e-5 per step)


def grid_cells(settings: QualityQuantitySettings, k: int, steps: int, precision: str, device: str) -> list[GridCell]:
    """K cells of the settings' model shape on the same random blocks, seeds 0..K-1, no evaluation."""
    model_config = paper_model(settings, settings.vocab_size)
    blocks = random_blocks(max(settings.batch_size * steps, 64), settings.seq_len, settings.vocab_size)
    config = TrainConfig.from_settings(settings, steps=steps, warmup_steps=max(1, steps // 10), eval_every=0,
                                       precision=precision, device=device, progress=False, log_every=steps)
    return [GridCell(name=f"cell{s}", tags={"seed": s}, make_model=lambda s=s: build_model(model_config, seed=s),
                     train_data=blocks, config=replace(config, seed=s)) for s in range(k)]


def measure(cells: list[GridCell], fuse: int, device: torch.device, precision: str) -> dict:
    """Train ``cells`` in a fresh folder with ``fuse`` and time it: end to end, and the median step."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = run_grid(cells, folder, fuse=fuse)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        wall = time.perf_counter() - started
        metas = [json.loads((Path(folder) / c.name / "train_meta.json").read_text()) for c in cells]
    k, steps = len(cells), cells[0].config.steps
    # together: each cell's step time is the group's; one at a time: the cells' steps follow each other
    step_s = [m["timing"]["step_s"] for m in metas]
    grid_step_s = float(np.median(step_s)) if fuse > 1 else float(np.sum(step_s))
    tokens_per_s = k * int(result.summary["tokens_per_step"].iloc[0]) / grid_step_s
    peak = peak_flops(device, precision)
    return {"fuse": fuse, "wall_s": wall, "cells_per_s": k / wall, "grid_step_s": grid_step_s,
            "cells_per_s_steady": k / (steps * grid_step_s), "tokens_per_s": tokens_per_s,
            "mfu": float(result.summary["flops_per_token"].iloc[0]) * tokens_per_s / peak if peak else None,
            "peak_memory_gb": _peak_memory_gb(device),
            "final_train_loss": result.summary["final_train_loss"].tolist()}


def compare(settings: QualityQuantitySettings, k: int, steps: int, precision: str, device: str, rounds: int) -> dict:
    """Both ways, alternating for ``rounds`` rounds; each keeps its best (most cells per second)."""
    if k < 2 or rounds < 1 or steps < 3:
        raise ConfigError(f"need --cells >= 2, --rounds >= 1 and --steps >= 3, got {k}, {rounds}, {steps}")
    torch_device = torch.device(resolve_device(device))
    load_before = os.getloadavg()[0]  # others' work on the machine: a busy one slows both ways
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for way in WAYS:
            result = measure(grid_cells(settings, k, steps, precision, device), k if way == "together" else 1,
                             torch_device, precision)
            if way not in best or result["cells_per_s"] > best[way]["cells_per_s"]:
                best[way] = result
    alone, together = best["one_at_a_time"], best["together"]
    difference = float(np.max(np.abs(np.subtract(alone["final_train_loss"], together["final_train_loss"]))))
    model_config = paper_model(settings, settings.vocab_size)
    return {
        "benchmark": "grid", "cells": k, "steps": steps, "rounds": rounds, "precision": precision,
        "device": device_name(torch_device),
        "shape": {"n_layers": settings.n_layers, "d_model": settings.d_model, "n_heads": settings.n_heads,
                  "seq_len": settings.seq_len, "batch_size": settings.batch_size, "vocab_size": settings.vocab_size,
                  "tie_embeddings": settings.tie_embeddings,
                  "parameters": model_size(model_config, settings.seq_len).total},
        "results": best,
        "speedup": together["cells_per_s"] / alone["cells_per_s"],
        "speedup_steady": together["cells_per_s_steady"] / alone["cells_per_s_steady"],
        "max_final_loss_difference": difference,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": [load_before, os.getloadavg()[0]],  # at the start and the end
        "versions": versions(),
    }


def format_report(report: dict) -> str:
    shape = report["shape"]
    lines = [f"grid of {report['cells']} cells, {shape['n_layers']} layers d{shape['d_model']}, seq {shape['seq_len']}, "
             f"batch {shape['batch_size']}, {report['steps']} steps, {report['precision']} on {report['device']}"]
    for way, r in report["results"].items():
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a"
        lines.append(f"{way:>14}: {r['cells_per_s']:.3f} cells/s end to end, {r['cells_per_s_steady']:.3f} at the "
                     f"steady step ({r['tokens_per_s']:,.0f} tokens/s, MFU {mfu}, peak mem {r['peak_memory_gb']:.2f} GB)")
    lines.append(f"together / one at a time: {report['speedup']:.2f}x end to end, {report['speedup_steady']:.2f}x steady; "
                 f"final losses agree to {report['max_final_loss_difference']:.1e}")
    return "\n".join(lines)


def main(argv: list[str]) -> dict:
    gpu = QualityQuantitySettings()  # notebook 03's gpu grid shape
    parser = argparse.ArgumentParser(prog="python -m mini_lib bench grid")
    parser.add_argument("--cells", type=int, default=8, help="K: cells trained together (default 8)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=None, help="per cell (default 40 on a GPU, 10 on a CPU)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; each way keeps its best")
    parser.add_argument("--precision", default=None, help="default bf16 on a GPU, fp32 on a CPU")
    for name in ("n_layers", "d_model", "n_heads", "seq_len", "batch_size", "vocab_size"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(gpu, name),
                            help=f"default {getattr(gpu, name)} (notebook 03's gpu profile)")
    parser.add_argument("--out", default=None, help="JSON file (default: runs/bench/grid-<device>-<time>.json)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    settings = replace(gpu, **{name: getattr(args, name) for name in
                               ("n_layers", "d_model", "n_heads", "seq_len", "batch_size", "vocab_size")})
    steps = args.steps if args.steps is not None else (40 if device == "cuda" else 10)
    precision = args.precision or ("bf16" if device == "cuda" else "fp32")
    report = compare(settings, args.cells, steps, precision, device, args.rounds)
    if precision == "fp32" and report["max_final_loss_difference"] > LOSS_AGREEMENT:
        raise ConfigError(f"together and one at a time disagree: final losses differ by {report['max_final_loss_difference']:.2e}")
    report["command"] = "python -m mini_lib bench grid " + " ".join(argv)
    from mini_lib.lab.bench import write_report

    out = write_report(report, args.out, f"grid-{device}")
    print(format_report(report) + f"\n(written to {out})")
    return report
