"""The paper's two experiments (arXiv 2402.17759, Sec. 4) from a notebook's settings, as tables to plot.

One experiment = one ``PolicyProblem`` (the perceptron, or the tiny LM on half-perturbed stories) and:

1. policy optimisation (``optimise.optimise_policy``): conventional training (gamma = 1/N) and the
   optimised policy, both T full-batch GD steps, with their desired-loss curves;
2. a long conventional run (``long_factor * T`` steps) to read the speed-up off directly: how many
   conventional steps reach the loss the optimised policy reaches at step T (``summary``), on the
   desired set and on the held-out test set; when the long run never gets there the speed-up is the
   lower bound ``long_factor`` (flagged ``speedup_lower_bound``), never extrapolated;
3. contribution traces (``learning_law``): CT_n(t) = grad L_dsr . grad l_n at every ``trace_every``-th
   step of both runs, to check the Learning Law (equal CT among the examples that keep weight).

``headline`` turns an experiment into plain numbers (what results.json stores and what
``paper.paper_vs_ours`` compares), and the ``*_frame`` functions return long pandas tables for seaborn.
Settings are read by name from any object with the fields of ``policy.settings.OptimalLearningSettings``.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from mini_lib.core.errors import ConfigError
from mini_lib.core.hardware import resolve_device
from mini_lib.papers.optimal_learning.analysis import curve_shape, fit_interval
from mini_lib.papers.optimal_learning.data import PolicyLMData, prepare_policy_lm_data
from mini_lib.papers.optimal_learning.learning_law import (
    ContributionTrace,
    contribution_similarity,
    trace_contributions,
    zero_weight_report,
)
from mini_lib.papers.optimal_learning.optimise import PolicyConfig, PolicyResult, optimise_policy
from mini_lib.papers.optimal_learning.perceptron import PerceptronSetup, make_perceptron_task
from mini_lib.papers.optimal_learning.problem import PolicyProblem
from mini_lib.papers.optimal_learning.settings import OptimalLearningSettings
from mini_lib.papers.optimal_learning.summary import PolicySummary, summarise_policy
from mini_lib.papers.optimal_learning.tiny_lm import TinyLMConfig, count_parameters, make_tiny_lm_problem
from mini_lib.papers.optimal_learning.unrolled import simulate

SETTINGS = ("perceptron", "tiny_lm")
OnEpoch = Callable[[int, float], None]


@dataclass
class PolicyExperiment:
    """Everything one setting produced: the run, the long conventional curve, summary and CT traces."""

    setting: str  # "perceptron" | "tiny_lm"
    problem: PolicyProblem
    result: PolicyResult
    long_curve: Tensor  # conventional L_dsr(theta_t), t = 0 .. long_factor * T
    summary: PolicySummary
    vocab_size: int  # |V| of the compression ratio (2 for the perceptron)
    groups: dict[str, Tensor]  # name -> boolean mask over the N training examples (partition)
    marked: Tensor | None  # planted bad examples (flipped labels / perturbed rows), if any
    conventional_trace: ContributionTrace
    optimised_trace: ContributionTrace
    n_parameters: int


def perceptron_experiment(settings: OptimalLearningSettings, *, on_epoch: OnEpoch | None = None) -> PolicyExperiment:
    """The perceptron setting: teacher labels, desired inputs from a shifted distribution."""
    setup = PerceptronSetup(dim=settings.perceptron_dim, n_train=settings.perceptron_n_train,
                            n_desired=settings.perceptron_n_desired, shift=settings.perceptron_shift,
                            label_noise=settings.perceptron_label_noise, seed=settings.seed)
    task = make_perceptron_task(setup)
    problem = task.problem.to(resolve_device(settings.device))
    config = PolicyConfig(steps=settings.perceptron_steps, eta=settings.perceptron_eta,
                          outer_epochs=settings.perceptron_epochs, outer_lr=settings.perceptron_outer_lr,
                          lr_schedule=settings.lr_schedule)
    if task.flipped.any():
        groups = {"clean label": ~task.flipped, "flipped label": task.flipped}
        marked = task.flipped
    else:
        groups = _margin_groups(task.problem.train[0].double() @ task.teacher.double())
        marked = None
    return _run("perceptron", problem, config, vocab_size=2, long_factor=settings.perceptron_long_factor,
                trace_every=settings.perceptron_trace_every, groups=groups, marked=marked,
                n_parameters=settings.perceptron_dim, on_epoch=on_epoch)


def perceptron_fits_by_steps(settings: OptimalLearningSettings) -> pd.DataFrame:
    """The learning-law fit of both perceptron runs (conventional, optimised) for every T in
    ``settings.perceptron_fit_steps``, each a full policy optimisation of T steps (no long run, no traces):
    is the optimised curve's (B, beta) identifiable at any affordable T? Rows: T, run, B, beta, ranges."""
    rows = []
    for steps in settings.perceptron_fit_steps:
        short = replace(settings, perceptron_steps=steps, perceptron_long_factor=1, perceptron_trace_every=steps)
        result = perceptron_experiment(short)
        fits = {"conventional": result.summary.fit_conventional, "optimised": result.summary.fit_optimised}
        curves = {"conventional": result.result.conventional_curve, "optimised": result.result.optimised_curve}
        for run, fit in fits.items():
            row: dict[str, Any] = {"T": steps, "run": run, "fitted": fit is not None}
            if fit is not None:
                row |= {"B": fit.scale, "beta": fit.exponent} | fit_interval(curves[run], fit).columns()
            rows.append(row)
    return pd.DataFrame(rows)


