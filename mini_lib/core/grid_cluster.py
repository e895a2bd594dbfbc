"""A grid over many workers (GPUs, machines) through Dask distributed: each group of cells is one task.

Why Dask: a ``LocalCluster`` of two processes starts in seconds inside a test, the same code drives a
cluster of GPU workers on one machine or many (``dask worker`` per GPU, or Slurm through dask-jobqueue),
and it needs no daemon or object store of its own (Ray) nor a scheduler like Slurm (submitit) to test.
A cell is idempotent: a task calls ``run_grid`` on its cells in the shared run folder, where a finished
cell is read, never trained again, and the cell's result lock keeps two workers from training one cell
at once (the second waits, then reads it). So a task that is retried, a worker that dies, or a second
driver on the same grid cost at most the work since a cell's last checkpoint.

The cells travel to each worker once (``scatter``, broadcast), with the data they share pickled once.
"""

from __future__ import annotations

import os
from typing import Sequence


def _train_cells(cells: list, indices: Sequence[int], run_dir: str, mode: str, fuse: int) -> list[str]:
    """A task: train (or read) the cells ``indices`` in the shared ``run_dir``; returns their names."""
    from mini_lib.core.grid import run_grid

    chosen = [cells[i] for i in indices]
    run_grid(chosen, run_dir, mode=mode, fuse=fuse)
    return [cell.name for cell in chosen]


def train_on_cluster(client, cells: list, run_dir: "str | os.PathLike", mode: str, fuse: int,
                     groups: Sequence[Sequence[int]]) -> list[str]:
    """Train ``groups`` of ``cells`` (indices; each group one task, trained together when ``fuse`` > 1)
    on the workers of ``client`` and wait for all of them; a failed task raises its error here.
    Returns the names of the cells, in task order. The run folder must be one every worker can reach."""
    [shared] = client.scatter([cells], broadcast=True, hash=False)
    futures = [client.submit(_train_cells, shared, list(group), os.path.abspath(run_dir), mode, fuse, pure=False)
               for group in groups]
    return [name for names in client.gather(futures) for name in names]
