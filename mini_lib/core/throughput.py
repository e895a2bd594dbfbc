"""What a training step costs: tokens per second, model FLOPs utilisation (MFU), and the time of a whole
``train()`` call. MFU = achieved model FLOP/s / the peak of the device actually used (``hardware``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from mini_lib.core import models
from mini_lib.core.hardware import peak_flops
from mini_lib.core.train_config import TrainData


@dataclass(frozen=True)
class Throughput:
    """What turns a step's tokens and seconds into tokens/s and MFU (model FLOPs utilisation)."""

    seq_len: int
    flops_per_token: float
    peak: float | None  # the device's peak FLOP/s; None (no MFU) where unknown, as on a CPU
    world: int

    @classmethod
    def of(cls, model: torch.nn.Module, data: TrainData, device: torch.device, precision: str, world: int) -> "Throughput":
        seq_len = int(data.collate([0])["input_ids"].shape[1])
        return cls(seq_len, models.flops_per_token(model, seq_len), peak_flops(device, precision), world)

    def __call__(self, n_tokens: int, seconds: float) -> dict:
        """Over all processes, each of which ran ``n_tokens`` in ``seconds``."""
        tokens_per_s = n_tokens * self.world / seconds
        mfu = (self.flops_per_token * tokens_per_s / (self.peak * self.world)) if self.peak else None
        return {"tokens_per_s": tokens_per_s, "mfu": mfu}


class StepClock:
    """A callback that times a ``train()`` call: set-up and first step (compilation included), the median
    step after it (callbacks and evaluations included), the whole call, and the process's peak GPU memory
    so far. ``train_meta.json`` keeps it, so a run folder says what its training cost."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.stamps: list[float] = []

    def __call__(self, info) -> None:  # a StepInfo
        self.stamps.append(time.perf_counter())

    def summary(self) -> dict:
        gaps = np.diff(self.stamps)
        first = self.stamps[0] - self.started if self.stamps else None
        return {"steps_run": len(self.stamps), "first_step_s": first,
                "step_s": float(np.median(gaps)) if len(gaps) else first,
                "wall_s": time.perf_counter() - self.started,
                "peak_gpu_gb": torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None}
