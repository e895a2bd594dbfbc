"""What one inner step of notebook 05's policy optimisation costs, and what the paper's schedule would cost.

arXiv 2402.17759 optimises the perceptron's policy for 500 outer epochs of T = 2,000 full-batch GD steps,
each epoch a forward run and an adjoint backward run. Per inner step this script measures, alternating
rounds and keeping each row's best:

- the perceptron at the paper's shape (D 128, N 4,096, K 512): ``simulate`` and ``policy_gradient`` with
  the closed-form derivatives (``perceptron.LogisticDerivatives``) against ``torch.func``'s transforms;
- the tiny LM at the paper's shape (2 layers, d 128, 8 heads, 64 tokens) on ``--lm-n`` rows:
  ``policy_gradient`` keeping every theta_t against keeping every ``--lm-every``-th and replaying.

Beside the seconds it counts the tensor operations dispatched per step (each one a kernel launch on a GPU,
where these small steps wait on the host), and checks each pair computes the same gradient. Run
``.venv/bin/python -m benchmarks.bench_policy [--device cuda] --out benchmarks/results/policy-cpu.json``.
"""

import argparse
import dataclasses
import time
from collections import Counter
from collections.abc import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from mini_lib.core.hardware import resolve_device
from mini_lib.lab.bench import versions, write_report
from mini_lib.papers.optimal_learning.perceptron import PerceptronSetup, make_perceptron_task
from mini_lib.papers.optimal_learning.problem import PolicyProblem
from mini_lib.papers.optimal_learning.tiny_lm import TinyLMConfig, make_tiny_lm_problem
from mini_lib.papers.optimal_learning.unrolled import policy_gradient, simulate, uniform_policy

OFFICIAL_STEPS, OFFICIAL_EPOCHS = 2000, 500  # the official perceptron run (LMOps learning_law)


class _CountOps(TorchDispatchMode):
    """Counts every aten operation that reaches a kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))


def ops_per_step(run: Callable[[], object], steps: int) -> float:
    """Aten operations dispatched by ``run`` divided by its inner steps."""
    with _CountOps() as counter:
        run()
    return sum(counter.ops.values()) / steps


def best_seconds_per_step(runs: dict[str, Callable[[], object]], steps: int, rounds: int,
                          device: torch.device) -> dict[str, float]:
    """Each run's best time over ``rounds`` alternating rounds (after one warm-up call), per inner step; on a
    GPU each timing waits for the queued kernels."""
    def finish() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for run in runs.values():
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            finish()
            start = time.perf_counter()
            run()
            finish()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / steps for name, seconds in best.items()}


def _near_uniform_policy(steps: int, n_train: int, seed: int = 0) -> torch.Tensor:
    gamma = uniform_policy(steps, n_train) * (1 + 0.5 * torch.rand(steps, n_train, generator=torch.Generator().manual_seed(seed)))
    return gamma / gamma.sum(dim=1, keepdim=True)


def _relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def perceptron_rows(steps: int, rounds: int, device: torch.device, eta: float = 0.1) -> dict:
    """Closed form against torch.func on the paper's perceptron: seconds and operations per inner step."""
    closed = make_perceptron_task(PerceptronSetup()).problem.to(device)
    autodiff = dataclasses.replace(closed, closed_form=None)
    gamma = _near_uniform_policy(steps, closed.n_train).to(device)
    runs: dict[str, Callable[[], object]] = {}
    for name, problem in (("closed form", closed), ("torch.func", autodiff)):
        runs[f"simulate {name}"] = lambda p=problem: simulate(p, eta, gamma)
        runs[f"policy_gradient {name}"] = lambda p=problem: policy_gradient(p, gamma, eta)
    seconds = best_seconds_per_step(runs, steps, rounds, device)
    rows = {name: {"seconds_per_step": seconds[name], "ops_per_step": ops_per_step(run, steps)}
            for name, run in runs.items()}
    difference = _relative_difference(policy_gradient(closed, gamma, eta).grad, policy_gradient(autodiff, gamma, eta).grad)
    epoch = {name: OFFICIAL_STEPS * rows[f"policy_gradient {name}"]["seconds_per_step"] for name in ("closed form", "torch.func")}
    return {
        "shape": "D 128, N 4096, K 512 (arXiv 2402.17759, Sec. 4)", "steps": steps, "rows": rows,
        "speedup_policy_gradient": seconds["policy_gradient torch.func"] / seconds["policy_gradient closed form"],
        "speedup_simulate": seconds["simulate torch.func"] / seconds["simulate closed form"],
        "max_relative_gradient_difference": difference,
        "official_schedule_hours": {name: OFFICIAL_EPOCHS * s / 3600 for name, s in epoch.items()},
    }


