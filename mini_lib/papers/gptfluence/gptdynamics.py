"""Training-dynamics records in the GPTDynamics format, so the official GPTfluence code reads our runs.

GPTfluence (arXiv 2404.07840) released its fine-tuning dynamics as GPTDynamics on the Hugging Face hub:
``ernie-research/GPTDynamics`` now, ``baidu/GPTDynamics`` before (older README revisions link that name;
both hold the same release). Every rule below is read off the official loader, github.com/ernie-research/gptfluence:
``dataset/base_dataset.py`` (``BaseDataset``), ``dataset/tracincp_dataset.py`` (``TracInCPDataset``),
``dataset/simfluence_dataset.py`` (``SimfluenceDataset``), ``utils/construct_runs-data.py`` (the writer).

* ``train.json`` / ``test.json``: JSON *lines* (``BaseDataset`` calls ``json.loads`` on every line), one
  ``{"id", "input", "context", "output"}`` per example. ``input`` is the whole text the model trains on
  (prompt + target, what the featurizer encodes and ``TracInCPDataset`` tokenizes), ``context`` the prompt
  alone (``TracInCPDataset`` masks its tokens out of the labels), ``output`` the target.
* Ids are positions: training ids 0..n_train-1 in ``train.json`` order, test ids 0..n_test-1 in
  ``test.json`` order, each numbered from 0 on its own (the official simulators index embedding tables of
  ``train_example_nums`` / ``test_example_nums`` rows with them). Our ids are kept as ``"source_id"`` in
  both files (the official code ignores the key); :func:`read_task` maps every file id back to it.
* ``train_samples_id.json`` -- JSON lines ``{"step": t, "samples_id": [ids]}``: the batch trained at step t.
  ``SimfluenceDataset`` pairs the transition (prev_step -> cur_step) with ``train_samples_id[cur_step]``,
  so step t's batch is the one that moves the value from step t-1 to step t. When a run records the
  value before training (step 0), the file also holds ``{"step": 0, "samples_id": []}``: every step of a
  trajectory then has its entry, and nothing was trained before step 0. Our writer adds an optional
  ``"lr"`` key (the learning rate of step t, needed by TracIn-CP); readers that do not know it ignore it.
* ``all_{metric}_trajectory.out`` for metric in ``loss``, ``bleu``, ``rougeL`` -- JSON lines
  ``{"id": test_id, "loss_trajectory": [{"step": t, "loss": value}, ...]}``; the release keeps the keys
  ``loss_trajectory`` / ``loss`` for BLEU and ROUGE-L too (both are parameters, the release's by default).

Step convention: the value at step t is measured *after* the update of step t (phi_t = f(phi_{t-1}, c_t)).
The release records steps 1..T; when the value before training is known we keep it as step 0
(``Run.first_step == 0``), which gives the simulators one more transition per run. (The official
TracIn-CP rollout, ``utils/eval.py`` ``eval_tracincp_simulator``, starts its rollouts at step 1.)

Older exports of this package (``train.json`` / ``test.json`` as one indented JSON list of
``{"id", "input", "output"}``, test ids numbered after the pool, no step-0 batch entry) still read.
A task folder holds the two example files and one sub-folder per run (``run_0/``, ``run_1/``, ...; any
sub-folder holding ``train_samples_id.json`` counts, ordered by the number in its name).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mini_lib.core.errors import ConfigError

BATCHES_FILE = "train_samples_id.json"
TRAJECTORY_PATTERN = "all_{metric}_trajectory.out"
RELEASE_LIST_KEY = "loss_trajectory"
RELEASE_VALUE_KEY = "loss"
SOURCE_ID_KEY = "source_id"


@dataclass
class Example:
    """One task example; ``input`` is the prompt and ``output`` the target (label or text)."""

    id: int
    input: str
    output: str


@dataclass
class Run:
    """One fine-tuning run: the batch of every step and each test example's metric trajectories.

    ``batches[t - 1]`` holds the training ids of step t (t = 1..T). ``trajectories[metric]`` has
    shape (n_test, T - first_step + 1): column c is the value after step ``first_step + c``
    (``first_step`` is 0 when the value before training was recorded, 1 for the release). Rows follow
    ``test_ids``. ``learning_rates[t - 1]`` is the learning rate of step t, when recorded.
    """

    run_id: str
    batches: list[list[int]]
    trajectories: dict[str, np.ndarray]
    test_ids: list[int]
    first_step: int = 1
    learning_rates: list[float] | None = None

    def __post_init__(self) -> None:
        if self.first_step not in (0, 1):
            raise ConfigError(f"first_step must be 0 (value before training kept) or 1 (release), got {self.first_step}")
        expected = (len(self.test_ids), self.n_steps - self.first_step + 1)
        for metric, values in self.trajectories.items():
            values = np.asarray(values, dtype=np.float64)
            if values.shape != expected:
                raise ConfigError(
                    f"run {self.run_id}: trajectories[{metric!r}] has shape {values.shape}, expected {expected} "
                    f"(n_test, steps {self.first_step}..{self.n_steps})"
                )
            self.trajectories[metric] = values
        if self.learning_rates is not None and len(self.learning_rates) != self.n_steps:
            raise ConfigError(f"run {self.run_id}: {len(self.learning_rates)} learning rates for {self.n_steps} steps")

    @property
    def n_steps(self) -> int:
        """Number of optimiser steps T."""
        return len(self.batches)

    @property
    def steps(self) -> np.ndarray:
        """The step of every trajectory column."""
        return np.arange(self.first_step, self.n_steps + 1)

    def transition_batches(self) -> list[list[int]]:
        """Batches of every transition, in column order (the step-1 batch is dropped when first_step == 1)."""
        return self.batches[self.first_step:]

    def with_test_ids(self, test_ids: list[int]) -> Run:
        """A copy restricted to (and ordered by) ``test_ids``."""
        rows = _rows_of(self.test_ids, test_ids, f"run {self.run_id}")
        return Run(
            run_id=self.run_id,
            batches=self.batches,
            trajectories={m: v[rows] for m, v in self.trajectories.items()},
            test_ids=list(test_ids),
            first_step=self.first_step,
            learning_rates=self.learning_rates,
        )


@dataclass
class TaskDynamics:
    """A task: its training pool, its test examples and the runs recorded on it."""

    train_examples: list[Example]
    test_examples: list[Example]
    runs: list[Run] = field(default_factory=list)

    @property
    def train_ids(self) -> list[int]:
        return [e.id for e in self.train_examples]

    @property
    def test_ids(self) -> list[int]:
        return [e.id for e in self.test_examples]


@dataclass(frozen=True)
class FileIds:
    """Our example ids -> the format's ids: positions in train.json and in test.json, each from 0."""

    train: dict[int, int]
    test: dict[int, int]

    @classmethod
    def of(cls, task: TaskDynamics) -> FileIds:
        return cls(train={i: n for n, i in enumerate(task.train_ids)}, test={i: n for n, i in enumerate(task.test_ids)})


