"""Notebook 04's pipeline from its flat settings: base model, tasks, and their collected dynamics.

The notebook's settings (``influence.settings.GPTfluenceSettings``) are flat literals; this module turns them
into the library's configs (``PretrainConfig``, ``CollectConfig``, ``SimulatorSettings``) and runs
the collections in one folder per task, so the notebook reads as the paper's procedure:
* one base model (pre-trained on storyworld, or ``base_model``: a local checkpoint folder);
* each comparison task: ``n_runs`` runs from its pool; the ``unseen_task`` instead draws its
  ``n_runs`` runs from the pool without its last ``unseen_holdout`` examples and adds ``unseen_runs``
  runs from the full pool (for the unseen-training-example study);
* the mislabel application: an SST-2-like task with ``flip_fraction`` of its labels flipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from mini_lib.core.errors import ConfigError, choose
from mini_lib.core.zero_shot import ChoiceTask
from mini_lib.papers.gptfluence.collect import (
    BaseModel,
    CollectConfig,
    CollectedTask,
    PretrainConfig,
    collect_task,
    load_base_model,
    pretrain_base_model,
)
from mini_lib.papers.gptfluence.data import KINDS, FineTuneTask, make_task
from mini_lib.papers.gptfluence.experiment import SimulatorSettings
from mini_lib.papers.gptfluence.gptdynamics import Run
from mini_lib.papers.gptfluence.gptfluence import FitConfig
from mini_lib.papers.gptfluence.settings import GPTfluenceSettings
from mini_lib.papers.gptfluence.splits import RunSplit, runs_touching, split_runs

MISLABEL_TASK = "sst2"


def pretrain_config(s: GPTfluenceSettings) -> PretrainConfig:
    return PretrainConfig(
        n_documents=s.pretrain_documents, vocab_size=s.vocab_size, seq_len=s.seq_len, n_layers=s.n_layers,
        d_model=s.d_model, n_heads=s.n_heads, steps=s.pretrain_steps, batch_size=s.pretrain_batch_size,
        lr=s.pretrain_lr, tier=s.tier, precision="auto", seed=s.seed,  # bf16 on a GPU
    )


def collect_config(s: GPTfluenceSettings, *, unseen: bool = False) -> CollectConfig:
    """The run shape; ``unseen`` adds the reduced pool and the full-pool runs."""
    return CollectConfig(
        n_sampled=s.n_sampled, batch_size=s.batch_size, epochs=s.epochs, lr=s.lr, max_len=s.max_len,
        eval_batch_size=s.eval_batch_size, max_new_tokens=s.max_new_tokens, tracin_every=s.tracin_every,
        grad_k_vocab=s.grad_k, grad_k_hidden=s.grad_k, holdout_train=s.unseen_holdout if unseen else 0,
        holdout_runs=s.unseen_runs if unseen else 0, precision=s.precision, seed=s.seed,
    )


def simulator_settings(s: GPTfluenceSettings, order: int = 1) -> SimulatorSettings:
    fit = FitConfig(batch_size=s.fit_batch_size, max_steps=s.fit_max_steps, eval_every=s.fit_eval_every,
                    patience=s.fit_patience, seed=s.seed)
    return SimulatorSettings(order=order, n_layers=s.sim_layers, width=s.sim_width or None, fit=fit, seed=s.seed)


def base_model(s: GPTfluenceSettings, folder: str | Path) -> BaseModel:
    """The weights every run starts from: ``s.base_model`` if given, else pre-trained (once) on storyworld."""
    if s.base_model:
        return load_base_model(s.base_model)
    return pretrain_base_model(pretrain_config(s), folder)


def task_for(s: GPTfluenceSettings, name: str, *, flip_fraction: float = 0.0) -> FineTuneTask:
    n_test = s.n_test_generation if KINDS[choose("task", name, KINDS)] == "generation" else s.n_test
    return make_task(name, s.n_pool, n_test, source=s.task_source, tier=s.tier, flip_fraction=flip_fraction, seed=s.seed)


def collect_tasks(s: GPTfluenceSettings, base: BaseModel, folder: str | Path, *, log: Callable[[str], None] | None = print) -> dict[str, CollectedTask]:
    """Every comparison task's runs (the ``unseen_task`` with its reduced pool and full-pool runs)."""
    if s.unseen_task and s.unseen_task not in s.tasks:
        raise ConfigError(f"unseen_task {s.unseen_task!r} must be one of tasks {s.tasks} (or '' to skip the study)")
    out = {}
    for name in s.tasks:
        unseen = name == s.unseen_task
        n_runs = s.n_runs + (s.unseen_runs if unseen else 0)
        out[name] = collect_task(task_for(s, name), base, collect_config(s, unseen=unseen), n_runs, Path(folder) / name, log=log)
    return out


