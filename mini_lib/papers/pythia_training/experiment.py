"""Notebook 01's experiments on the suite: a crash-and-resume demonstration, the suite-vs-ours table
and the notebook's claims.

The published totals are the parameter counts of the Pythia checkpoints (EleutherAI model cards) at
the suite's vocabulary of 50304; our analytic counts must equal them exactly. ``suite_claims`` states
the notebook's three checkable claims as ``mini_lib.core.claims.Claim`` rows with rules fixed here: exact
counts, an exact resume, and loss falling with size at equal tokens (one seed per size: a fixed margin).
"""

from __future__ import annotations

import math
import os
from typing import Callable, Mapping

import pandas as pd
import torch

from mini_lib.core.claims import Claim, PaperRow, compare_with_error, paper_vs_ours_table
from mini_lib.core.grid import GridCell
from mini_lib.core.models import (
    PRESETS,
    PYTHIA_PAPER,
    PYTHIA_VOCAB_SIZE,
    build_model,
    get_preset,
    model_size,
    neox_config,
)
from mini_lib.core.recipe import PreparedData
from mini_lib.core.train import StepInfo, TrainConfig, TrainResult, train
from mini_lib.papers.pythia_training.analysis import size_label
from mini_lib.papers.pythia_training.settings import PythiaTrainingSettings

PUBLISHED_TOTALS = {"pythia-14m": 14_067_712, "pythia-70m": 70_426_624, "pythia-160m": 162_322_944, "pythia-410m": 405_334_016}
MODEL_CARDS = "EleutherAI Pythia model cards (vocabulary 50304)"
RESUME_TOLERANCE = 1e-6  # nats: a resumed run replays the same steps; on CPU the difference is exactly 0
SIZE_NAMES_NOTE = ("smallest first; in brackets each model's parameters in this run. A preset's name gives its size at "
                   "another vocabulary: 50304 for the suite's shapes, a few thousand for this project's pythia-1m and "
                   "pythia-3m")
SIZE_LOSS_MARGIN = 0.02  # nats a larger model's loss must be below the next smaller one's (one seed per size)


def size_cells(settings: PythiaTrainingSettings, data: PreparedData, vocab_size: int) -> list[GridCell]:
    """One grid cell per preset in ``settings.presets``: same tokens, same seed, the suite's own learning
    rate, so the only thing that changes along the grid is the model's size."""
    def cell(name: str) -> GridCell:
        preset = get_preset(name)
        return GridCell(name=name, tags={"preset": name},
                        make_model=lambda: build_model(neox_config(preset, vocab_size, settings.seq_len), seed=settings.seed),
                        train_data=data.train, val_data=data.val,
                        config=TrainConfig.from_settings(settings, lr=preset.lr))

    return [cell(name) for name in settings.presets]


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
    """The suite's facts beside ours, as ``PaperRow``s: shapes, learning rates, loss ordering by size, exact resume."""
    ours = analytic_totals(PUBLISHED_TOTALS)
    by_size = size_summary.sort_values("parameters")
    losses = by_size["val_loss"].tolist()
    ordered = losses == sorted(losses, reverse=True)
    pythia = f"arXiv {PYTHIA_PAPER}"
    return paper_vs_ours_table([
        PaperRow("parameter counts of the suite's shapes (vocab 50304)", "pythia-14m to pythia-410m",
                 ", ".join(f"{k[7:]}: {v:,}" for k, v in PUBLISHED_TOTALS.items()),
                 "identical" if ours == PUBLISHED_TOTALS else f"DIFFERENT: {ours}", source=MODEL_CARDS),
        PaperRow("learning rates 1e-3 (14M-70M), 6e-4 (160M), 3e-4 (410M)", "pythia-14m to pythia-410m", "as stated",
                 ", ".join(f"{n[7:]}: {PRESETS[n].lr:g}" for n in PUBLISHED_TOTALS), source=pythia),
        PaperRow("larger models reach lower loss on the same tokens", "this notebook's size grid", "yes, across the suite",
                 f"{'yes' if ordered else 'not at this budget'}: " + _losses_by_size(by_size),
                 SIZE_NAMES_NOTE, source=pythia),
        PaperRow("exact resume after interruption", "crash_and_resume", "checkpoints every 1000 steps",
                 f"|difference| = {abs(uninterrupted_loss - resumed_loss):.1e}", source=pythia),
    ])


def analytic_totals(names) -> dict[str, int]:
    """Our parameter count of each named preset at the suite's vocabulary."""
    return {name: model_size(neox_config(name, PYTHIA_VOCAB_SIZE)).total for name in names}


def suite_claims(size_summary: pd.DataFrame, uninterrupted_loss: float, resumed_loss: float,
                 published: Mapping[str, int] = PUBLISHED_TOTALS) -> list[Claim]:
    """Notebook 01's claims as ``Claim`` rows. ``size_summary``: one row per preset (``preset``,
    ``parameters``, ``val_loss``), all trained on the same tokens; ``published``: the counts to check
    against (the model cards')."""
    ours = analytic_totals(published)
    wrong = {name: (count, published[name]) for name, count in ours.items() if count != published[name]}
    counts = Claim(
        PYTHIA_PAPER, "our analytic parameter counts equal the suite's published counts",
        MODEL_CARDS, ", ".join(f"{k}: {v:,}" for k, v in published.items()),
        "all equal" if not wrong else "; ".join(f"{k}: ours {o:,} vs {p:,}" for k, (o, p) in wrong.items()),
        "holds: every total equal (exact integers, no noise); reversed: any differs", "reversed" if wrong else "holds")
    difference = abs(uninterrupted_loss - resumed_loss)
    resume = Claim(
        "", "a run resumed after a crash ends with the uninterrupted run's losses", "this notebook, crash_and_resume",
        "the uninterrupted run's final validation loss", f"|difference| = {difference:.1e} nats",
        f"holds: |difference| < {RESUME_TOLERANCE:g} nats (float rounding); reversed: larger",
        compare_with_error(RESUME_TOLERANCE - difference, 0.0).verdict if math.isfinite(difference) else "reversed",
        no_difference=True)
    return [counts, resume, _size_claim(size_summary)]


def _size_claim(size_summary: pd.DataFrame) -> Claim:
    """Each larger preset below the next smaller one: holds if every step down holds, reversed if any step is
    reversed, within noise otherwise."""
    ordered = size_summary.sort_values("parameters")
    losses = ordered["val_loss"].tolist()
    verdicts = [compare_with_error(smaller - larger, math.nan, floor=SIZE_LOSS_MARGIN).verdict
                for smaller, larger in zip(losses, losses[1:])]
    verdict = ("not run" if not verdicts else "reversed" if "reversed" in verdicts
               else "holds" if set(verdicts) == {"holds"} else "within noise")
    return Claim(
        PYTHIA_PAPER, "larger models reach lower loss on the same tokens", "the suite: every size, the same data order",
        "yes, across the suite", _losses_by_size(ordered),
        f"holds: each larger preset's final validation loss below the next smaller one's by more than "
        f"{SIZE_LOSS_MARGIN:g} nats (one seed per size: a fixed margin); reversed: any above by more; within noise otherwise",
        verdict, note=SIZE_NAMES_NOTE)


def _losses_by_size(ordered: pd.DataFrame) -> str:
    """``pythia-1m (0.84M): 3.032, ...``: each model's final validation loss beside its name and parameters."""
    return ", ".join(f"{size_label(name, parameters)}: {loss:.3f}"
                     for name, parameters, loss in zip(ordered["preset"], ordered["parameters"], ordered["val_loss"]))
