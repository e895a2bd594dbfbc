"""Same-shape grid cells trained together as one stacked model (``core.fused``, ``run_grid(fuse=K)``):
each cell's numbers equal training it alone, and its folder is the one a cell trained alone has."""

import json
import shutil
import signal
from dataclasses import replace

import numpy as np
import pytest
import torch

from mini_lib.core import fused
from mini_lib.core.errors import ConfigError
from mini_lib.core.grid import GridCell, groups, run_grid
from mini_lib.core.tokenization import PackedBlocks
from mini_lib.core.train import TrainConfig, batch_indices
from tests.helpers import run_python, tiny_model, tiny_setup

STEPS = 8
LOSS_TOLERANCE = 1e-5  # CPU fp32: the bound, per step and final
# bf16 on a GPU: the stacked batched matmuls round differently from one model's, and training amplifies it
BF16_STEP_TOLERANCE, BF16_VAL_RELATIVE = 0.05, 0.01


class KillAt:
    """Training data that SIGKILLs its process when asked for the batch of ``step`` (a real crash
    mid-step); otherwise (and in its fingerprint) it is the data it wraps."""

    def __init__(self, data, step: int, batch_size: int, seed: int):
        self.data = data
        self.doomed = set(batch_indices(step, len(data), batch_size, seed).tolist())

    def __len__(self):
        return len(self.data)

    def collate(self, indices):
        if len(indices) > 1 and set(np.asarray(indices).tolist()) <= self.doomed:
            import os

            os.kill(os.getpid(), signal.SIGKILL)
        return self.data.collate(indices)

    def example_ids(self, index):
        return self.data.example_ids(index)

    def fingerprint(self):
        from mini_lib.core.store import data_fingerprint

        return data_fingerprint(self.data)


def skewed(weights: np.ndarray):
    """example_weights for train(): each batch's examples weighted by ``weights``, summing to 1."""
    def weigh(step: int, indices: np.ndarray) -> np.ndarray:
        return weights[indices] / weights[indices].sum()

    return weigh


def cells(steps: int = STEPS, kill_at: int | None = None, precision: str = "fp32", device: str = "cpu") -> list[GridCell]:
    """Three cells of one shape that differ in everything a cell keeps for itself: initial weights,
    data (two corpora), data order, loss weights (cell 0's are skewed), lr, warmup, weight decay, betas
    and clipping (cell 1 clips hard), with evaluations, checkpoints every 3 steps and gradient
    accumulation (2 micro-batches)."""
    tokenizer, blocks = tiny_setup()
    rng = np.random.default_rng(0)
    other = PackedBlocks(tokens=rng.integers(0, len(tokenizer), (48, 32), dtype=np.int32),
                         doc_ids=np.arange(48), doc_starts=np.arange(48) * 32)
    base = TrainConfig(steps=steps, batch_size=4, micro_batch_size=2, device=device, precision=precision, progress=False,
                       eval_every=4, eval_examples=8, checkpoint_every=3)
    configs = [replace(base, seed=0), replace(base, seed=1, lr=3e-3, grad_clip=0.05, warmup_steps=3),
               replace(base, seed=2, lr=2e-3, weight_decay=0.0, beta2=0.99, eps=1e-6)]
    data = [blocks, other, blocks]
    if kill_at is not None:
        data[2] = KillAt(blocks, kill_at, 4, configs[2].seed)
    kwargs = [{"example_weights": skewed(np.linspace(0.1, 2.0, len(blocks)))}, {}, {}]
    return [GridCell(name=f"cell{i}", tags={"i": i}, make_model=lambda i=i: tiny_model(len(tokenizer), seed=i),
                     train_data=d, val_data=blocks, config=c, train_kwargs=k)
            for i, (c, d, k) in enumerate(zip(configs, data, kwargs))]


def records(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]


def assert_same_cells(a, b, names=("cell0", "cell1", "cell2"), tolerance=LOSS_TOLERANCE):
    for name in names:
        ra, rb = records(a / name), records(b / name)
        assert [r["step"] for r in ra] == [r["step"] for r in rb] == list(range(1, STEPS + 1)), name
        assert [r["example_ids"] for r in ra] == [r["example_ids"] for r in rb], name
        assert [r["lr"] for r in ra] == [r["lr"] for r in rb], name
        np.testing.assert_allclose([r["loss"] for r in ra], [r["loss"] for r in rb], rtol=0, atol=tolerance, err_msg=name)
        np.testing.assert_allclose([r["grad_norm"] for r in ra], [r["grad_norm"] for r in rb], rtol=1e-4, err_msg=name)
        ea, eb = (json.loads((f / name / "result" / "cell.json").read_text()) for f in (a, b))
        assert ea["evals"]["step"] == eb["evals"]["step"] == [0, 4, 8]
        np.testing.assert_allclose(ea["evals"]["loss"], eb["evals"]["loss"], rtol=0, atol=tolerance, err_msg=name)
        assert ea["final_train_loss"] == pytest.approx(eb["final_train_loss"], abs=tolerance)