def collect_mislabel(s: GPTfluenceSettings, base: BaseModel, folder: str | Path, *, log: Callable[[str], None] | None = print) -> CollectedTask:
    """Runs on the SST-2-like task with ``flip_fraction`` of the pool and test labels flipped."""
    task = task_for(s, MISLABEL_TASK, flip_fraction=s.flip_fraction)
    task.name = f"{MISLABEL_TASK}_flipped"
    return collect_task(task, base, collect_config(s), s.mislabel_runs, Path(folder) / task.name, log=log)


def retrain_choices(s: GPTfluenceSettings, task: FineTuneTask) -> list[ChoiceTask]:
    """The items the retrained models are scored on: ``retrain_test`` fresh SST-2-like items (true labels,
    stories of another seed, none whose text is in ``task``), or ``task``'s own test items when it is 0."""
    if not s.retrain_test:
        return task.test_choices()
    seen = {item.context for item in task.choices.values()}
    fresh = make_task(MISLABEL_TASK, 2, 2 * s.retrain_test, source=s.task_source, tier=s.tier, seed=s.seed + 1)
    return [item for item in fresh.test_choices() if item.context not in seen][:s.retrain_test]


def collection_plan(s: GPTfluenceSettings) -> str:
    """What the settings collect and how the runs are split, in one line, so that no prose has to say it:
    the counts are the profile's (and a learner's overrides'), not the paper's."""
    runs = []
    for name in s.tasks:
        extra = f" ({s.n_runs} + {s.unseen_runs} from the full pool for the unseen-data study)" if name == s.unseen_task else ""
        runs.append(f"{name} {s.n_runs + (s.unseen_runs if name == s.unseen_task else 0)} runs{extra}")
    if s.mislabel_runs:
        runs.append(f"{MISLABEL_TASK} with {s.flip_fraction:.0%} of its labels flipped {s.mislabel_runs} runs")
    tasks = f"{len(s.tasks)} task{'s' if len(s.tasks) != 1 else ''}"
    return (f"{tasks}: {'; '.join(runs)}; {collect_config(s).steps} steps each; regular runs split {s.n_fit} fit / "
            f"{s.n_val} early stopping / {s.n_heldout} held out")


def comparison_split(s: GPTfluenceSettings, collected: CollectedTask) -> RunSplit:
    """The paper's 25 / 2 / 5 split (here ``n_fit`` / ``n_val`` / ``n_heldout``) of the regular runs."""
    return split_runs(collected.regular_runs(), s.n_fit, s.n_val, s.n_heldout)


def signal_settings(s: GPTfluenceSettings, collected: dict[str, CollectedTask], splits: dict[str, RunSplit]) -> dict[str, dict[str, list[Run]]]:
    """Per task, the runs ``experiment.signal_study`` judges: the held-out runs, and for the
    ``unseen_task`` also the full-pool runs that train on examples no fitting run saw."""
    out = {name: {"held-out runs": splits[name].test} for name in collected}
    if s.unseen_task:
        c = collected[s.unseen_task]
        out[s.unseen_task]["runs with unseen training examples"] = runs_touching(c.full_pool_runs(), c.holdout_train_ids())
    return out


def mislabel_split(collected: CollectedTask) -> RunSplit:
    """All runs but one fit the detectors, the last one stops GPTfluence early."""
    runs = collected.runs
    if len(runs) < 2:
        raise ConfigError("the mislabel study needs at least 2 runs (mislabel_runs >= 2)")
    return RunSplit(fit=runs[:-1], val=runs[-1:], test=[])
