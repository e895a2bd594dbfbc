"""The GPTfluence comparison: fit every simulator on collected runs and score it as the paper does.

GPTfluence (arXiv 2404.07840, Sec. 4-5) fits each method on 25 runs of a task (2 more for early
stopping), simulates the 5 held-out runs from their batches alone, and reports all-steps MSE / MAE
as mean (std) over test trajectories and the final-step Spearman rho within a run, averaged over
runs (``metrics.score_simulator``). Methods:

* ``gptfluence``: the featurised simulator (``GPTfluenceSimulator``) on MiniLM features of each
  example (input and output), order 1 by default;
* ``simfluence``: the per-(train, test) lookup table (``Simfluence``), its ridge strength chosen on
  the validation runs as GPTfluence's early stopping is (with few fitting runs the table is barely
  determined: at the smallest ridge its rollouts can diverge); unseen training examples get the
  average factors of the seen ones, unseen test examples cannot be simulated at all;
* ``tracin-cp`` and ``grad-dot``: first value plus summed gradient dot products (output layer),
  rescaled by one scale and shift fitted on the fitting runs (``tracin.LinearRescale``). They
  simulate the loss only: a gradient of the loss says nothing about BLEU.

Cost per simulated sample is measured: seconds to simulate the held-out runs divided by their
test trajectories, plus, for TracIn-CP / Grad-Dot, the seconds the collection spent computing the
gradients they need (the held-out runs' checkpoints and the shared step 0). Fitting time is
reported apart (a one-off cost). The generalisation study (``unseen_study``) holds out training
examples (runs from a reduced pool, ``CollectConfig.holdout_train``), test examples, or both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from mini_lib.core.errors import ConfigError, choose
from mini_lib.papers.gptfluence.analysis import SimulatorScores, all_steps_errors, score_simulator
from mini_lib.papers.gptfluence.collect import CollectedTask
from mini_lib.papers.gptfluence.features import encode_examples
from mini_lib.papers.gptfluence.gptdynamics import Run
from mini_lib.papers.gptfluence.gptfluence import FitConfig, GPTfluenceConfig, GPTfluenceSimulator
from mini_lib.papers.gptfluence.simfluence import Simfluence
from mini_lib.papers.gptfluence.splits import RunSplit, runs_touching, split_examples, split_runs
from mini_lib.papers.gptfluence.tracin import LinearRescale, predicted_trajectories

METHODS = ("tracin-cp", "grad-dot", "simfluence", "gptfluence")
SIGNAL_SOURCES = ("mean trajectory", "feature-free simulator", "simfluence", "gptfluence", "gptfluence, shuffled features")
GRADIENT_METHODS = ("tracin-cp", "grad-dot")
Simulator = GPTfluenceSimulator | Simfluence | LinearRescale  # what fitting a method leaves: weights, a table, a rescale


@dataclass(frozen=True)
class SimulatorSettings:
    """How the featurised and table simulators are built and fitted."""

    order: int = 1
    n_layers: int = 2  # 2: the official MLP projections; 1: linear maps
    width: int | None = None  # projection width (hidden and output); None: the feature size (official)
    fit: FitConfig = field(default_factory=FitConfig)
    simfluence_l2: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0)  # ridge, chosen on the validation runs
    pooling: str = "cls"
    seed: int = 0

    def gptfluence_config(self, order: int | None = None) -> GPTfluenceConfig:
        return GPTfluenceConfig(order=order or self.order, n_layers=self.n_layers, hidden_dim=self.width, out_dim=self.width)


@dataclass
class Features:
    """Sentence features of a task's training and test examples (rows follow the task's ids)."""

    train: np.ndarray
    test: np.ndarray

    @classmethod
    def of(cls, collected: CollectedTask, pooling: str = "cls") -> Features:
        return cls(encode_examples(collected.task.train, pooling=pooling), encode_examples(collected.task.test, pooling=pooling))


@dataclass
class MethodResult:
    """One method on one set of held-out runs: scores, predictions and measured seconds."""

    method: str
    metric: str
    scores: SimulatorScores
    predictions: dict[str, np.ndarray]  # run_id -> (n_test, n_cols)
    fit_seconds: float
    simulate_seconds: float
    gradient_seconds: float = 0.0  # TracIn-CP / Grad-Dot: collection time spent on the gradients they use
    detail: str = ""
    run_mse: dict[str, float] = field(default_factory=dict)  # run_id -> all-steps MSE over its test trajectories (the seed unit of a verdict)
    simulator: Simulator | None = None  # what was fitted, so a lesson can recompute a prediction with the same weights

    @property
    def seconds_per_sample(self) -> float:
        """Seconds per simulated test trajectory (one test example over one held-out run)."""
        return (self.simulate_seconds + self.gradient_seconds) / self.scores.n_trajectories

    def row(self) -> dict:
        s = self.scores
        return {"method": self.method, "metric": self.metric, "mse": s.mse.mean, "mse_std": s.mse.std, "mae": s.mae.mean,
                "mae_std": s.mae.std, "spearman": s.spearman, "n_runs": s.n_runs, "n_trajectories": s.n_trajectories,
                "fit_seconds": self.fit_seconds, "seconds_per_sample": self.seconds_per_sample, "detail": self.detail}


@dataclass
class FittedMethod:
    """A method fitted on some runs: ``simulate(run)`` gives its trajectories for a held-out run."""

    method: str
    metric: str
    simulate: Callable[[Run], np.ndarray]
    fit_seconds: float
    collected: CollectedTask
    detail: str = ""  # what fitting chose (ridge, steps, rescaling)
    simulator: Simulator | None = None  # the fitted GPTfluenceSimulator, Simfluence table or LinearRescale

    def evaluate(self, test_runs: Sequence[Run]) -> MethodResult:
        """Simulate ``test_runs`` (timed) and score them against their true trajectories."""
        started = time.perf_counter()
        predictions = {r.run_id: self.simulate(r) for r in test_runs}
        simulate_seconds = time.perf_counter() - started
        result = score_runs(self.method, self.metric, test_runs, predictions, self.fit_seconds, simulate_seconds,
                            self._gradient_seconds(test_runs), self.detail)
        result.simulator = self.simulator
        return result

    def _gradient_seconds(self, test_runs: Sequence[Run]) -> float:
        """Collection time spent on the gradients the held-out runs need (gradient methods only)."""
        if self.method not in GRADIENT_METHODS:
            return 0.0
        seconds = self.collected.step0_grad_seconds * len(test_runs)
        if self.method == "tracin-cp":
            own = self.collected.timing.set_index("run_id")["grad_seconds"]
            seconds += float(sum(own[r.run_id] for r in test_runs))
        return seconds


def fit_method(
    method: str,
    collected: CollectedTask,
    fit_runs: Sequence[Run],
    val_runs: Sequence[Run] = (),
    metric: str = "loss",
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> FittedMethod:
    """Fit ``method`` on ``fit_runs`` (GPTfluence: early stopping on ``val_runs``).

    Runs may be restricted to some test examples (``Run.with_test_ids``): Simfluence then only knows
    those; GPTfluence scores any test example from its features."""
    choose("method", method, METHODS)
    settings = settings or SimulatorSettings()
    if not fit_runs:
        raise ConfigError("fit_method needs at least one fitting run")
    if method in GRADIENT_METHODS and metric != "loss":
        raise ConfigError(f"{method} simulates the loss only (a loss gradient says nothing about {metric}); use metric='loss'")
    started = time.perf_counter()
    if method == "simfluence":
        table, l2 = fit_simfluence(fit_runs, val_runs, metric, settings.simfluence_l2)
        detail, fitted = f"ridge {l2:g}", table

        def simulate(run: Run) -> np.ndarray:
            return table.simulate(run, metric, unseen="mean")
    elif method == "gptfluence":
        features = features or Features.of(collected, settings.pooling)
        sim = GPTfluenceSimulator(collected.task.train_ids, features.train, collected.task.test_ids, features.test,
                                  settings.gptfluence_config(), seed=settings.seed)
        report = sim.fit(fit_runs, val_runs, metric, settings.fit)
        detail, fitted = f"{report.steps} steps" + (" (stopped early)" if report.stopped_early else ""), sim

        def simulate(run: Run) -> np.ndarray:
            return sim.simulate(run, metric)
    else:
        raw = [predicted_trajectories(collected.gradients(r.run_id), r, metric, method=method) for r in fit_runs]
        rescale = LinearRescale.fit(raw, [r.trajectories[metric] for r in fit_runs])
        detail, fitted = f"rescaled x{rescale.scale:.3g} {rescale.shift:+.2g}", rescale

        def simulate(run: Run) -> np.ndarray:
            return rescale.apply(predicted_trajectories(collected.gradients(run.run_id), run, metric, method=method))
    return FittedMethod(method, metric, simulate, time.perf_counter() - started, collected, detail, fitted)


def run_method(
    method: str,
    collected: CollectedTask,
    fit_runs: Sequence[Run],
    val_runs: Sequence[Run],
    test_runs: Sequence[Run],
    metric: str = "loss",
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> MethodResult:
    """Fit ``method`` on ``fit_runs`` and score it on ``test_runs``."""
    if not test_runs:
        raise ConfigError("run_method needs held-out runs to score")
    return fit_method(method, collected, fit_runs, val_runs, metric, settings, features).evaluate(test_runs)


def fit_simfluence(fit_runs: Sequence[Run], val_runs: Sequence[Run], metric: str, l2s: Sequence[float]) -> tuple[Simfluence, float]:
    """The table with the ridge of lowest validation rollout MSE (the first ridge without validation runs)."""
    if not l2s:
        raise ConfigError("simfluence_l2 needs at least one ridge strength")
    if not val_runs or len(l2s) == 1:
        return Simfluence(l2s[0]).fit(fit_runs, metric), l2s[0]
    best = None
    for l2 in l2s:
        table = Simfluence(l2).fit(fit_runs, metric)
        errors = [np.mean((table.simulate(r, metric, unseen="mean")[:, 1:] - r.trajectories[metric][:, 1:]) ** 2) for r in val_runs]
        error = float(np.mean(errors)) if np.all(np.isfinite(errors)) else np.inf
        if best is None or error < best[0]:
            best = (error, table, l2)
    return best[1], best[2]


def compare_methods(
    collected: CollectedTask,
    split: RunSplit,
    *,
    metrics: Sequence[str] | None = None,
    methods: Sequence[str] = METHODS,
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> tuple[pd.DataFrame, dict[tuple[str, str], MethodResult]]:
    """Every method on every metric of a task (gradient methods on the loss only): a table with one
    row per (metric, method), and the results by (method, metric)."""
    settings = settings or SimulatorSettings()
    metrics = list(metrics or collected.task.metrics)
    if "gptfluence" in methods and features is None:
        features = Features.of(collected, settings.pooling)
    results = {}
    for metric in metrics:
        for method in methods:
            if method in GRADIENT_METHODS and (metric != "loss" or not collected.config.tracin_every):
                continue
            results[method, metric] = run_method(method, collected, split.fit, split.val, split.test, metric, settings, features)
    table = pd.DataFrame([r.row() for r in results.values()]).assign(task=collected.task.name)
    return table[["task", *[c for c in table.columns if c != "task"]]], results


def task_split(collected: CollectedTask, n_fit: int, n_val: int, n_test: int) -> RunSplit:
    """The paper's run split (25 / 2 / 5) over the runs drawn from the regular pool."""
    return split_runs(collected.regular_runs(), n_fit, n_val, n_test)