def lm_data_from_settings(settings: OptimalLearningSettings) -> PolicyLMData:
    """The tiny LM's token rows (train N, half perturbed; desired K) as the settings describe them."""
    return prepare_policy_lm_data(
        n_train=settings.lm_n_train, n_desired=settings.lm_n_desired, vocab_size=settings.vocab_size,
        seq_len=settings.lm_seq_len, corpus=settings.corpus, n_stories=settings.n_stories,
        desired_fraction=settings.desired_fraction, perturb_fraction=settings.perturb_fraction,
        edit_rate=settings.edit_rate, tier=settings.tier, corpus_path=settings.corpus_path,
        corpus_name=settings.corpus_name, seed=settings.seed,
    )


def lm_config(settings: OptimalLearningSettings, vocab_size: int) -> TinyLMConfig:
    """The tiny Transformer's shape (the paper: 2 layers, d 128, 8 heads, 64 tokens, |V| 5K)."""
    return TinyLMConfig(vocab_size=vocab_size, d_model=settings.lm_d_model, n_layers=settings.lm_n_layers,
                        n_heads=settings.lm_n_heads, seq_len=settings.lm_seq_len)


def tiny_lm_experiment(settings: OptimalLearningSettings, data: PolicyLMData, *, on_epoch: OnEpoch | None = None) -> PolicyExperiment:
    """The Transformer setting: N training rows (half perturbed), K clean desired rows."""
    config = lm_config(settings, data.vocab_size)
    problem = make_tiny_lm_problem(data.train, data.desired, config, seed=settings.seed,
                                   chunk_size=settings.lm_chunk_size, test_tokens=data.test).to(resolve_device(settings.device))
    policy = PolicyConfig(steps=settings.lm_steps, eta=settings.lm_eta, outer_epochs=settings.lm_epochs,
                          outer_lr=settings.lm_outer_lr, lr_schedule=settings.lr_schedule,
                          checkpoint_every=settings.lm_checkpoint_every or None)
    groups = {"clean": ~data.perturbed, "perturbed": data.perturbed}
    return _run("tiny_lm", problem, policy, vocab_size=data.vocab_size, long_factor=settings.lm_long_factor,
                trace_every=settings.lm_trace_every, groups=groups, marked=data.perturbed,
                n_parameters=count_parameters(config), on_epoch=on_epoch)


