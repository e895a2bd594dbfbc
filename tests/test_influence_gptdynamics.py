"""GPTDynamics run/task files: our writer and reader round-trip, the reader takes the release's layout and our
older exports, and every rule of the official loader (github.com/ernie-research/gptfluence,
dataset/base_dataset.py, dataset/simfluence_dataset.py, dataset/tracincp_dataset.py) holds for what we write."""

import json

import numpy as np
import pytest

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.gptdynamics import (
    Example,
    FileIds,
    Run,
    TaskDynamics,
    read_file_ids,
    read_run,
    read_task,
    write_run,
    write_task,
)


def _run(run_id: str, first_step: int, rng: np.random.Generator) -> Run:
    batches = [[int(i) for i in rng.choice(10, size=2, replace=False)] for _ in range(5)]
    cols = 5 - first_step + 1
    return Run(
        run_id=run_id,
        batches=batches,
        trajectories={"loss": rng.normal(size=(3, cols)), "bleu": rng.uniform(size=(3, cols))},
        test_ids=[101, 100, 102],
        first_step=first_step,
        learning_rates=[1e-4 * (t + 1) for t in range(5)],
    )


@pytest.mark.parametrize("first_step", [0, 1])
def test_task_round_trip(tmp_path, first_step):
    rng = np.random.default_rng(0)
    task = TaskDynamics(
        train_examples=[Example(i, f"premise {i}", "yes" if i % 2 else "no") for i in range(10)],
        test_examples=[Example(100 + k, f"test {k} ü", "no") for k in range(3)],
        runs=[_run(f"run_{r}", first_step, rng) for r in (0, 1, 10, 2)],
    )
    write_task(tmp_path / "task", task)
    back = read_task(tmp_path / "task")  # test ids 100.. are written as 0.. and mapped back
    assert back.train_examples == task.train_examples and back.test_examples == task.test_examples
    assert [r.run_id for r in back.runs] == ["run_0", "run_1", "run_2", "run_10"]  # numeric order
    for run in back.runs:
        original = next(r for r in task.runs if r.run_id == run.run_id)
        assert run.batches == original.batches and run.test_ids == original.test_ids
        assert run.first_step == first_step and run.learning_rates == original.learning_rates
        assert set(run.trajectories) == {"loss", "bleu"}
        for metric in ("loss", "bleu"):
            np.testing.assert_array_equal(run.trajectories[metric], original.trajectories[metric])


def test_reads_hand_written_release_files(tmp_path):
    # The release layout: JSON lines, steps from 1, bleu files keep the loss_trajectory/loss keys.
    (tmp_path / "train_samples_id.json").write_text(
        '{"step": 1, "samples_id": [3, 7]}\n{"step": 2, "samples_id": [1, 3]}\n{"step": 3, "samples_id": [7, 0]}\n'
    )
    (tmp_path / "all_loss_trajectory.out").write_text(
        '{"id": 200, "loss_trajectory": [{"step": 1, "loss": 2.5}, {"step": 2, "loss": 2.0}, {"step": 3, "loss": 1.5}]}\n'
        '{"id": 201, "loss_trajectory": [{"step": 2, "loss": 0.9}, {"step": 1, "loss": 1.0}, {"step": 3, "loss": 0.8}]}\n'
    )
    (tmp_path / "all_bleu_trajectory.out").write_text(
        '{"id": 201, "loss_trajectory": [{"step": 1, "loss": 0.1}, {"step": 2, "loss": 0.2}, {"step": 3, "loss": 0.3}]}\n'
        '{"id": 200, "loss_trajectory": [{"step": 1, "loss": 0.4}, {"step": 2, "loss": 0.5}, {"step": 3, "loss": 0.6}]}\n'
    )
    run = read_run(tmp_path)
    assert run.run_id == tmp_path.name and run.first_step == 1 and run.n_steps == 3
    assert run.batches == [[3, 7], [1, 3], [7, 0]] and run.learning_rates is None
    assert run.test_ids == [200, 201]
    np.testing.assert_array_equal(run.trajectories["loss"], [[2.5, 2.0, 1.5], [1.0, 0.9, 0.8]])
    np.testing.assert_array_equal(run.trajectories["bleu"], [[0.4, 0.5, 0.6], [0.1, 0.2, 0.3]])  # rows follow test_ids
    assert run.transition_batches() == [[1, 3], [7, 0]]  # the step-1 batch precedes the first value
    np.testing.assert_array_equal(run.steps, [1, 2, 3])


