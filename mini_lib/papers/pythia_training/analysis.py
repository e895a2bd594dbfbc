"""Notebook 01's readings of its runs, so that its prose never has to predict them: which size has the
lowest loss at equal compute, the speed verdicts of the precision table in words that follow its numbers,
MFU where the device has no entry in the peak table (a CPU), and names that carry their parameter counts.

The tiny profiles keep the suite's preset names at a small vocabulary, where the names no longer say the
size: the suite counts "pythia-14m" at its vocabulary of 50304, and at 2048 it has 1.7M parameters, fewer than
this project's "pythia-3m". Every label a learner reads therefore shows the count of the model that trained.
"""

from __future__ import annotations

import functools
import itertools
import math
import time

import numpy as np
import pandas as pd
import torch

from mini_lib.core.hardware import peak_flops, resolve_device

MATMUL_SIZE = 512  # a square matrix multiplication large enough to reach a CPU core's best rate
MATMUL_SECONDS = 0.2  # at least this long (and 3 repeats) measuring it


def size_label(name: str, parameters: float) -> str:
    """``pythia-14m (1.71M)``: a preset's name with the parameters it has in this run."""
    return f"{name} ({parameters / 1e6:.2f}M)"


def size_labels(summary: pd.DataFrame, name: str = "preset") -> dict[str, str]:
    """Each model's label (``size_label``), ordered from the smallest to the largest by actual parameters."""
    ordered = summary.sort_values("parameters")
    return {row[name]: size_label(row[name], row["parameters"]) for _, row in ordered.iterrows()}


def equal_compute_readings(curves: pd.DataFrame, summary: pd.DataFrame, name: str = "preset") -> list[str]:
    """For each pair of neighbouring sizes, which has the lower validation loss at the same training compute,
    over the compute both runs reached (evaluations after step 0; each loss curve read between its
    evaluations by linear interpolation in log FLOPs). One sentence per pair, smallest pair first."""
    labels = size_labels(summary, name)
    order = list(labels)
    readings = []
    for smaller, larger in itertools.pairwise(order):
        a, b = (curves[(curves[name] == n) & (curves.step > 0)].sort_values("flops") for n in (smaller, larger))
        if a.empty or b.empty:
            readings.append(f"{labels[smaller]} and {labels[larger]}: no evaluation after step 0 to compare.")
            continue
        low, high = max(a.flops.min(), b.flops.min()), min(a.flops.max(), b.flops.max())
        if low > high:
            readings.append(f"{labels[larger]} was first evaluated after more compute ({b.flops.min():.2g} FLOPs) than "
                            f"{labels[smaller]} used in its whole run ({a.flops.max():.2g}): their curves do not "
                            "overlap, so no budget compares them directly.")
            continue
        at = np.unique(np.concatenate([a.flops, b.flops]))
        at = at[(at >= low) & (at <= high)]
        loss_a, loss_b = (np.interp(np.log(at), np.log(c.flops), c.val_loss) for c in (a, b))
        larger_ahead = loss_b < loss_a
        span = f"from {low:.2g} to {high:.2g} FLOPs" if low < high else f"at {low:.2g} FLOPs"
        if not larger_ahead.any():
            verdict = f"{labels[smaller]} has the lower loss at every compute both reached ({span})"
        elif larger_ahead.all():
            verdict = f"{labels[larger]} has the lower loss at every compute both reached ({span})"
        elif larger_ahead[np.argmax(larger_ahead):].all():
            first = np.argmax(larger_ahead)  # the first point where the larger model is lower: the one before is not
            verdict = (f"{labels[smaller]} leads at first; {labels[larger]} has the lower loss from between "
                       f"{at[first - 1]:.2g} and {at[first]:.2g} FLOPs on (compared {span})")
        else:
            verdict = f"{labels[smaller]} and {labels[larger]} take turns at the lower loss ({span})"
        readings.append(verdict + ".")
    return readings


def mfu_peak(device: torch.device, precision: str) -> tuple[float, str]:
    """The peak FLOP/s that MFU divides by, and where it comes from: the vendor table (``core.hardware``) for
    a GPU it lists; otherwise (a CPU) the best rate of a square matrix multiplication measured here, the
    operation a transformer's FLOPs are made of. A bf16 row takes the faster of the fp32 and bf16 rates: a CPU
    without bf16 matrix units emulates bf16 far below its fp32 rate, and autocast keeps part of the work in fp32."""
    listed = peak_flops(device, precision)
    if listed:
        return listed, f"the {precision} peak in the table of core/hardware.py"
    measured = ("fp32",) if precision == "fp32" else ("fp32", "bf16")
    peak = max(_matmul_rate(device.type, name) for name in measured)
    return peak, f"the best {' or '.join(measured)} {MATMUL_SIZE}x{MATMUL_SIZE} matrix multiplication measured here"


@functools.cache
def _matmul_rate(device_type: str, precision: str) -> float:
    """FLOP/s of the fastest of several ``MATMUL_SIZE`` square multiplications (once per process and device)."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    own = torch.Generator(device_type).manual_seed(0)  # the global random state stays untouched
    a, b = (torch.rand(MATMUL_SIZE, MATMUL_SIZE, generator=own, device=device_type).to(dtype) for _ in range(2))
    wait = torch.cuda.synchronize if device_type == "cuda" else (lambda: None)
    best, started, repeats = math.inf, time.perf_counter(), 0
    while repeats < 3 or time.perf_counter() - started < MATMUL_SECONDS:
        wait()
        tick = time.perf_counter()
        a @ b
        wait()
        best, repeats = min(best, time.perf_counter() - tick), repeats + 1
    return 2 * MATMUL_SIZE**3 / best


def with_mfu(table: pd.DataFrame, flops_per_token: float, device: str = "auto") -> pd.DataFrame:
    """The precision table with MFU in every row, against ``mfu_peak``: the vendor's peak where the table of
    ``core.hardware`` lists the device (as the table's own MFU), else a measured matrix multiplication;
    the column ``peak`` says which. ``device``: where the table was measured (``"auto"``, as ``precision_table``)."""
    table, where = table.copy(), torch.device(resolve_device(device))
    peaks = {p: mfu_peak(where, p) for p in table["precision"].unique()}
    table["mfu"] = [flops_per_token * tps / peaks[p][0] for p, tps in zip(table["precision"], table["tokens_per_s"])]
    table["peak"] = [peaks[p][1] for p in table["precision"]]
    return table