def epoch_printer(epochs: int, lines: int = 10) -> OnEpoch:
    """A progress callback for the outer optimisation: about ``lines`` lines of J over ``epochs`` epochs
    (every epoch when there are fewer), so a long run shows it is alive without flooding the notebook."""
    every = max(1, epochs // lines)

    def report(epoch: int, objective: float) -> None:
        if epoch % every == 0:
            print(f"outer epoch {epoch:3d}: J = {objective:.4f}")

    return report


def simplex_checks(*experiments: tuple[str, PolicyExperiment]) -> dict:
    """How far each learned policy's rows are from summing to 1 and its smallest weight: a policy off the
    simplex (or negative) would mean the projection failed, whatever the curves look like."""
    return {
        "gamma_rows_on_simplex": {name: float((e.result.gamma.sum(dim=1) - 1).abs().max()) for name, e in experiments},
        "gamma_min": min(float(e.result.gamma.min()) for _, e in experiments),
    }


def headline(experiment: PolicyExperiment, *, active_threshold: float = 0.1,
             zero_threshold: float = 0.1) -> dict[str, Any]:
    """The experiment's numbers as a flat JSON-ready dict (J, CR, speed-up, fits, Learning-Law checks)."""
    summary, result = experiment.summary, experiment.result
    acceleration = summary.acceleration
    out: dict[str, Any] = {
        "setting": experiment.setting,
        "n_train": experiment.problem.n_train,
        "n_desired": experiment.problem.n_desired,
        "n_parameters": experiment.n_parameters,
        "steps": result.config.steps,
        "eta": result.config.eta,
        "outer_epochs": result.config.outer_epochs,
        "outer_lr": result.config.outer_lr,
        "long_run_steps": len(experiment.long_curve) - 1,
        "objective_history": [float(j) for j in result.objective_history],
        "auc_conventional": summary.auc_conventional,
        "auc_optimised": summary.auc_optimised,
        "cr_conventional": summary.cr_conventional,
        "cr_optimised": summary.cr_optimised,
        "final_loss_conventional": float(result.conventional_curve[-1]),
        "final_loss_optimised": float(result.optimised_curve[-1]),
        "best_loss_long_run": float(experiment.long_curve.min()),
        "speedup": acceleration.ratio,
        "speedup_lower_bound": acceleration.lower_bound,
        "conventional_steps_to_target": acceleration.conventional_steps,
        "scale_change": summary.fit_change.scale_change,
        "exponent_change": summary.fit_change.exponent_change,
        "wall_seconds": result.wall_seconds,
    }
    test = summary.acceleration_test
    if test is not None:
        out.update({"speedup_test": test.ratio, "speedup_test_lower_bound": test.lower_bound,
                    "final_test_loss_optimised": test.target_loss})
    curves = {"conventional": result.conventional_curve, "optimised": result.optimised_curve}
    for run, fit in (("conventional", summary.fit_conventional), ("optimised", summary.fit_optimised)):
        out[f"fit_{run}"] = None if fit is None else {
            "B": fit.scale, "beta": fit.exponent, "L0": fit.offset, "t0": fit.t0, "r2": fit.r2,
            "rms_relative_error": fit.rms_relative_error,
        }
        out[f"curve_{run}"] = curve_shape(curves[run])
        if fit is not None:
            interval = fit_interval(curves[run], fit)
            out[f"fit_{run}"] |= {"B_range": list(interval.scale), "beta_range": list(interval.exponent),
                                  "windows": interval.n_windows,
                                  "window_ends": interval.n_ends, "identifiable": interval.identifiable}
    for name, trace in (("conventional", experiment.conventional_trace), ("optimised", experiment.optimised_trace)):
        stats = contribution_similarity(trace, active_threshold=active_threshold)
        late = slice(len(stats.snr) // 2, None)  # the second half of training
        out[f"snr_{name}_median_late"] = _nanmedian(stats.snr[late])
        out[f"active_fraction_{name}_late"] = float(stats.n_active[late].double().mean()) / experiment.problem.n_train
    average = result.gamma.mean(dim=0).cpu() * experiment.problem.n_train
    out["mean_weight_by_group"] = {name: float(average[mask.cpu()].mean()) for name, mask in experiment.groups.items()}
    if experiment.marked is not None:
        report = zero_weight_report(result.gamma.cpu(), experiment.marked.cpu(), threshold=zero_threshold)
        out["zero_weight"] = {"threshold": zero_threshold, "precision": report.precision, "recall": report.recall,
                              "mean_weight_marked": report.mean_weight_marked,
                              "mean_weight_unmarked": report.mean_weight_unmarked}
    return out


def curves_frame(experiment: PolicyExperiment) -> pd.DataFrame:
    """Desired loss per step: the long conventional run and the optimised run (columns step, loss, run)."""
    long = experiment.long_curve.detach().cpu().numpy()
    optimised = experiment.result.optimised_curve.detach().cpu().numpy()
    return pd.concat([
        pd.DataFrame({"step": np.arange(len(long)), "loss": long, "run": "conventional"}),
        pd.DataFrame({"step": np.arange(len(optimised)), "loss": optimised, "run": "optimised"}),
    ], ignore_index=True)


def fit_frame(experiment: PolicyExperiment) -> pd.DataFrame:
    """Measured and fitted desired loss for t >= 1 of both T-step runs (NaN fit where there is none)."""
    rows = []
    for run, curve, fit in (("conventional", experiment.result.conventional_curve, experiment.summary.fit_conventional),
                            ("optimised", experiment.result.optimised_curve, experiment.summary.fit_optimised)):
        values = curve.detach().cpu().numpy()
        steps = np.arange(1, len(values))
        fitted = fit.predict(steps) if fit is not None else np.full(len(steps), math.nan)
        in_window = steps > fit.t0 if fit is not None else np.zeros(len(steps), dtype=bool)
        rows.append(pd.DataFrame({"step": steps, "loss": values[1:], "fitted": fitted, "in_fit_window": in_window,
                                  "run": run}))
    return pd.concat(rows, ignore_index=True)


def objective_frame(experiment: PolicyExperiment) -> pd.DataFrame:
    """J and CR of the policy before each outer epoch (epoch 0 = conventional) and after the last."""
    history = np.asarray(experiment.result.objective_history, dtype=float)
    return pd.DataFrame({"epoch": np.arange(len(history)), "J": history,
                         "CR": math.log(experiment.vocab_size) / history})


def weights_frame(experiment: PolicyExperiment, *, zero_threshold: float = 0.1, max_points: int = 200) -> pd.DataFrame:
    """Per step and group: mean weight N * gamma_{n,t} (1 = uniform) and the fraction below ``zero_threshold``."""
    gamma = experiment.result.gamma.detach().cpu() * experiment.problem.n_train
    steps = np.unique(np.linspace(0, gamma.shape[0] - 1, min(max_points, gamma.shape[0])).round().astype(int))
    rows = []
    for name, mask in experiment.groups.items():
        block = gamma[steps][:, mask.cpu()]
        rows.append(pd.DataFrame({"step": steps, "group": name, "mean_weight": block.mean(dim=1).numpy(),
                                  "zero_fraction": (block < zero_threshold).double().mean(dim=1).numpy()}))
    return pd.concat(rows, ignore_index=True)


def policy_matrix(experiment: PolicyExperiment, *, max_examples: int = 240, max_steps: int = 200) -> pd.DataFrame:
    """N * gamma_{n,t} for a sample of examples (rows) x steps (columns), to draw the policy as an image.

    Rows are grouped (``experiment.groups`` order) and, within a group, sorted by time-averaged weight;
    each group contributes ``max_examples / n_groups`` examples evenly spaced in that ranking, so the
    image shows each group's whole weight distribution. The index is (group, example).
    """
    gamma = experiment.result.gamma.detach().cpu() * experiment.problem.n_train
    steps = np.unique(np.linspace(0, gamma.shape[0] - 1, min(max_steps, gamma.shape[0])).round().astype(int))
    average = gamma.mean(dim=0).numpy()
    per_group = max(1, max_examples // len(experiment.groups))
    parts = []
    for name, mask in experiment.groups.items():
        members = np.flatnonzero(mask.cpu().numpy())
        ranked = members[np.argsort(-average[members], kind="stable")]
        chosen = ranked[np.unique(np.linspace(0, len(ranked) - 1, min(per_group, len(ranked))).round().astype(int))]
        block = pd.DataFrame(gamma[steps][:, chosen].T.numpy(), columns=steps,
                             index=pd.MultiIndex.from_arrays([[name] * len(chosen), chosen], names=["group", "example"]))
        parts.append(block)
    return pd.concat(parts)


def similarity_frame(experiment: PolicyExperiment, *, active_threshold: float = 0.1) -> pd.DataFrame:
    """Per recorded step and run: SNR of CT over active examples, its mean/std, the active fraction."""
    rows = []
    for run, trace in (("conventional", experiment.conventional_trace), ("optimised", experiment.optimised_trace)):
        stats = contribution_similarity(trace, active_threshold=active_threshold)
        rows.append(pd.DataFrame({
            "step": stats.steps.cpu().numpy(), "run": run, "snr": stats.snr.cpu().numpy(),
            "mean_ct": stats.mean.cpu().numpy(), "std_ct": stats.std.cpu().numpy(),
            "active_fraction": stats.n_active.cpu().numpy() / experiment.problem.n_train,
        }))
    return pd.concat(rows, ignore_index=True)


def contributions_frame(experiment: PolicyExperiment, *, active_threshold: float = 0.1) -> pd.DataFrame:
    """Every example's CT and weight at every recorded step of both runs, with its group and activity.

    ``relative_ct`` = CT_n / mean CT over the run's active examples at that step (1 = an average
    contributor); the Learning Law predicts relative_ct close to 1 for every active example.
    """
    group_of = np.empty(experiment.problem.n_train, dtype=object)
    for name, mask in experiment.groups.items():
        group_of[mask.cpu().numpy()] = name
    rows = []
    for run, trace in (("conventional", experiment.conventional_trace), ("optimised", experiment.optimised_trace)):
        stats = contribution_similarity(trace, active_threshold=active_threshold)
        ct = trace.contributions.detach().cpu().numpy()
        weight = trace.weights.detach().cpu().numpy() * experiment.problem.n_train
        steps = trace.steps.cpu().numpy()
        n_steps, n = ct.shape
        rows.append(pd.DataFrame({
            "step": np.repeat(steps, n), "run": run, "example": np.tile(np.arange(n), n_steps),
            "group": np.tile(group_of, n_steps), "ct": ct.ravel(), "weight": weight.ravel(),
            "active": (weight > active_threshold).ravel(),
            "relative_ct": (ct / stats.mean.cpu().numpy()[:, None]).ravel(),
        }))
    return pd.concat(rows, ignore_index=True)


LAW_BAND = (0.5, 1.5)  # a relative contribution in this band counts as "near the mean", where the law puts all


def late_active(contributions: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``contributions_frame`` that the Learning-Law views pool: active examples, second half of training."""
    return contributions[(contributions.step >= contributions.step.max() / 2) & contributions.active]


def spread_summary(contributions: pd.DataFrame) -> pd.DataFrame:
    """How far each run is from the Learning Law, per run over ``late_active`` rows: the share of active examples
    near the mean contribution (relative CT in ``LAW_BAND``; the law puts every active example of the optimal
    policy at 1), near 0 (|relative CT| < 0.5: the example barely moves the desired loss) and below 0 (a step on
    the example raises the desired loss). A histogram that peaks at 0 rather than 1 has most of its mass in the
    second column, the mean being carried by a few large contributors."""
    late = late_active(contributions)
    low, high = LAW_BAND
    shares = pd.DataFrame({
        "run": late.run,
        f"near the mean ({low:g} to {high:g})": late.relative_ct.between(low, high),
        "near 0 (-0.5 to 0.5)": late.relative_ct.abs() < 0.5,
        "below 0 (raises the desired loss)": late.ct < 0,
    })
    table = shares.groupby("run").mean()
    table.insert(0, "active examples pooled", late.groupby("run").size())
    return table


def _run(setting: str, problem: PolicyProblem, config: PolicyConfig, *, vocab_size: int, long_factor: int,
         trace_every: int, groups: dict[str, Tensor], marked: Tensor | None, n_parameters: int,
         on_epoch: OnEpoch | None) -> PolicyExperiment:
    if long_factor < 1 or trace_every < 1:
        raise ConfigError(f"long_factor and trace_every must be positive integers, got {long_factor}, {trace_every}")
    result = optimise_policy(problem, config, on_epoch=on_epoch)
    with_test = problem.test is not None
    long_run = simulate(problem, config.eta, steps=long_factor * config.steps, with_test=with_test)
    long_curve = long_run.desired_losses.cpu()
    test_curves = None
    if with_test:
        optimised_test = simulate(problem, config.eta, result.gamma, with_test=True).test_losses
        test_curves = (long_run.test_losses.cpu(), optimised_test.cpu())
    summary = summarise_policy(result, vocab_size, long_conventional_curve=long_curve, test_curves=test_curves)
    conventional = trace_contributions(problem, config.eta, steps=config.steps, every=trace_every)
    optimised = trace_contributions(problem, config.eta, result.gamma, every=trace_every)
    return PolicyExperiment(setting=setting, problem=problem, result=result, long_curve=long_curve, summary=summary,
                            vocab_size=vocab_size, groups=groups, marked=marked, conventional_trace=conventional,
                            optimised_trace=optimised, n_parameters=n_parameters)


def _margin_groups(margins: Tensor) -> dict[str, Tensor]:
    """Split examples by |teacher margin| into thirds: near the decision boundary, middle, far from it."""
    size = margins.abs()
    low, high = torch.quantile(size, torch.tensor([1 / 3, 2 / 3], dtype=size.dtype))
    return {"near boundary": size <= low, "middle": (size > low) & (size <= high), "far from boundary": size > high}


def _nanmedian(values: Tensor) -> float:
    finite = values[torch.isfinite(values)]
    return float(finite.median()) if finite.numel() else math.nan


def fit_table(numbers: dict) -> pd.DataFrame:
    """The learning-law fit of each run (rows conventional, optimised) from ``headline``'s numbers, as
    ``readable`` text: a B that has run off to 1e12 shows as such, not as a 13-digit float."""
    rows = {run: numbers[f"fit_{run}"] for run in ("conventional", "optimised")}
    return readable(pd.DataFrame({run: fit or {} for run, fit in rows.items()}).T)


def readable(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """``table`` for reading: every float to ``digits`` significant digits ("3.16e+08", "0.12"), a (low, high)
    range as "low to high"; integers, booleans and text unchanged. Fitted coefficients span many decades, where
    a fixed number of decimals shows either noise or nothing."""
    def cell(value: Any) -> Any:
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return f"{cell(value[0])} to {cell(value[1])}"
        return f"{value:.{digits}g}" if isinstance(value, (float, np.floating)) else value

    return table.map(cell)