def test_reads_batches_as_one_json_list_and_custom_keys(tmp_path):
    (tmp_path / "train_samples_id.json").write_text(json.dumps([{"step": 2, "samples_id": [5]}, {"step": 1, "samples_id": [4]}]))
    (tmp_path / "all_rougeL_trajectory.out").write_text(
        '{"id": 9, "rougeL_trajectory": [{"step": 0, "rougeL": 0.1}, {"step": 1, "rougeL": 0.3}, {"step": 2, "rougeL": 0.2}]}\n'
    )
    with pytest.raises(ConfigError, match="list_key"):
        read_run(tmp_path)
    run = read_run(tmp_path, list_key="rougeL_trajectory", value_key="rougeL")
    assert run.batches == [[4], [5]] and run.first_step == 0
    np.testing.assert_array_equal(run.trajectories["rougeL"], [[0.1, 0.3, 0.2]])


def test_inconsistent_files_are_rejected(tmp_path):
    (tmp_path / "train_samples_id.json").write_text('{"step": 1, "samples_id": [1]}\n{"step": 3, "samples_id": [2]}\n')
    with pytest.raises(ConfigError, match="without gaps"):
        read_run(tmp_path)
    (tmp_path / "train_samples_id.json").write_text('{"step": 1, "samples_id": [1]}\n{"step": 2, "samples_id": [2]}\n')
    (tmp_path / "all_loss_trajectory.out").write_text('{"id": 1, "loss_trajectory": [{"step": 1, "loss": 1.0}]}\n')
    with pytest.raises(ConfigError, match="do not match"):
        read_run(tmp_path)
    with pytest.raises(ConfigError, match="shape"):
        Run("r", [[1], [2]], {"loss": np.zeros((1, 2))}, [1], first_step=0)


def test_write_run_writes_release_lines(tmp_path):
    run = Run("r", [[4, 2], [1, 4]], {"loss": np.array([[3.0, 2.0]])}, [77], first_step=1)
    write_run(tmp_path, run, FileIds(train={1: 1, 2: 2, 4: 4}, test={77: 0}))
    lines = (tmp_path / "train_samples_id.json").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"step": 1, "samples_id": [4, 2]}, {"step": 2, "samples_id": [1, 4]}]
    record = json.loads((tmp_path / "all_loss_trajectory.out").read_text())
    assert record == {"id": 0, "loss_trajectory": [{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.0}]}


def _official_task(tmp_path, first_step: int) -> TaskDynamics:
    """Pool ids 10..15 and test ids after the pool (20, 21, 22), as our tasks number them."""
    rng = np.random.default_rng(1)
    train = [Example(10 + i, f"premise {i}", " yes" if i % 2 else " no") for i in range(6)]
    test = [Example(20 + k, f"question {k}", " no") for k in range(3)]
    batches = [[int(10 + i) for i in rng.choice(6, size=2, replace=False)] for _ in range(4)]
    run = Run("run_0", batches, {"loss": rng.uniform(size=(3, 4 - first_step + 1))}, [22, 20, 21], first_step=first_step)
    task = TaskDynamics(train, test, [run])
    write_task(tmp_path, task)
    return task


