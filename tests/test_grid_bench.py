import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.grid import GridCell, run_grid
from mini_lib.core.models import build_model, neox_config
from mini_lib.core.tokenization import PackedBlocks
from mini_lib.core.train import TrainConfig
from mini_lib.lab import bench
from mini_lib.lab.bench import Throughput, compare, precision_table, variant_name
from mini_lib.lab.bench import main as bench_main
from tests.helpers import TINY, tiny_model, tiny_setup


def _cells(config, keep_model=False):
    tokenizer, blocks = tiny_setup()
    return [GridCell(name=f"seed{s}", tags={"seed": s}, make_model=lambda s=s: tiny_model(len(tokenizer), seed=s),
                     train_data=blocks, val_data=blocks, config=config, keep_model=keep_model) for s in (0, 1)]


def test_grid_trains_each_cell_and_skips_finished_ones(tmp_path):
    config = TrainConfig(steps=4, batch_size=4, eval_every=2, eval_examples=8, device="cpu", precision="fp32", progress=False)
    first = run_grid(_cells(config), tmp_path)
    assert first.summary["seed"].tolist() == [0, 1]
    assert first.summary.loc[0, "tokens"] == 4 * 4 * 32
    assert first.curves.groupby("name")["step"].apply(list).tolist() == [[0, 2, 4], [0, 2, 4]]
    assert first.summary.loc[0, "val_loss"] != first.summary.loc[1, "val_loss"]  # different seeds
    marker = json.loads((tmp_path / "seed0" / "result" / "cell.json").read_text())
    (tmp_path / "seed0" / "records.jsonl").unlink()  # a rerun must not retrain a finished cell
    again = run_grid(_cells(config), tmp_path)
    assert again.summary.loc[0, "val_loss"] == marker["val_loss"]
    assert not (tmp_path / "seed0" / "records.jsonl").exists()
    assert first.models == again.models == {}  # nothing kept unless asked


def test_kept_models_are_saved_and_loaded_by_a_rerun_instead_of_retrained(tmp_path):
    config = TrainConfig(steps=3, batch_size=4, device="cpu", precision="fp32", progress=False)
    first = run_grid(_cells(config, keep_model=True), tmp_path)
    assert set(first.models) == {"seed0", "seed1"}
    assert [p.name for p in (tmp_path / "seed0").iterdir() if p.name.startswith(".result")] == []  # no temp folder left
    (tmp_path / "seed0" / "records.jsonl").unlink()
    again = run_grid(_cells(config, keep_model=True), tmp_path)
    assert not (tmp_path / "seed0" / "records.jsonl").exists()  # loaded, not retrained
    for name in ("seed0", "seed1"):
        trained, loaded = first.models[name].state_dict(), again.models[name].state_dict()
        assert trained.keys() == loaded.keys()
        assert all(torch.equal(trained[k], loaded[k]) for k in trained)


def test_a_finished_cell_without_its_model_is_retrained_when_the_model_is_wanted(tmp_path):
    config = TrainConfig(steps=3, batch_size=4, device="cpu", precision="fp32", progress=False)
    plain = run_grid(_cells(config), tmp_path)  # finished, but no model saved
    kept = run_grid(_cells(config, keep_model=True), tmp_path)
    assert set(kept.models) == {"seed0", "seed1"} and (tmp_path / "seed1" / "result" / "model").is_dir()
    assert kept.summary["val_loss"].tolist() == pytest.approx(plain.summary["val_loss"].tolist(), abs=1e-6)


def test_a_named_cell_rerun_with_other_steps_is_a_config_error_naming_them(tmp_path):
    config = TrainConfig(steps=3, batch_size=4, device="cpu", precision="fp32", progress=False)
    run_grid(_cells(config)[:1], tmp_path)
    (tmp_path / "seed0" / "records.jsonl").unlink()
    with pytest.raises(ConfigError, match=r"seed0 holds a grid-cell made with other settings: settings.train.steps \(3 -> 4\)"):
        run_grid(_cells(replace(config, steps=4))[:1], tmp_path)
    assert not (tmp_path / "seed0" / "records.jsonl").exists()  # refused before any training
    run_grid(_cells(replace(config, progress=True, log_every=1))[:1], tmp_path)  # settings that change no number
    assert not (tmp_path / "seed0" / "records.jsonl").exists()