def test_fused_cells_equal_each_cell_trained_alone(tmp_path):
    alone = run_grid(cells(), tmp_path / "alone")
    together = run_grid(cells(), tmp_path / "together", fuse=3)
    assert_same_cells(tmp_path / "alone", tmp_path / "together")
    assert together.summary["name"].tolist() == alone.summary["name"].tolist()
    np.testing.assert_allclose(together.summary["val_loss"], alone.summary["val_loss"], rtol=0, atol=LOSS_TOLERANCE)
    metas = [json.loads((tmp_path / d / "cell1" / "train_meta.json").read_text()) for d in ("alone", "together")]
    assert "trained_together" not in metas[0] and metas[1]["trained_together"] == 3
    # the clipping is per cell: cell 1 (clip 0.05) was clipped on every step, the others were not always
    assert all(r["grad_norm"] > 0.05 for r in records(tmp_path / "together" / "cell1"))
    # the same checkpoint files as a cell trained alone, with the same step and optimiser state keys
    for d in ("alone", "together"):
        names = sorted(p.name for p in (tmp_path / d / "cell2" / "checkpoints" / "step_00000006").iterdir())
        assert names == ["manifest.json", "model.safetensors", "optimizer.bin", "random_states_0.pkl", "trainer_state.json"]
    optimizers = [torch.load(tmp_path / d / "cell2" / "checkpoints" / "step_00000006" / "optimizer.bin", weights_only=False)
                  for d in ("alone", "together")]
    assert optimizers[0]["param_groups"] == optimizers[1]["param_groups"]
    for key, state in optimizers[0]["state"].items():
        assert float(state["step"]) == float(optimizers[1]["state"][key]["step"]) == 6.0
        torch.testing.assert_close(state["exp_avg_sq"], optimizers[1]["state"][key]["exp_avg_sq"], rtol=1e-3, atol=1e-9)


def test_a_cell_trained_alone_before_is_reused_by_the_fused_group(tmp_path):
    run_grid(cells()[:1], tmp_path)
    before = (tmp_path / "cell0" / "records.jsonl").read_bytes(), (tmp_path / "cell0" / "result" / "cell.json").read_bytes()
    run_grid(cells(), tmp_path, fuse=3)
    assert ((tmp_path / "cell0" / "records.jsonl").read_bytes(), (tmp_path / "cell0" / "result" / "cell.json").read_bytes()) == before
    assert "trained_together" not in json.loads((tmp_path / "cell0" / "train_meta.json").read_text())
    assert json.loads((tmp_path / "cell2" / "train_meta.json").read_text())["trained_together"] == 2
    assert not [p for p in tmp_path.rglob(".*replaced*")]  # nothing was trained twice


def test_a_killed_group_resumes_to_the_numbers_of_training_alone(tmp_path):
    """SIGKILL in step 5 (after the checkpoint of step 3); the rerun resumes cell 0 alone from the group's
    checkpoint and cells 1 and 2 together again: every number is that of cells trained alone, start to end."""
    run_grid(cells(), tmp_path / "alone")
    killed = run_python(f"""
        from tests.test_grid_fused import cells
        from mini_lib.core.grid import run_grid
        run_grid(cells(kill_at=4), {str(tmp_path / 'group')!r}, fuse=3)
    """)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    for name in ("cell0", "cell1", "cell2"):
        assert [r["step"] for r in records(tmp_path / "group" / name)] == [1, 2, 3, 4]
        assert (tmp_path / "group" / name / "checkpoints" / "step_00000003").is_dir()
        assert not (tmp_path / "group" / name / "result").exists()
    run_grid(cells()[:1], tmp_path / "group")  # train() alone resumes a checkpoint the group wrote
    run_grid(cells(), tmp_path / "group", fuse=3)  # the other two resume together
    assert_same_cells(tmp_path / "alone", tmp_path / "group")
    assert json.loads((tmp_path / "group" / "cell1" / "train_meta.json").read_text())["trained_together"] == 2
    assert not [p for p in (tmp_path / "group").rglob(".*replaced*")]


def test_a_fused_group_resumes_a_checkpoint_written_by_train_alone(tmp_path):
    run_grid(cells(), tmp_path / "alone")
    reference = {name: records(tmp_path / "alone" / name) for name in ("cell0", "cell1", "cell2")}
    for name in reference:  # cut each cell's run back to its step-6 checkpoint, as a kill after step 7 would
        folder = tmp_path / "alone" / name
        shutil.rmtree(folder / "result")
        shutil.rmtree(folder / "checkpoints" / "step_00000008")
        (folder / "checkpoints" / "latest").write_text("step_00000006")
    run_grid(cells(), tmp_path / "alone", fuse=3)
    for name, rows in reference.items():
        again = records(tmp_path / "alone" / name)
        assert [r["step"] for r in again] == list(range(1, STEPS + 1))
        assert json.loads((tmp_path / "alone" / name / "train_meta.json").read_text())["trained_together"] == 3
        np.testing.assert_allclose([r["loss"] for r in again], [r["loss"] for r in rows], rtol=0, atol=LOSS_TOLERANCE)


