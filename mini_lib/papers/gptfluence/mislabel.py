"""Finding mislabelled training data by self-influence, and retraining without what was found.

GPTfluence (arXiv 2404.07840) applies its simulator to SST-2 with 40% of the labels flipped: rank
the training examples by self-influence, inspect them from the top, and count the flipped ones
found. We compare three rankings of the same pool:
* ``gptfluence``: ``GPTfluenceSimulator.self_influence`` -- the predicted drop of an example's own
  loss after a step on it (its factors with the test side evaluated at its own features);
* ``tracin-cp``: sum over checkpoints of lr x |output-layer gradient|^2 (``tracin_self_influence``),
  averaged over the runs' checkpoints -- large for examples the model finds hard to fit;
* ``random``: a seeded random order (finds flipped examples at the rate they occur).
Then the base model is fine-tuned through the training loop on the pool without the top-ranked
examples, and its accuracy on the test examples' TRUE labels is scored by option log-likelihood
(``zero_shot.score_choices``), beside the noisy pool and the oracle that removes exactly the flips.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mini_lib.core.errors import ConfigError
from mini_lib.core.zero_shot import ChoiceTask, score_choices
from mini_lib.papers.gptfluence.collect import BaseModel, CollectConfig, CollectedTask, finetune
from mini_lib.papers.gptfluence.data import FineTuneTask
from mini_lib.papers.gptfluence.detection import DetectionCurve, detection_curve
from mini_lib.papers.gptfluence.experiment import Features, SimulatorSettings
from mini_lib.papers.gptfluence.gptdynamics import Run
from mini_lib.papers.gptfluence.gptfluence import GPTfluenceSimulator
from mini_lib.papers.gptfluence.tracin import tracin_self_influence

DETECTORS = ("gptfluence", "tracin-cp", "random")


def self_influence_scores(
    collected: CollectedTask,
    fit_runs: Sequence[Run],
    val_runs: Sequence[Run] = (),
    *,
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> dict[str, np.ndarray]:
    """Scores per training example (rows follow ``task.train_ids``; higher = more suspicious)."""
    settings = settings or SimulatorSettings()
    features = features or Features.of(collected, settings.pooling)
    task = collected.task
    sim = GPTfluenceSimulator(task.train_ids, features.train, task.test_ids, features.test, settings.gptfluence_config(),
                              seed=settings.seed)
    sim.fit(fit_runs, val_runs, "loss", settings.fit)
    scores = {"gptfluence": sim.self_influence()}
    if collected.config.tracin_every:
        per_run = []
        for run in fit_runs:
            grads = collected.gradients(run.run_id)
            per_run.append(tracin_self_influence(grads, [run.learning_rates[s] for s in grads.steps]))
        scores["tracin-cp"] = np.mean(per_run, axis=0)
    scores["random"] = np.random.default_rng([settings.seed, 3]).random(len(task.train_ids))
    return scores


def detection_table(
    scores: dict[str, np.ndarray], is_flipped: np.ndarray, fractions: Sequence[float] = (0.1, 0.2, 0.4),
) -> tuple[pd.DataFrame, dict[str, DetectionCurve]]:
    """Fraction of flipped examples found after inspecting each fraction of the ranked pool, and the
    area under each curve (0.5 for random order)."""
    curves = {name: detection_curve(s, is_flipped) for name, s in scores.items()}
    rows = [{"method": name, **{f"found_at_{f:g}": c.found_at(f) for f in fractions}, "area": c.area()} for name, c in curves.items()]
    return pd.DataFrame(rows), curves


def detection_over_splits(
    collected: CollectedTask,
    n_splits: int,
    *,
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> tuple[pd.DataFrame, list[dict[str, np.ndarray]]]:
    """Detection areas over ``n_splits`` run splits: split k holds run k out for early stopping, fits
    on the others, and seeds the simulator and the random order with ``settings.seed + k``. The spread
    over splits is the noise a verdict must beat (``claims.compare_seeds``, paired by split): one area
    of 0.555 beside a random 0.547 says nothing. Returns (split, method, area, found_at_*) rows and
    the scores of every split."""
    settings = settings or SimulatorSettings()
    features = features or Features.of(collected, settings.pooling)
    runs = collected.runs
    if not 1 <= n_splits <= len(runs) or len(runs) < 2:
        raise ConfigError(f"n_splits must be in [1, {len(runs)}] (one validation run each) with at least 2 runs, got {n_splits}")
    is_flipped = collected.task.is_flipped(collected.task.train_ids)
    frames, all_scores = [], []
    for k in range(n_splits):
        fit = [r for i, r in enumerate(runs) if i != k]
        seeded = replace(settings, seed=settings.seed + k, fit=replace(settings.fit, seed=settings.fit.seed + k))
        scores = self_influence_scores(collected, fit, [runs[k]], settings=seeded, features=features)
        frames.append(detection_table(scores, is_flipped)[0].assign(split=k))
        all_scores.append(scores)
    table = pd.concat(frames, ignore_index=True)
    return table[["split", *[c for c in table.columns if c != "split"]]], all_scores


def curve_frame(curves: dict[str, DetectionCurve]) -> pd.DataFrame:
    """Long table (method, inspected, found) for a line plot."""
    return pd.concat([pd.DataFrame({"method": name, "inspected": c.inspected, "found": c.found}) for name, c in curves.items()],
                     ignore_index=True)


def retrain_after_removal(
    base: BaseModel,
    task: FineTuneTask,
    scores: dict[str, np.ndarray],
    config: CollectConfig,
    folder: str | Path,
    *,
    n_remove: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    test_choices: list[ChoiceTask] | None = None,
) -> pd.DataFrame:
    """Test accuracy (true labels) after fine-tuning on: the whole noisy pool; the pool without the
    flipped examples (oracle); the pool without each method's top ``n_remove`` (default: as many as
    are flipped); and the base model before fine-tuning. ``test_choices`` (default: the task's own test
    items) may be a larger held-out set: the verdict's margin shrinks with its size."""
    if task.kind != "classification":
        raise ConfigError(f"retraining is scored by accuracy: task {task.name} must be a classification task")
    ids = np.array(task.train_ids)
    flipped = task.is_flipped(ids)
    n_remove = int(flipped.sum()) if n_remove is None else n_remove
    if not 0 <= n_remove < len(ids):
        raise ConfigError(f"n_remove must be in [0, {len(ids)}), got {n_remove}")
    removals = {"none (noisy pool)": np.zeros(len(ids), dtype=bool), "oracle (flipped removed)": flipped}
    for name, s in scores.items():
        drop = np.zeros(len(ids), dtype=bool)
        drop[np.argsort(-np.asarray(s), kind="stable")[:n_remove]] = True
        removals[f"{name} (top {n_remove} removed)"] = drop
    choices = task.test_choices() if test_choices is None else test_choices
    rows = [{"training data": "base model, no fine-tuning", "removed": 0, "flipped_removed": 0, "kept": 0,
             "accuracy": score_choices(base.model, base.tokenizer, choices, batch_size=batch_size).accuracy_raw}]
    folder = Path(folder)
    for k, (name, drop) in enumerate(removals.items()):
        model = finetune(base, task, ids[~drop].tolist(), config, folder / f"retrain_{k}", seed=seed)
        accuracy = score_choices(model, base.tokenizer, choices, batch_size=batch_size).accuracy_raw
        rows.append({"training data": name, "removed": int(drop.sum()), "flipped_removed": int((drop & flipped).sum()),
                     "kept": int((~drop).sum()), "accuracy": accuracy})
    return pd.DataFrame(rows)