def test_cache_mode_trains_a_new_cell_for_other_steps_and_reuses_the_same_spec(tmp_path):
    config = TrainConfig(steps=3, batch_size=4, device="cpu", precision="fp32", progress=False)
    three = run_grid(_cells(config)[:1], tmp_path, mode="cache")
    four = run_grid(_cells(replace(config, steps=4))[:1], tmp_path, mode="cache")
    assert three.summary.loc[0, "tokens"] == 3 * 4 * 32 and four.summary.loc[0, "tokens"] == 4 * 4 * 32
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("seed0-")]) == 2
    again = run_grid(_cells(config)[:1], tmp_path, mode="cache")
    assert again.summary.loc[0, "val_loss"] == three.summary.loc[0, "val_loss"]
    assert len(list(tmp_path.iterdir())) == 2  # reused, not a third cell


def test_cells_sharing_one_model_config_are_reused_after_saving_kept_models(tmp_path):
    """save_pretrained writes `architectures` into the config object the cells share: not a new spec."""
    tokenizer, blocks = tiny_setup()
    shared = neox_config(TINY, len(tokenizer), 32)
    config = TrainConfig(steps=2, batch_size=4, device="cpu", precision="fp32", progress=False)

    def cells():
        return [GridCell(name=f"seed{s}", tags={"seed": s}, make_model=lambda s=s: build_model(shared, seed=s),
                         train_data=blocks, config=config, keep_model=True) for s in (0, 1)]

    first = run_grid(cells(), tmp_path)
    again = run_grid(cells(), tmp_path)
    assert again.summary["final_train_loss"].tolist() == first.summary["final_train_loss"].tolist()


def _random_blocks(n=64, seq_len=32, vocab=512):
    tokens = np.random.default_rng(0).integers(0, vocab, (n, seq_len), dtype=np.int32)
    return PackedBlocks(tokens=tokens, doc_ids=np.arange(n), doc_starts=np.arange(n) * seq_len)


def test_benchmark_compares_ours_with_trainer_on_the_same_run():
    config = TrainConfig(steps=6, batch_size=4, lr=1e-3, precision="fp32", device="cpu", progress=False)
    report = compare("pythia-1m", _random_blocks(), 512, config, rounds=1, warmup=2)
    ours, theirs, bare = (report["results"][k] for k in ("mini_lib", "hf_trainer", "bare_pytorch"))
    assert ours["timed_steps"] == theirs["timed_steps"] == bare["timed_steps"] == 3
    assert report["ratio_ours_over_trainer"] == pytest.approx(ours["tokens_per_s"] / theirs["tokens_per_s"])
    assert report["ratio_ours_over_bare"] == pytest.approx(ours["tokens_per_s"] / bare["tokens_per_s"])
    assert report["ratio_bare_over_trainer"] == pytest.approx(bare["tokens_per_s"] / theirs["tokens_per_s"])
    # same model, data, optimiser settings and schedule: all three end near the same loss
    assert abs(ours["final_loss"] - theirs["final_loss"]) < 0.5
    assert abs(ours["final_loss"] - bare["final_loss"]) < 0.5
    assert {"torch", "transformers", "accelerate"} <= set(report["versions"])


def test_bench_command_prints_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "bench.json"
    report = bench_main(["train", "--device", "cpu", "--steps", "6", "--batch-size", "4", "--seq-len", "32",
                         "--rounds", "1", "--out", str(out)])
    written = json.loads(out.read_text())
    assert written["preset"] == "pythia-1m" and written["seq_len"] == 32 and written["batch_size"] == 4
    assert set(written["results"]) == {"mini_lib", "hf_trainer", "bare_pytorch"}
    assert written["command"].startswith("python -m mini_lib bench train --device cpu")
    assert written == json.loads(json.dumps(report))
    printed = capsys.readouterr().out
    assert "ours / Trainer" in printed and "ceiling (bare / Trainer)" in printed and str(out) in printed
    with pytest.raises(ConfigError, match="device"):
        bench_main(["train", "--device", "tpu"])


