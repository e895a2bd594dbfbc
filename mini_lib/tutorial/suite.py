"""Notebook 01's experiments on the suite: a crash-and-resume demonstration and the suite-vs-ours table.

The published totals are the parameter counts of the Pythia checkpoints (EleutherAI model cards) at
the suite's vocabulary of 50304; our analytic counts must equal them exactly.
"""

from __future__ import annotations

import os
from typing import Callable

import pandas as pd
import torch

from mini_lib.models import PRESETS, PYTHIA_VOCAB_SIZE, model_size, neox_config
from mini_lib.train import StepInfo, TrainConfig, TrainResult, train

PUBLISHED_TOTALS = {"pythia-14m": 14_067_712, "pythia-70m": 70_426_624, "pythia-160m": 162_322_944, "pythia-410m": 405_334_016}


class SimulatedCrash(RuntimeError):
    """Stands in for a power cut: raised from a callback in the middle of training."""


def crash_and_resume(
    make_model: Callable[[], torch.nn.Module], data, config: TrainConfig, run_dir: "str | os.PathLike",
    crash_at: int, val_data=None,
) -> TrainResult:
    """Train until step ``crash_at``, die, then run the same call again: it resumes from the last
    checkpoint and must end exactly where an uninterrupted run ends."""
    if not 0 < crash_at < config.steps or not config.checkpoint_every or crash_at < config.checkpoint_every:
        raise ValueError("crash_at must fall after the first checkpoint and before the last step")

    def crash(info: StepInfo) -> None:
        if info.step == crash_at:
            raise SimulatedCrash(f"power cut at step {info.step}")

    try:
        train(make_model(), data, config, run_dir, val_data=val_data, callbacks=[crash], resume=False)
    except SimulatedCrash:
        pass
    return train(make_model(), data, config, run_dir, val_data=val_data)


def suite_vs_ours(size_summary: pd.DataFrame, uninterrupted_loss: float, resumed_loss: float) -> pd.DataFrame:
    """The suite's facts beside ours: shapes, learning rates, loss ordering by size, exact resume."""
    ours = {name: model_size(neox_config(name, PYTHIA_VOCAB_SIZE)).total for name in PUBLISHED_TOTALS}
    losses = size_summary.sort_values("parameters")["val_loss"].tolist()
    ordered = losses == sorted(losses, reverse=True)
    return pd.DataFrame([
        {"claim": "parameter counts of the suite's shapes (vocab 50304)",
         "Pythia": ", ".join(f"{k[7:]}: {v:,}" for k, v in PUBLISHED_TOTALS.items()),
         "ours": "identical" if ours == PUBLISHED_TOTALS else f"DIFFERENT: {ours}"},
        {"claim": "learning rates 1e-3 (14M-70M), 6e-4 (160M), 3e-4 (410M)", "Pythia": "as stated",
         "ours": ", ".join(f"{n[7:]}: {PRESETS[n].lr:g}" for n in PUBLISHED_TOTALS)},
        {"claim": "larger models reach lower loss on the same tokens", "Pythia": "yes, across the suite",
         "ours": f"{'yes' if ordered else 'not at this budget'}: " + ", ".join(f"{loss:.3f}" for loss in losses)},
        {"claim": "exact resume after interruption", "Pythia": "checkpoints every 1000 steps",
         "ours": f"|difference| = {abs(uninterrupted_loss - resumed_loss):.1e}"},
    ])
