"""benchmarks/fsdp_one_gpu.py with --cpu-dry-run: the path a lent GPU runs (FSDP through fsdp_8gpu.yaml with
one process, a killed run resumed from its sharded checkpoint, data parallel beside it), on CPU."""

import json

import pytest

from benchmarks.fsdp_one_gpu import main


@pytest.mark.slow  # four launches of `train`: about a minute on 2 cores
def test_cpu_dry_run_shards_resumes_and_records_both_loops(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    result = main(["--cpu-dry-run", "--work", str(tmp_path)])
    assert json.loads((tmp_path / "fsdp-one-gpu-cpu-dry-run.json").read_text()) == result
    fsdp, resumed, ddp = (result["runs"][name] for name in ("fsdp", "fsdp-resumed", "ddp"))
    assert fsdp["fsdp_units"] == resumed["fsdp_units"] == 5 and ddp["fsdp_units"] is None  # 4 layers and the root
    assert fsdp["checkpoint_files"] == [".metadata", "__0_0.distcp", "trainer_state.json"]
    assert "model.safetensors" in ddp["checkpoint_files"]
    assert "fsdp_8gpu.yaml --num_processes 1" in fsdp["command"]
    assert result["resume"]["resumed_from"] == 2 and result["resume"]["max_abs_loss_difference"] <= 1e-6
    assert fsdp["final_loss"] == pytest.approx(ddp["final_loss"], abs=1e-5)
    assert all(run["tokens_per_s"] > 0 and run["peak_gpu_gb"] is None for run in result["runs"].values())  # a CPU