@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--rounds", "0"), ("--batch-size", "0"), ("--steps", "3")])
def test_bench_refuses_counts_too_small_instead_of_replacing_them(flag, value):
    with pytest.raises(ConfigError, match=flag.lstrip("-")):
        bench_main(["train", "--device", "cpu", flag, value])


def test_bench_without_out_never_overwrites_the_committed_results(tmp_path, monkeypatch):
    monkeypatch.setenv("MINI_LIB_RUNS", str(tmp_path))
    committed = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "train-cpu-pythia-1m.json"
    before = committed.read_bytes() if committed.exists() else None
    bench_main(["train", "--device", "cpu", "--steps", "5", "--batch-size", "2", "--seq-len", "16", "--rounds", "1"])
    assert (committed.read_bytes() if committed.exists() else None) == before
    (written,) = (tmp_path / "bench").glob("train-cpu-pythia-1m-*.json")
    assert json.loads(written.read_text())["steps"] == 5


def test_bench_measures_extra_variants_and_compares_the_trainer_at_its_best_row():
    config = TrainConfig(steps=5, batch_size=2, lr=1e-3, precision="fp32", device="cpu", progress=False)
    variants = [("mini_lib", False), ("hf_trainer", False), ("bare_pytorch", False)]
    report = compare("pythia-1m", _random_blocks(seq_len=16), 512, config, rounds=1, warmup=2, variants=variants,
                     deadline=0.0)  # the deadline has passed: nothing is measured, everything is listed
    assert report["results"] == {} and report["skipped"] == ["bare_pytorch", "hf_trainer", "mini_lib"]
    assert "ratio_ours_over_trainer" not in report


def test_precision_table_has_one_row_per_precision_and_skips_fp16_on_cpu():
    table = precision_table("pythia-1m", _random_blocks(), 512, ("fp32", "bf16", "fp16"), steps=2, batch_size=4,
                            device="cpu", rounds=2)
    assert table["precision"].tolist() == ["fp32", "bf16"]
    assert (table["tokens_per_s"] > 0).all() and table["speedup_vs_first"].iloc[0] == 1.0
    assert (table["rounds"] == 2).all() and table["noise"].between(0, 1).all()
    assert table["verdict"].iloc[0] == "fp32: the reference" and table["verdict"].iloc[1].startswith("bf16: ")


def _scripted_throughput(monkeypatch, speeds: dict[str, list[float]]) -> list[str]:
    """measure_ours replaced by scripted tokens/s per precision, one per call; returns the call order."""
    calls: list[str] = []

    def measure(model, blocks, config, warmup):
        calls.append(config.precision)
        return Throughput("mini_lib", speeds[config.precision][calls.count(config.precision) - 1], None, 0.1, 5, 1.0)

    monkeypatch.setattr(bench, "measure_ours", measure)
    return calls


def test_precision_rounds_alternate_and_keep_each_best_so_a_busy_round_cannot_flip_the_verdict(monkeypatch):
    # round 2 of fp32 and round 3 of bf16 ran on a busy machine: timed alone, round 2 says "bf16 faster"
    calls = _scripted_throughput(monkeypatch, {"fp32": [100.0, 60.0, 98.0], "bf16": [80.0, 81.0, 40.0]})
    table = precision_table("pythia-1m", _random_blocks(), 512, ("fp32", "bf16"), steps=5, batch_size=4, device="cpu")
    assert calls == ["fp32", "bf16"] * 3
    assert table["tokens_per_s"].tolist() == [100.0, 81.0]
    assert table["noise"].tolist() == pytest.approx([0.02, 1 / 81])  # best vs second best
    assert table["verdict"].iloc[1] == "bf16: slower than fp32, 0.81x its speed (beyond the 2% spread of the best rounds)"