def test_cells_that_cannot_train_together_train_alone_and_groups_keep_grid_order():
    tokenizer, blocks = tiny_setup()
    model = tiny_model(len(tokenizer))
    config = TrainConfig(steps=2, batch_size=4, device="cpu", precision="fp32")
    assert fused.fusion_key(model, blocks, config, {}) == fused.fusion_key(tiny_model(len(tokenizer), seed=3), blocks,
                                                                          replace(config, lr=0.1, seed=3), {})
    assert fused.fusion_key(model, blocks, config, {"callbacks": [print]}) is None
    assert fused.fusion_key(model, blocks, replace(config, compile=True), {}) is None
    assert fused.fusion_key(model, blocks, replace(config, steps=3), {}) != fused.fusion_key(model, blocks, config, {})
    keys = {"a": 1, "b": 1, "c": None, "d": 1, "e": 2, "f": 1}
    assert groups(list(keys), 2, keys.get) == [["a", "b"], ["c"], ["d", "f"], ["e"]]
    assert groups(list(keys), 1, keys.get) == [[k] for k in keys]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (bf16 fused vs alone)")
def test_fused_bf16_on_a_gpu_stays_within_the_stated_tolerance(tmp_path):
    """bf16 autocast: the batched matmuls of the stack round differently from one model's, so losses
    agree to BF16_STEP_TOLERANCE per step and the final validation loss to BF16_VAL_RELATIVE."""
    gpu_cells = cells(precision="bf16", device="cuda")
    run_grid(gpu_cells, tmp_path / "alone")
    run_grid(cells(precision="bf16", device="cuda"), tmp_path / "together", fuse=3)
    for name in ("cell0", "cell1", "cell2"):
        a, b = records(tmp_path / "alone" / name), records(tmp_path / "together" / name)
        np.testing.assert_allclose([r["loss"] for r in a], [r["loss"] for r in b], rtol=0, atol=BF16_STEP_TOLERANCE)
        va, vb = (json.loads((tmp_path / d / name / "result" / "cell.json").read_text())["val_loss"]
                  for d in ("alone", "together"))
        assert vb == pytest.approx(va, rel=BF16_VAL_RELATIVE)


def test_the_output_layer_cell_by_cell_and_all_at_once_compute_the_same_loss():
    """The CPU runs the output layer and loss cell by cell, a GPU all cells in one batched matmul."""
    tokenizer, blocks = tiny_setup()
    models = [tiny_model(len(tokenizer), seed=s) for s in range(3)]
    ids = torch.stack([blocks.collate([3 * s, 3 * s + 1])["input_ids"] for s in range(3)])
    by_cell = fused.StackedNeoX(models, torch.device("cpu"), loss_by_cell=True)
    at_once = fused.StackedNeoX(models, torch.device("cpu"), loss_by_cell=False)
    torch.testing.assert_close(by_cell.loss(ids, ids), at_once.loss(ids, ids), rtol=0, atol=1e-6)
    from mini_lib.core.neox import CompactNeoX

    alone = torch.stack([CompactNeoX(tiny_model(len(tokenizer), seed=s))(ids[s], ids[s]) for s in range(3)])
    torch.testing.assert_close(at_once.loss(ids, ids), alone, rtol=0, atol=1e-6)


def test_a_make_model_that_builds_other_weights_each_call_is_refused_before_training(tmp_path):
    """The grid keeps no model while it plans (a grid of large models would hold them all): each cell's
    model is built again to train, so make_model must build the same initial weights every time."""
    seeds = iter(range(10))
    tokenizer, blocks = tiny_setup()
    cell = replace(cells()[0], make_model=lambda: tiny_model(len(tokenizer), seed=next(seeds)))
    with pytest.raises(ConfigError, match="cell0: make_model"):
        run_grid([cell], tmp_path)
    assert not (tmp_path / "cell0" / "records.jsonl").exists()


def test_a_cell_another_process_holds_is_waited_for_and_trained_here_if_it_never_finishes(tmp_path):
    """The cell's result lock is held elsewhere (as by a worker that then dies): the grid trains the
    other cells, waits, then takes the lock and trains the cell once itself."""
    import threading

    from mini_lib.core.locking import folder_lock

    grid = cells()[:2]
    (tmp_path / "cell0").mkdir()
    with folder_lock(tmp_path / "cell0" / "result"):
        worker = threading.Thread(target=run_grid, args=(grid, tmp_path))
        worker.start()
        for _ in range(600):  # cell1 is trained while cell0 waits
            if (tmp_path / "cell1" / "result" / "cell.json").exists() or not worker.is_alive():
                break
            worker.join(0.1)
        assert worker.is_alive() and not (tmp_path / "cell0" / "records.jsonl").exists()
    worker.join(120)
    assert not worker.is_alive()
    assert [r["step"] for r in records(tmp_path / "cell0")] == list(range(1, STEPS + 1))
    assert (tmp_path / "cell0" / "result" / "cell.json").exists() and not list(tmp_path.glob(".*replaced*"))
