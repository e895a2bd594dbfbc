"""Notebook 03's grids trained on a Dask cluster, one worker per GPU; the notebook run then reads them.

The cells are built exactly as the notebook builds them (same settings, data, variants), and trained into
the run folder the notebook will use (``runs/03_quality_quantity/<name>/grid``, ``epoch_sweep``,
``budget``), prepared by the runner's own ``prepare_run_folder`` with the record a run of those settings
writes (and its lock held meanwhile). Running the notebook under that name afterwards resumes that run:
it finds every cell finished in the store and trains nothing; a cell whose spec differs from the
notebook's is a ConfigError there, never silent reuse.

    dask scheduler --port 8786 &
    for i in $(seq 0 7); do CUDA_VISIBLE_DEVICES=$i dask worker tcp://127.0.0.1:8786 --nthreads 1 --name gpu$i & done
    .venv/bin/python -m benchmarks.grid_on_workers --scheduler tcp://127.0.0.1:8786 --name gpu8 --fuse 8
    .venv/bin/python -m mini_lib run 03 --profile gpu --name gpu8

``--local-workers N`` starts a local cluster of N CPU worker processes instead (a dry run of the same
path, e.g. with ``--profile smoke``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict

from mini_lib.core.grid import run_grid
from mini_lib.core.locking import folder_lock
from mini_lib.core.paths import runs_dir
from mini_lib.lab.profiles import apply_profile_environment, notebook_settings
from mini_lib.lab.runner import parse_parameter, prepare_run_folder
from mini_lib.papers.quality_quantity import data as qq_data
from mini_lib.papers.quality_quantity import experiment as qq_experiment

NOTEBOOK = "03_quality_quantity"


def grids(settings) -> dict[str, list]:
    """The notebook's three grids, by the sub-folder each trains in: the same calls as its cells."""
    data = qq_data.prepare_data(settings)
    return {
        "grid": qq_experiment.grid_cells(data, qq_data.make_variants(data, settings), settings, keep_models=True),
        "epoch_sweep": qq_experiment.grid_cells(data, qq_data.epoch_sweep(data, settings), settings),
        "budget": qq_experiment.budget_cells(data, settings),
    }


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grid_on_workers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786")
    where.add_argument("--local-workers", type=int, help="start a local cluster of this many CPU workers")
    parser.add_argument("--name", required=True, help="the run name the notebook will be run with")
    parser.add_argument("--profile", default="gpu")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="as for run")
    parser.add_argument("--fuse", type=int, default=1, help="same-shape cells trained together per task")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    apply_profile_environment(args.profile)
    settings = notebook_settings(NOTEBOOK, args.profile, dict(parse_parameter(p) for p in args.param))
    record = {"notebook": NOTEBOOK, "profile": args.profile, "settings": json.loads(json.dumps(asdict(settings)))}
    cluster = (LocalCluster(n_workers=args.local_workers, threads_per_worker=1, dashboard_address=None)
               if args.local_workers else None)
    counts = {}
    with folder_lock(runs_dir() / NOTEBOOK / args.name), Client(cluster or args.scheduler) as client:
        run_dir = prepare_run_folder(NOTEBOOK, args.name, record)  # what `run` writes: it resumes this run
        for folder, cells in grids(settings).items():
            started = time.perf_counter()
            run_grid(cells, run_dir / folder, client=client, fuse=args.fuse)
            counts[folder] = len(cells)
            print(f"{folder}: {len(cells)} cells in {time.perf_counter() - started:.0f} s")
    if cluster is not None:
        cluster.close()
    print(f"now: python -m mini_lib run 03 --profile {args.profile} --name {args.name}"
          + "".join(f" -p {p}" for p in args.param))
    return counts


if __name__ == "__main__":
    main()
