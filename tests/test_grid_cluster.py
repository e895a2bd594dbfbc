"""A grid over a local Dask cluster of 2 CPU workers (``run_grid(client=...)``, ``core.grid_cluster``): the
store is the shared truth, so every cell is trained exactly once, wherever it runs."""

import json

import numpy as np
import pytest

from mini_lib.core.grid import GridCell, run_grid
from mini_lib.core.grid_cluster import train_on_cluster
from mini_lib.core.train import TrainConfig
from tests.helpers import tiny_model, tiny_setup

distributed = pytest.importorskip("distributed")
STEPS = 3


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def cells(n: int = 3) -> list[GridCell]:
    tokenizer, blocks = tiny_setup()
    config = TrainConfig(steps=STEPS, batch_size=4, device="cpu", precision="fp32", progress=False)
    return [GridCell(name=f"seed{s}", tags={"seed": s}, make_model=lambda s=s: tiny_model(len(tokenizer), seed=s),
                     train_data=blocks, val_data=blocks, config=config) for s in range(n)]


def steps_trained(folder) -> list[int]:
    return [json.loads(line)["step"] for line in (folder / "records.jsonl").read_text().splitlines()]


def test_cluster_trains_each_cell_once_and_reuses_a_cell_finished_elsewhere(client, tmp_path):
    local = run_grid(cells(), tmp_path / "local")
    run_grid(cells()[:1], tmp_path / "shared")  # finished before the cluster starts
    before = (tmp_path / "shared" / "seed0" / "records.jsonl").read_bytes()
    spread = run_grid(cells(), tmp_path / "shared", client=client)
    assert (tmp_path / "shared" / "seed0" / "records.jsonl").read_bytes() == before
    for name in ("seed0", "seed1", "seed2"):
        assert steps_trained(tmp_path / "shared" / name) == list(range(1, STEPS + 1))
    assert not list((tmp_path / "shared").glob(".*replaced*"))  # no run was started twice
    np.testing.assert_allclose(spread.summary["val_loss"], local.summary["val_loss"], rtol=0, atol=1e-6)
    assert spread.summary["name"].tolist() == local.summary["name"].tolist()


def test_two_workers_given_the_same_cell_train_it_once(client, tmp_path):
    """Two tasks for one cell run at once on the two workers: one trains, the other waits on the cell's
    result lock and then reads what the first committed."""
    names = train_on_cluster(client, cells(2), tmp_path, "named", 1, [[1], [1]])
    assert names == ["seed1", "seed1"]
    assert steps_trained(tmp_path / "seed1") == list(range(1, STEPS + 1))
    assert not list(tmp_path.glob(".*replaced*")) and not (tmp_path / "seed0").exists()
    assert (tmp_path / "seed1" / "result" / "cell.json").exists()


def test_fused_groups_are_tasks_too(client, tmp_path):
    run_grid(cells(), tmp_path, client=client, fuse=2)
    metas = [json.loads((tmp_path / f"seed{s}" / "train_meta.json").read_text()) for s in range(3)]
    assert [m.get("trained_together") for m in metas] == [2, 2, None]  # a group of two, then one alone


def test_notebook_03s_grid_trained_on_workers_is_what_a_run_of_that_name_reads(client, tmp_path, monkeypatch):
    """benchmarks/grid_on_workers.py, the README's 8-GPU recipe, on this 2-worker cluster (smoke profile)."""
    from benchmarks import grid_on_workers
    from mini_lib.lab.profiles import notebook_settings
    from mini_lib.lab.runner import prepare_run_folder

    monkeypatch.setenv("MINI_LIB_RUNS", str(tmp_path))
    counts = grid_on_workers.main(["--scheduler", client.scheduler.address, "--profile", "smoke", "--name", "dry",
                                   "--fuse", "2"])
    assert counts["grid"] == 2
    run_dir = tmp_path / grid_on_workers.NOTEBOOK / "dry"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["profile"] == "smoke" and record["finished"] is None
    del record["finished"]
    prepare_run_folder(grid_on_workers.NOTEBOOK, "dry", record)  # the runner takes the folder as this run's
    settings = notebook_settings(grid_on_workers.NOTEBOOK, "smoke", {})
    cells = grid_on_workers.grids(settings)["grid"]
    before = {c.name: (run_dir / "grid" / c.name / "records.jsonl").read_bytes() for c in cells}
    again = run_grid(cells, run_dir / "grid")  # the notebook's own call: reads, trains nothing
    assert {c.name: (run_dir / "grid" / c.name / "records.jsonl").read_bytes() for c in cells} == before
    assert set(again.models) == {c.name for c in cells if c.keep_model}
