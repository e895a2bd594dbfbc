"""The GPU acceptance run's machinery, tested on CPU: cuts that keep shapes, projections, wheels, report."""

import json

import pytest

from benchmarks import acceptance as acc
from mini_lib.lab import costs
from mini_lib.lab.profiles import NOTEBOOK_PROFILES, notebook_settings

# Settings that decide what one step costs: the acceptance run may never change them.
SHAPE_KEYS = {"seq_len", "vocab_size", "batch_size", "micro_batch_size", "preset", "presets", "n_layers", "d_model",
              "n_heads", "hidden_sizes", "layer_counts", "pretrain_batch_size", "lm_d_model", "lm_n_layers",
              "lm_n_heads", "lm_n_train", "lm_chunk_size", "perceptron_n_train", "retrain_batch_size", "compile",
              "precision", "small_n_layers", "small_d_model", "max_len", "eval_batch_size", "max_new_tokens",
              "askllm_max_tokens", "askllm_batch_size"}


def test_every_notebook_has_an_acceptance_run_that_keeps_the_gpu_shapes():
    assert set(acc.ACCEPTANCE) == set(NOTEBOOK_PROFILES)
    for notebook, spec in acc.ACCEPTANCE.items():
        assert not SHAPE_KEYS & set(spec.overrides), notebook
        full = notebook_settings(notebook, "gpu", {})
        cut = notebook_settings(notebook, "gpu", spec.overrides)  # valid settings, or this raises
        for phase in spec.phases:
            assert phase.on in ("loop", "cell")
            assert phase.steps_factor(full, cut) >= 1 and phase.runs_factor(full, cut) >= 1, (notebook, phase.name)


def _call(run_dir, steps_run, wall_s, step_s):
    return {"run_dir": run_dir, "steps_run": steps_run, "wall_s": wall_s, "step_s": step_s}