def write_run(
    folder: str | Path, run: Run, ids: FileIds, *, list_key: str = RELEASE_LIST_KEY, value_key: str = RELEASE_VALUE_KEY
) -> Path:
    """Write ``run`` in the official layout, example ids renumbered by ``ids`` (see the module docstring)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / BATCHES_FILE, "w", encoding="utf-8") as f:
        if run.first_step == 0:
            f.write(json.dumps({"step": 0, "samples_id": []}) + "\n")
        for t, batch in enumerate(run.batches, start=1):
            record: dict = {"step": t, "samples_id": [ids.train[int(i)] for i in batch]}
            if run.learning_rates is not None:
                record["lr"] = float(run.learning_rates[t - 1])
            f.write(json.dumps(record) + "\n")
    for metric, values in run.trajectories.items():
        with open(folder / TRAJECTORY_PATTERN.format(metric=metric), "w", encoding="utf-8") as f:
            for test_id, row in zip(run.test_ids, values):
                points = [{"step": int(s), value_key: float(v)} for s, v in zip(run.steps, row)]
                f.write(json.dumps({"id": ids.test[int(test_id)], list_key: points}) + "\n")
    return folder


def read_run(
    folder: str | Path,
    *,
    metrics: list[str] | None = None,
    list_key: str = RELEASE_LIST_KEY,
    value_key: str = RELEASE_VALUE_KEY,
    run_id: str | None = None,
) -> Run:
    """Read one run folder with the ids as written (file ids); ``metrics=None`` reads every metric present.

    Rows of every metric follow the line order of the first metric read (``loss`` when present).
    :func:`read_task` maps the ids back to ours."""
    folder = Path(folder)
    if not (folder / BATCHES_FILE).is_file():
        raise ConfigError(f"no {BATCHES_FILE} in {folder} (is this a GPTDynamics run folder?)")
    batches, learning_rates = _read_batches(folder / BATCHES_FILE)
    if metrics is None:
        found = [p.name[len("all_") : -len("_trajectory.out")] for p in folder.glob("all_*_trajectory.out")]
        metrics = sorted(found, key=lambda m: (m != "loss", m))  # rows follow the first file read: loss when present
    if not metrics:
        raise ConfigError(f"no all_{{metric}}_trajectory.out file in {folder}")
    trajectories: dict[str, np.ndarray] = {}
    test_ids: list[int] | None = None
    first_step = None
    for metric in metrics:
        path = folder / TRAJECTORY_PATTERN.format(metric=metric)
        if not path.is_file():
            raise ConfigError(f"metric {metric!r}: {path} not found")
        ids, steps, values = _read_trajectories(path, list_key, value_key)
        if steps[-1] != len(batches) or steps[0] not in (0, 1):
            raise ConfigError(f"{path}: steps {steps[0]}..{steps[-1]} do not match {len(batches)} batches (steps 0 or 1..T)")
        if test_ids is None:
            test_ids, first_step = ids, int(steps[0])
        else:
            if int(steps[0]) != first_step:
                raise ConfigError(f"{path}: starts at step {steps[0]}, other metrics at {first_step}")
            values = values[_rows_of(ids, test_ids, str(path))]
        trajectories[metric] = values
    return Run(
        run_id=run_id or folder.name,
        batches=batches,
        trajectories=trajectories,
        test_ids=test_ids,
        first_step=first_step,
        learning_rates=learning_rates,
    )


def write_task(folder: str | Path, task: TaskDynamics, **keys: str) -> Path:
    """Write ``train.json``, ``test.json`` (JSON lines) and one folder per run (named after ``run.run_id``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, examples in (("train.json", task.train_examples), ("test.json", task.test_examples)):
        lines = [
            json.dumps({"id": n, "input": e.input + e.output, "context": e.input, "output": e.output,
                        SOURCE_ID_KEY: int(e.id)}, ensure_ascii=False)
            for n, e in enumerate(examples)
        ]
        (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    ids = FileIds.of(task)
    for run in task.runs:
        write_run(folder / run.run_id, run, ids, **keys)
    return folder


def read_task(folder: str | Path, *, metrics: list[str] | None = None, **keys: str) -> TaskDynamics:
    """Read a task folder in the official format (ids mapped back to ``source_id``) or an older export of ours."""
    folder = Path(folder)
    records = {name: _json_records(_task_file(folder, name)) for name in ("train.json", "test.json")}
    to_source = {name: {int(r["id"]): int(r.get(SOURCE_ID_KEY, r["id"])) for r in rs} for name, rs in records.items()}
    # hidden folders are never runs: a build's staging folder, or a run moved aside
    run_folders = sorted((p for p in folder.iterdir() if not p.name.startswith(".") and (p / BATCHES_FILE).is_file()),
                         key=_natural_key)
    runs = [_with_source_ids(read_run(p, metrics=metrics, **keys), to_source["train.json"], to_source["test.json"])
            for p in run_folders]
    return TaskDynamics(train_examples=[_example(r) for r in records["train.json"]],
                        test_examples=[_example(r) for r in records["test.json"]], runs=runs)


def read_file_ids(folder: str | Path) -> FileIds:
    """The id map of a task folder's example files (identity for an older export of ours, which kept our ids)."""
    folder = Path(folder)
    maps = [{int(r.get(SOURCE_ID_KEY, r["id"])): int(r["id"]) for r in _json_records(_task_file(folder, name))}
            for name in ("train.json", "test.json")]
    return FileIds(train=maps[0], test=maps[1])


def _task_file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise ConfigError(f"task file {path} not found (a task folder holds train.json, test.json and run folders)")
    return path


def _json_records(path: Path) -> list[dict]:
    """JSON lines (the official format) or one JSON list (older exports)."""
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _example(record: dict) -> Example:
    """Prompt and target of one record: ``context`` + ``output`` when given (``input`` is then the whole text)."""
    if "context" in record:
        prompt = record["context"]
        output = record["output"] if "output" in record else record["input"][len(prompt):]
    else:
        prompt, output = record["input"], record["output"]
    return Example(id=int(record.get(SOURCE_ID_KEY, record["id"])), input=prompt, output=output)


def _with_source_ids(run: Run, train: dict[int, int], test: dict[int, int]) -> Run:
    unknown = sorted({i for batch in run.batches for i in batch} - set(train)) + sorted(set(run.test_ids) - set(test))
    if unknown:
        raise ConfigError(f"run {run.run_id}: ids {unknown[:10]} are not in train.json / test.json")
    return Run(
        run_id=run.run_id,
        batches=[[train[i] for i in batch] for batch in run.batches],
        trajectories=run.trajectories,
        test_ids=[test[i] for i in run.test_ids],
        first_step=run.first_step,
        learning_rates=run.learning_rates,
    )


def _read_batches(path: Path) -> tuple[list[list[int]], list[float] | None]:
    """Parse the batches file (JSON lines, or one JSON list); an empty step-0 entry is allowed and dropped."""
    records = sorted(_json_records(path), key=lambda r: r["step"])
    if records and int(records[0]["step"]) == 0:
        if records[0]["samples_id"]:
            raise ConfigError(f"{path}: step 0 (before training) must have an empty batch, got {records[0]['samples_id'][:5]}")
        records = records[1:]
    steps = [int(r["step"]) for r in records]
    if steps != list(range(1, len(records) + 1)):
        raise ConfigError(f"{path}: steps must run 1..T without gaps, got {steps[:5]}...{steps[-3:]}")
    batches = [[int(i) for i in r["samples_id"]] for r in records]
    has_lr = ["lr" in r for r in records]
    if any(has_lr) and not all(has_lr):
        raise ConfigError(f"{path}: 'lr' is given for some steps only")
    return batches, ([float(r["lr"]) for r in records] if all(has_lr) else None)


def _read_trajectories(path: Path, list_key: str, value_key: str) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Parse one metric file into (test ids, steps, values of shape (n_test, n_steps))."""
    ids, rows, steps = [], [], None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if list_key not in record:
                raise ConfigError(f"{path} line {n}: no key {list_key!r} (keys: {sorted(record)}); pass list_key=")
            points = sorted(record[list_key], key=lambda p: p["step"])
            if points and value_key not in points[0]:
                raise ConfigError(f"{path} line {n}: no value key {value_key!r} (keys: {sorted(points[0])}); pass value_key=")
            these = np.array([int(p["step"]) for p in points])
            if steps is None:
                steps = these
            elif not np.array_equal(steps, these):
                raise ConfigError(f"{path} line {n}: steps differ from the first line's")
            ids.append(int(record["id"]))
            rows.append([float(p[value_key]) for p in points])
    if steps is None:
        raise ConfigError(f"{path} is empty")
    if not np.array_equal(steps, np.arange(steps[0], steps[0] + len(steps))):
        raise ConfigError(f"{path}: steps must be consecutive, got {steps[:5]}...")
    return ids, steps, np.array(rows, dtype=np.float64)


def _rows_of(have: list[int], want: list[int], where: str) -> np.ndarray:
    position = {i: r for r, i in enumerate(have)}
    missing = [i for i in want if i not in position]
    if missing:
        raise ConfigError(f"{where}: test ids {missing[:10]} not present")
    return np.array([position[i] for i in want], dtype=int)


def _natural_key(path: Path) -> tuple:
    numbers = re.findall(r"\d+", path.name)
    return (int(numbers[-1]) if numbers else -1, path.name)