def lm_rows(n_train: int, steps: int, every: int, vocab_size: int, rounds: int, device: torch.device,
            eta: float = 0.1) -> dict:
    """The tiny LM's policy gradient keeping every theta_t against a checkpoint every ``every`` steps."""
    config = TinyLMConfig(vocab_size=vocab_size)
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, vocab_size, (n_train + 16, config.seq_len + 1), generator=generator)
    problem: PolicyProblem = make_tiny_lm_problem(tokens[:n_train], tokens[n_train:], config,
                                                  chunk_size=n_train).to(device)
    gamma = _near_uniform_policy(steps, n_train).to(device)
    runs = {"keep every theta_t": lambda: policy_gradient(problem, gamma, eta),
            f"checkpoint every {every}, replay": lambda: policy_gradient(problem, gamma, eta, checkpoint_every=every)}
    seconds = best_seconds_per_step(runs, steps, rounds, device)
    kept, replayed = (policy_gradient(problem, gamma, eta, checkpoint_every=k) for k in (None, every))
    return {
        "shape": f"2 layers, d 128, 8 heads, 64 tokens, |V| {vocab_size}, N {n_train}", "steps": steps,
        "rows": {name: {"seconds_per_step": seconds[name], "ops_per_step": ops_per_step(run, steps)}
                 for name, run in runs.items()},
        "speedup_keep_every_theta": seconds[f"checkpoint every {every}, replay"] / seconds["keep every theta_t"],
        "max_relative_gradient_difference": _relative_difference(kept.grad, replayed.grad),
    }


def format_report(report: dict) -> str:
    """One line per row, then the ratios."""
    lines = []
    for setting in ("perceptron", "tiny_lm"):
        part = report[setting]
        lines.append(f"{setting} ({part['shape']}, T {part['steps']}):")
        lines += [f"  {name:>34}: {row['seconds_per_step'] * 1e6:9.0f} us/step  {row['ops_per_step']:6.0f} ops/step"
                  for name, row in part["rows"].items()]
        lines.append(f"  max relative difference of dJ/dgamma: {part['max_relative_gradient_difference']:.1e}")
    perceptron = report["perceptron"]
    hours = perceptron["official_schedule_hours"]
    lines.append(f"perceptron: policy_gradient {perceptron['speedup_policy_gradient']:.1f}x, simulate "
                 f"{perceptron['speedup_simulate']:.1f}x; the official {OFFICIAL_EPOCHS} epochs of T {OFFICIAL_STEPS}: "
                 f"{hours['closed form']:.2f} h closed form, {hours['torch.func']:.2f} h torch.func")
    lines.append(f"tiny LM: keeping every theta_t {report['tiny_lm']['speedup_keep_every_theta']:.2f}x the replay")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="inner steps T of the perceptron runs timed")
    parser.add_argument("--lm-n", type=int, default=32, help="training rows of the tiny LM")
    parser.add_argument("--lm-steps", type=int, default=6)
    parser.add_argument("--lm-every", type=int, default=6,
                        help="checkpoint interval compared with keeping all (6 of 6 steps: all but theta_0 replayed)")
    parser.add_argument("--lm-vocab", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--out", default=None, help="JSON path (default: runs/bench/policy-<time>.json)")
    args = parser.parse_args(argv)
    device = torch.device(resolve_device(args.device))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    report = {"bench": "policy", "device": name, "threads": torch.get_num_threads(), "versions": versions(),
              "perceptron": perceptron_rows(args.steps, args.rounds, device),
              "tiny_lm": lm_rows(args.lm_n, args.lm_steps, args.lm_every, args.lm_vocab, args.rounds, device)}
    print(format_report(report))
    print(f"wrote {write_report(report, args.out, 'policy')}")
    return report


if __name__ == "__main__":
    main()