def test_projection_scales_each_phase_by_its_own_factors_and_counts_the_rest_once():
    full = notebook_settings("04_gptfluence", "gpu", {})
    cut = notebook_settings("04_gptfluence", "gpu", acc.ACCEPTANCE["04_gptfluence"].overrides)
    timing = [_call("/r/04/x/base/train", 20, 12.0, 0.1),          # pre-training: 20 of 4000 steps
              _call("/r/04/x/dynamics/rte/.run_0.k2f9/train", 2, 3.0, 0.5),  # one fine-tuning run
              _call("/tmp/elsewhere", 5, 1.0, 0.2)]                  # matched by no phase: counted once
    cells = [("settings = study.simulator_settings(s); fit(...)", 10.0), ("print(1)", 1.0)]
    phases, other, projected = acc.project("04_gptfluence", timing, cells, wall_s=40.0, full=full, cut=cut)
    by_name = {p.phase: p for p in phases}
    k = full.pretrain_steps / cut.pretrain_steps
    assert by_name["pre-training"].projected_s == pytest.approx(12.0 + 0.1 * (k - 1) * 20)
    k_ft = (full.epochs * (full.n_sampled // full.batch_size)) / (cut.epochs * (cut.n_sampled // cut.batch_size))
    r = full.n_runs / cut.n_runs
    assert by_name["fine-tuning runs (dynamics)"].projected_s == pytest.approx(r * (3.0 + 0.5 * (k_ft - 1) * 2))
    assert by_name["simulator fitting"].projected_s == pytest.approx(10.0 * full.fit_max_steps / cut.fit_max_steps)
    assert by_name["other training calls (not cut)"].projected_s == pytest.approx(1.0)
    assert other == pytest.approx(40.0 - (12.0 + 3.0 + 1.0) - 10.0)
    assert projected == pytest.approx(other + sum(p.projected_s for p in phases))


def test_wheels_to_carry_keeps_only_what_the_device_lacks_once_each():
    files = ["datasets-5.2.0-py3-none-any.whl", "PyYAML-6.0-cp312-cp312-manylinux_2_17_x86_64.whl",
             "rouge_score-0.1.2-py3-none-any.whl", "rouge_score-0.1.1-py3-none-any.whl", "tqdm-4.0-py3-none-any.whl"]
    assert acc.wheel_name("rouge_score-0.1.2-py3-none-any.whl") == "rouge-score"
    kept = acc.wheels_to_carry(files, present={"pyyaml", "tqdm"})
    assert kept == ["datasets-5.2.0-py3-none-any.whl", "rouge_score-0.1.1-py3-none-any.whl"]


def test_the_device_package_list_names_what_the_notebooks_miss_there():
    present = {line.strip() for line in acc.DEVICE_PACKAGES_FILE.read_text().splitlines() if not line.startswith("#")}
    assert {"torch", "transformers", "accelerate", "pandas", "pyarrow"} <= present
    assert not set(acc.DEVICE_MISSING + acc.DEVICE_MISSING_SDIST) & present


def test_markdown_and_readme_rows_come_from_the_report():
    bench = {"environment": {"device": "NVIDIA H200", "torch": "2.11", "transformers": "5.17", "accelerate": "1.15"},
             "presets": {"pythia-160m": {"results": {"mini_lib+compile": {"tokens_per_s": 4e5, "mfu": 0.4,
                                                                         "peak_memory_gb": 20.0}},
                                         "ratio_ours_over_trainer": 1.31, "skipped": ["hf_trainer"]}}}
    notebooks = {"environment": {"device": "NVIDIA H200"}, "skipped": ["06_data_selection"],
                 "notebooks": {"00_quickstart": {"passed": True, "error": None, "wall_s": 61.0,
                                                 "peak_gpu_memory_gb": 3.0, "projected_s": 5400.0}}}
    text = acc.markdown(bench, notebooks)
    assert "| pythia-160m | mini_lib+compile | 400,000 | 40.0% | 20.0 |" in text
    assert "ours / trainer 1.31x; not measured: hf_trainer" in text
    assert "| 00_quickstart | passed | 61 | 3.0 | 1.50 |" in text and "| 06_data_selection | not run" in text
    assert "| `00_quickstart` | 1.50 | 3.0 | passed in 61 s |" in acc.readme_table(notebooks)
    notebooks["known_gaps"] = ["00_quickstart: a phase was not matched"]
    assert "| `00_quickstart` | >= 1.50 |" in acc.readme_table(notebooks)


def test_the_benchmarks_readme_quotes_the_committed_gpu_acceptance_run():
    (committed,) = sorted(acc.RESULTS_DIR.glob("gpu-acceptance-notebooks-*.json"))[-1:]
    table = acc.readme_table(json.loads(committed.read_text()))
    readme = (acc.REPO_ROOT / "benchmarks" / "README.md").read_text()
    assert table in readme, "benchmarks/README.md's gpu projection table differs from the committed acceptance JSON"


def test_acceptance_of_a_notebook_runs_it_and_projects_its_training(tmp_path, monkeypatch):
    monkeypatch.setenv("MINI_LIB_RUNS", str(tmp_path / "runs"))
    result = acc.run_notebook_acceptance("00_quickstart", "acc", profile="smoke",
                                         extra_overrides={"n_stories": 600, "steps": 12, "eval_every": 0})
    assert result.passed, result.error
    training, by_hand_check = result.phases  # the lesson's 5-step check of its hand-written step is never cut
    assert training.phase == "training" and training.calls == 1 and training.step_s > 0
    assert by_hand_check.phase == "other training calls (not cut)" and by_hand_check.calls == 1
    assert by_hand_check.projected_s == by_hand_check.measured_s
    full_steps = NOTEBOOK_PROFILES["00_quickstart"]["smoke"].steps
    assert training.projected_s == pytest.approx(training.measured_s + training.step_s * (full_steps / 12 - 1) * 12)
    assert result.projected_s == pytest.approx(result.other_s + training.projected_s + by_hand_check.projected_s)
    assert 0 < result.other_s < result.wall_s
    (line,) = acc.read_timing([tmp_path / "runs" / "00_quickstart" / "acc" / "train"])  # from its train_meta.json
    assert line["steps_run"] == line["steps_planned"] == 12 and line["batch_size"] == 16
    assert line["first_step_s"] > 0 and line["wall_s"] >= line["first_step_s"] + 11 * line["step_s"] * 0.5


def test_list_states_each_notebooks_projected_gpu_hours(capsys):
    from mini_lib.__main__ import main

    projections = costs.committed_projections()
    assert set(projections) == set(NOTEBOOK_PROFILES)  # every notebook passed in the committed run
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(f"gpu profile: {text}" in out for text in projections.values())


def test_bench_part_measures_the_rows_and_batch_asked_for_and_records_the_shape(tmp_path):
    out = tmp_path / "bench.json"
    report = acc.run_bench_part(out, budget_s=600, presets=("pythia-1m",), steps=4, batch=2,
                                rows=("mini_lib", "bare_pytorch"))
    assert report["shape"]["batch_size"] == 2
    assert set(report["presets"]["pythia-1m"]["results"]) == {"mini_lib", "bare_pytorch"}
    assert json.loads(out.read_text())["shape"] == report["shape"]
    assert "Per step: 2 sequences of 64 tokens, fp32." in acc.markdown(report, None)
    with pytest.raises(acc.ConfigError, match="unknown bench rows"):
        acc.run_bench_part(out, 600, ("pythia-1m",), 4, rows=("ours",))


def test_cells_trained_together_count_their_group_once(tmp_path):
    timing = {"steps_run": 10, "first_step_s": 2.0, "step_s": 0.5, "wall_s": 8.0, "peak_gpu_gb": None}
    for name, together in (("a", 2), ("b", 2), ("alone", 1)):
        folder = tmp_path / "grid" / name
        folder.mkdir(parents=True)
        meta = {"config": {"steps": 10, "batch_size": 4}, "timing": timing, "trained_together": together}
        (folder / "train_meta.json").write_text(json.dumps(meta))
    lines = {line["run_dir"].rsplit("/", 1)[-1]: line for line in acc.read_timing([tmp_path])}
    assert lines["a"]["wall_s"] + lines["b"]["wall_s"] == pytest.approx(8.0)  # one group of two: 8 s, not 16
    assert lines["a"]["step_s"] == pytest.approx(0.25) and lines["alone"]["wall_s"] == pytest.approx(8.0)


def test_policy_phases_scale_the_outer_epochs_not_the_long_run():
    full = notebook_settings("05_optimal_learning", "gpu", {})
    cut = notebook_settings("05_optimal_learning", "gpu", acc.ACCEPTANCE["05_optimal_learning"].overrides)
    perceptron = next(p for p in acc.ACCEPTANCE["05_optimal_learning"].phases if p.name == "perceptron policy")
    factor = perceptron.steps_factor(full, cut)
    naive = (full.perceptron_steps * full.perceptron_epochs) / (cut.perceptron_steps * cut.perceptron_epochs)
    assert factor < naive / 3  # at one outer epoch the cut run is mostly its long run, which 500 epochs do not repeat
    forward_backward = 1 + acc.BACKWARD_COST["perceptron"]
    assert factor == pytest.approx(
        full.perceptron_steps * (full.perceptron_epochs * forward_backward + 4 + full.perceptron_long_factor)
        / (cut.perceptron_steps * (cut.perceptron_epochs * forward_backward + 4 + cut.perceptron_long_factor)))