def unseen_study(
    collected: CollectedTask,
    split: RunSplit,
    *,
    metric: str = "loss",
    unseen_test_fraction: float = 0.5,
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> pd.DataFrame:
    """GPTfluence and Simfluence on held-out runs with unseen training examples, unseen test examples,
    or both (the paper, RTE loss: generalisation to new training data works, to new test data not).

    Unseen training examples: the fitting runs come from the reduced pool, the held-out runs are the
    ``full_pool_runs`` (which train on held-out pool examples). Unseen test examples: the simulators
    are fitted on the trajectories of a seeded ``1 - unseen_test_fraction`` of the test examples and
    judged on the rest."""
    settings = settings or SimulatorSettings()
    features = features or Features.of(collected, settings.pooling)
    full = runs_touching(collected.full_pool_runs(), collected.holdout_train_ids())
    if not full:
        raise ConfigError("no run trains on held-out pool examples: collect with holdout_train > 0 and holdout_runs > 0")
    examples = split_examples(collected.task.train_ids, collected.task.test_ids,
                              unseen_test_fraction=unseen_test_fraction, seed=settings.seed)
    seen, unseen = examples.seen_test, examples.unseen_test

    def restrict(runs: Sequence[Run], ids: list[int]) -> list[Run]:
        return [r.with_test_ids(ids) for r in runs]

    fits = {"all": (split.fit, split.val), "seen": (restrict(split.fit, seen), restrict(split.val, seen))}
    cases = {  # setting -> (which fit, held-out runs)
        "seen (reference)": ("all", split.test),
        "unseen training examples": ("all", full),
        "unseen test examples": ("seen", restrict(split.test, unseen)),
        "both unseen": ("seen", restrict(full, unseen)),
    }
    fitted = {}
    rows = []
    for setting, (which, test) in cases.items():
        for method in ("gptfluence", "simfluence"):
            row = {"setting": setting, "method": method, "n_heldout_runs": len(test), "n_test_examples": len(test[0].test_ids)}
            if method == "simfluence" and which == "seen":
                rows.append({**row, "note": "a lookup table has no parameters for unseen test examples"})
                continue
            if (method, which) not in fitted:
                fitted[method, which] = fit_method(method, collected, *fits[which], metric, settings, features)
            result = fitted[method, which].evaluate(test)
            scores = result.row()
            note = "unseen training examples get the average factors" if method == "simfluence" and test is full else ""
            rows.append({**row, **{k: scores[k] for k in ("mse", "mse_std", "mae", "mae_std", "spearman")},
                         "mse_by_run": list(result.run_mse.values()), "note": note})
    return pd.DataFrame(rows)


def order_ablation(
    collected: CollectedTask,
    split: RunSplit,
    orders: Sequence[int],
    *,
    metric: str = "loss",
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> pd.DataFrame:
    """GPTfluence of order n = 1, 2, ...: phi_t depends on the last n values (the paper's ablation)."""
    settings = settings or SimulatorSettings()
    features = features or Features.of(collected, settings.pooling)
    rows = []
    for order in orders:
        ordered = replace(settings, order=order)
        result = run_method("gptfluence", collected, split.fit, split.val, split.test, metric, ordered, features)
        rows.append({"task": collected.task.name, "order": order, **result.row()})
    return pd.DataFrame(rows)


def trajectory_frame(run: Run, results: dict[str, MethodResult], metric: str, rows: Sequence[int]) -> pd.DataFrame:
    """Long table (test_id, step, source, value) of the true and simulated trajectories of some test
    examples (row positions in ``run.test_ids``) of one held-out run, for a seaborn line plot."""
    frames = []
    sources = {"true": run.trajectories[metric], **{m: r.predictions[run.run_id] for m, r in results.items()}}
    for source, values in sources.items():
        for row in rows:
            frames.append(pd.DataFrame({"test_id": run.test_ids[row], "step": run.steps, "source": source, "value": values[row]}))
    return pd.concat(frames, ignore_index=True)


def runs_frame(runs: Sequence[Run], metric: str, test_rows: Sequence[int]) -> pd.DataFrame:
    """Long table (run, step, value, test_id) of some test examples (row positions) over several runs."""
    return pd.concat([pd.DataFrame({"run": r.run_id, "step": r.steps, "value": r.trajectories[metric][row], "test_id": r.test_ids[row]})
                      for r in runs for row in test_rows], ignore_index=True)


def average_over_tasks(table: pd.DataFrame, metric: str = "loss") -> pd.DataFrame:
    """Mean over tasks of each method's MSE, MAE and Spearman (the paper's task average)."""
    chosen = table[table["metric"] == metric]
    out = chosen.groupby("method", sort=False)[["mse", "mae", "spearman", "seconds_per_sample", "fit_seconds"]].mean()
    return out.assign(n_tasks=chosen.groupby("method", sort=False)["task"].nunique()).reset_index()


def score_runs(method: str, metric: str, runs: Sequence[Run], predictions: dict[str, np.ndarray], fit_seconds: float = 0.0,
            simulate_seconds: float = 0.0, gradient_seconds: float = 0.0, detail: str = "") -> MethodResult:
    """Score ``predictions`` (run_id -> trajectories) against ``runs``, overall and per run."""
    preds, trues = [predictions[r.run_id] for r in runs], [r.trajectories[metric] for r in runs]
    run_mse = {r.run_id: float(all_steps_errors(p, t)[0].mean()) for r, p, t in zip(runs, preds, trues)}
    return MethodResult(method, metric, score_simulator(preds, trues), predictions, fit_seconds, simulate_seconds,
                        gradient_seconds, detail, run_mse)


def mean_trajectory(fit_runs: Sequence[Run], metric: str = "loss") -> Callable[[Run], np.ndarray]:
    """The simulator that ignores the batches: each test example's mean trajectory over the fitting runs
    (from the run's true first value). Its MSE on held-out runs is the run-to-run variance of the
    trajectories, i.e. all that the choice and order of training examples can explain."""
    if not fit_runs:
        raise ConfigError("mean_trajectory needs at least one fitting run")

    def simulate(run: Run) -> np.ndarray:
        stacked = [r.with_test_ids(run.test_ids).trajectories[metric] for r in fit_runs]
        if any(v.shape != run.trajectories[metric].shape for v in stacked):
            raise ConfigError(f"run {run.run_id} has another number of steps than the fitting runs: no mean trajectory to compare")
        pred = np.mean(stacked, axis=0)
        pred[:, 0] = run.trajectories[metric][:, 0]
        return pred

    return simulate


def blind_run(run: Run) -> Run:
    """The run with every training example replaced by one and the same id (0): a simulator fitted on
    blind runs knows how many examples a step saw, never which."""
    return Run(run.run_id, [[0] * len(b) for b in run.batches], run.trajectories, run.test_ids, run.first_step, run.learning_rates)


def signal_study(
    collected: CollectedTask,
    split: RunSplit,
    heldout: dict[str, Sequence[Run]],
    *,
    metric: str = "loss",
    settings: SimulatorSettings | None = None,
    features: Features | None = None,
) -> pd.DataFrame:
    """Where a simulator can stop: how much of the held-out trajectories depends on the training
    examples at all, and how much of that each simulator explains.

    Sources (``SIGNAL_SOURCES``): the mean trajectory (ignores the batches: its MSE is the run-to-run
    variance), a feature-free simulator (Simfluence on blind runs: knows the steps, not the examples),
    Simfluence, GPTfluence, and GPTfluence with the training features shuffled across examples (if it
    is as good as with the true features, the features carry no signal). ``explained`` is
    1 - MSE / MSE(mean trajectory): the share of the run-to-run variance a source accounts for;
    ``run_to_run_share`` is MSE(mean trajectory) / MSE(the step-0 value held flat): how much of the
    trajectories' movement differs between runs at all, i.e. could depend on the training examples.
    ``heldout``: setting name -> runs to judge on (e.g. the held-out runs, runs with unseen examples)."""
    settings = settings or SimulatorSettings()
    features = features or Features.of(collected, settings.pooling)
    shuffled = Features(features.train[np.random.default_rng([settings.seed, 7]).permutation(len(features.train))], features.test)
    blind, _ = fit_simfluence([blind_run(r) for r in split.fit], [blind_run(r) for r in split.val], metric, settings.simfluence_l2)
    simulators = {
        "mean trajectory": mean_trajectory(split.fit, metric),
        "feature-free simulator": lambda run: blind.simulate(blind_run(run), metric),
        "simfluence": fit_method("simfluence", collected, split.fit, split.val, metric, settings).simulate,
        "gptfluence": fit_method("gptfluence", collected, split.fit, split.val, metric, settings, features).simulate,
        "gptfluence, shuffled features": fit_method("gptfluence", collected, split.fit, split.val, metric, settings, shuffled).simulate,
    }
    rows = []
    for setting, runs in heldout.items():
        if not runs:
            raise ConfigError(f"signal_study: no runs for setting {setting!r}")
        flat = score_runs("flat", metric, runs, {r.run_id: np.repeat(r.trajectories[metric][:, :1], len(r.steps), axis=1) for r in runs})
        reference = None
        for source, simulate in simulators.items():
            result = score_runs(source, metric, runs, {r.run_id: simulate(r) for r in runs})
            reference = result.scores.mse.mean if reference is None else reference
            rows.append({"task": collected.task.name, "setting": setting, "source": source, "mse": result.scores.mse.mean,
                         "spearman": result.scores.spearman, "explained": 1 - result.scores.mse.mean / reference,
                         "run_to_run_share": reference / flat.scores.mse.mean, "mse_by_run": list(result.run_mse.values())})
    return pd.DataFrame(rows)