def test_precision_verdict_names_a_difference_only_beyond_the_noise(monkeypatch):
    _scripted_throughput(monkeypatch, {"fp32": [100.0, 90.0, 95.0], "bf16": [97.0, 96.0, 50.0]})
    table = precision_table("pythia-1m", _random_blocks(), 512, ("fp32", "bf16"), steps=5, batch_size=4, device="cpu")
    assert table["verdict"].iloc[1] == "bf16: 0.97x the speed of fp32, but a row's two best rounds differ by up to 5%, so this run cannot tell the two apart"
    _scripted_throughput(monkeypatch, {"fp32": [100.0, 98.0, 99.0], "bf16": [130.0, 129.0, 131.0]})
    table = precision_table("pythia-1m", _random_blocks(), 512, ("fp32", "bf16"), steps=5, batch_size=4, device="cpu")
    assert table["verdict"].iloc[1] == "bf16: faster than fp32, 1.31x its speed (beyond the 1% spread of the best rounds)"
    with pytest.raises(ConfigError, match="rounds must be >= 2"):
        precision_table("pythia-1m", _random_blocks(), 512, ("fp32",), steps=5, batch_size=4, device="cpu", rounds=1)


@pytest.mark.slow
def test_compiled_benchmark_compiles_all_three_and_trains_the_same_model():
    blocks = _random_blocks(n=24, seq_len=16, vocab=128)
    eager, compiled = (TrainConfig(steps=4, batch_size=4, lr=1e-3, precision="fp32", device="cpu", progress=False,
                                   compile=c) for c in (False, True))
    a = compare("pythia-1m", blocks, 128, eager, rounds=1, warmup=1)
    b = compare("pythia-1m", blocks, 128, compiled, rounds=1, warmup=1)
    for loop in ("mini_lib", "hf_trainer", "bare_pytorch"):
        compiled = b["results"][variant_name(loop, True)]
        assert compiled["final_loss"] == pytest.approx(a["results"][loop]["final_loss"], abs=1e-3), loop


TINY_GRID = ["--device", "cpu", "--steps", "4", "--n-layers", "1", "--d-model", "16", "--n-heads", "2", "--seq-len", "16",
             "--batch-size", "2", "--vocab-size", "64", "--rounds", "1"]


def test_bench_grid_times_cells_together_against_one_at_a_time_and_writes_json(tmp_path, capsys):
    out = tmp_path / "grid.json"
    report = bench_main(["grid", "--cells", "3", *TINY_GRID, "--out", str(out)])
    written = json.loads(out.read_text())
    assert written == json.loads(json.dumps(report))
    assert written["benchmark"] == "grid" and written["cells"] == 3 and written["steps"] == 4
    assert written["shape"]["d_model"] == 16 and written["shape"]["tie_embeddings"] is True  # notebook 03's tying
    alone, together = written["results"]["one_at_a_time"], written["results"]["together"]
    assert (alone["fuse"], together["fuse"]) == (1, 3)
    assert written["speedup"] == pytest.approx(together["cells_per_s"] / alone["cells_per_s"])
    assert written["speedup_steady"] == pytest.approx(together["cells_per_s_steady"] / alone["cells_per_s_steady"])
    assert len(alone["final_train_loss"]) == 3 and written["max_final_loss_difference"] < 1e-5
    assert alone["mfu"] is None and together["peak_memory_gb"] > 0  # no known peak FLOP/s on a CPU
    assert {"torch", "transformers", "accelerate"} <= set(written["versions"])
    assert len(written["load_average_1min"]) == 2 and written["cpu_count"] >= 1
    assert written["command"].startswith("python -m mini_lib bench grid --cells 3 --device cpu")
    assert "together / one at a time" in capsys.readouterr().out


def test_bench_grid_defaults_to_notebook_03s_gpu_shape_and_refuses_a_single_cell():
    from mini_lib.lab.bench_grid import grid_cells
    from mini_lib.papers.quality_quantity.settings import QualityQuantitySettings

    (cell,) = grid_cells(QualityQuantitySettings(), 1, steps=3, precision="fp32", device="cpu")
    shape = cell.make_model().config
    assert (shape.num_hidden_layers, shape.hidden_size, shape.num_attention_heads, shape.vocab_size) == (4, 128, 4, 8192)
    assert cell.config.batch_size == 32 and cell.train_data.seq_len == 128
    with pytest.raises(ConfigError, match="--cells >= 2"):
        bench_main(["grid", "--cells", "1", *TINY_GRID])