def _json_lines(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:  # what BaseDataset / TracInCPDataset / SimfluenceDataset do
        return [json.loads(line) for line in f.readlines()]


def test_example_files_are_json_lines_with_the_fields_the_official_datasets_read(tmp_path):
    task = _official_task(tmp_path, first_step=1)
    for name, examples in (("train.json", task.train_examples), ("test.json", task.test_examples)):
        records = _json_lines(tmp_path / name)
        assert [r["id"] for r in records] == list(range(len(examples)))  # each file numbers from 0
        assert [r["source_id"] for r in records] == [e.id for e in examples]
        assert [r["input"] for r in records] == [e.input + e.output for e in examples]  # the whole training text
        assert [r["context"] for r in records] == [e.input for e in examples]  # masked out of TracIn-CP's labels


def test_run_ids_index_train_json_and_test_json_from_zero(tmp_path):
    task = _official_task(tmp_path, first_step=1)
    batches = _json_lines(tmp_path / "run_0" / "train_samples_id.json")
    trajectories = _json_lines(tmp_path / "run_0" / "all_loss_trajectory.out")
    position = {e.id: n for n, e in enumerate(task.train_examples)}
    assert [b["samples_id"] for b in batches] == [[position[i] for i in batch] for batch in task.runs[0].batches]
    assert [t["id"] for t in trajectories] == [2, 0, 1]  # test ids 22, 20, 21 are rows 2, 0, 1 of test.json
    # Simfluence's Simulator (model/Simulator.py, _adjust_orders) looks up row n_train * test_id + train_id of an
    # embedding with n_train * n_test rows: every pair of ids must land inside it.
    n_train, n_test = len(task.train_examples), len(task.test_examples)
    rows = [n_train * t["id"] + i for record in batches for t in trajectories for i in record["samples_id"]]
    assert 0 <= min(rows) and max(rows) < n_train * n_test


@pytest.mark.parametrize("first_step", [0, 1])
def test_every_transition_finds_its_batch_as_simfluence_dataset_pairs_them(tmp_path, first_step):
    task = _official_task(tmp_path, first_step)
    by_step = {r["step"]: r["samples_id"] for r in _json_lines(tmp_path / "run_0" / "train_samples_id.json")}
    position = {e.id: n for n, e in enumerate(task.train_examples)}
    for line in _json_lines(tmp_path / "run_0" / "all_loss_trajectory.out"):
        steps = [point["step"] for point in line["loss_trajectory"]]
        assert set(steps) <= set(by_step)  # every step of a trajectory has its entry (step 0 too)
        for prev, cur in zip(steps[:-1], steps[1:]):  # transition prev -> cur uses the batch of cur
            assert by_step[cur] == [position[i] for i in task.runs[0].batches[cur - 1]]
    assert (0 in by_step) == (first_step == 0) and by_step.get(0, []) == []  # nothing is trained before step 0


@pytest.mark.parametrize("first_step", [0, 1])
def test_official_export_reads_back_with_our_ids(tmp_path, first_step):
    task = _official_task(tmp_path, first_step)
    back = read_task(tmp_path)
    assert back.train_examples == task.train_examples and back.test_examples == task.test_examples
    run, original = back.runs[0], task.runs[0]
    assert run.batches == original.batches and run.test_ids == original.test_ids and run.first_step == first_step
    np.testing.assert_array_equal(run.trajectories["loss"], original.trajectories["loss"])


def test_reads_an_older_export_of_ours(tmp_path):
    # Before the official format: indented JSON lists, test ids after the pool, no step-0 batch entry.
    (tmp_path / "train.json").write_text(json.dumps([{"id": 0, "input": "a", "output": " x"},
                                                     {"id": 1, "input": "b", "output": " y"}], indent=1))
    (tmp_path / "test.json").write_text(json.dumps([{"id": 2, "input": "c", "output": " z"}], indent=1))
    (tmp_path / "run_0").mkdir()
    (tmp_path / "run_0" / "train_samples_id.json").write_text('{"step": 1, "samples_id": [1]}\n')
    (tmp_path / "run_0" / "all_loss_trajectory.out").write_text(
        '{"id": 2, "loss_trajectory": [{"step": 0, "loss": 2.0}, {"step": 1, "loss": 1.0}]}\n')
    back = read_task(tmp_path)
    assert back.test_examples == [Example(2, "c", " z")] and back.train_ids == [0, 1]
    assert back.runs[0].test_ids == [2] and back.runs[0].batches == [[1]] and back.runs[0].first_step == 0


def test_a_step0_entry_must_hold_an_empty_batch(tmp_path):
    (tmp_path / "train_samples_id.json").write_text('{"step": 0, "samples_id": [3]}\n{"step": 1, "samples_id": [1]}\n')
    with pytest.raises(ConfigError, match="step 0"):
        read_run(tmp_path)


def test_file_ids_of_a_folder_follow_its_format(tmp_path):
    task = _official_task(tmp_path / "new", first_step=0)
    ids = read_file_ids(tmp_path / "new")
    assert ids == FileIds.of(task) and ids.test == {20: 0, 21: 1, 22: 2}
    (tmp_path / "old").mkdir()  # an older export kept our ids: a resumed collection must keep writing them
    (tmp_path / "old" / "train.json").write_text(json.dumps([{"id": 5, "input": "a", "output": " x"}]))
    (tmp_path / "old" / "test.json").write_text(json.dumps([{"id": 9, "input": "c", "output": " z"}]))
    assert read_file_ids(tmp_path / "old") == FileIds(train={5: 5}, test={9: 9})
