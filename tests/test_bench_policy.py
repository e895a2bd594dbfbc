"""The policy benchmarks of notebook 05 (benchmarks/bench_policy.py, benchmarks/perceptron_official.py), run small."""

import json

import pytest
import torch

from benchmarks import bench_policy, perceptron_official
from mini_lib.core.errors import ConfigError

pytestmark = pytest.mark.usefixtures("one_thread")


def test_bench_policy_compares_closed_form_with_torch_func_and_kept_with_replayed_states(tmp_path):
    out = tmp_path / "policy.json"
    report = bench_policy.main(["--steps", "4", "--lm-n", "4", "--lm-steps", "2", "--lm-every", "2",
                                "--lm-vocab", "300", "--rounds", "1", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report)) and report["device"] == "cpu"
    perceptron, lm = report["perceptron"], report["tiny_lm"]
    rows = perceptron["rows"]
    assert rows["policy_gradient closed form"]["ops_per_step"] < rows["policy_gradient torch.func"]["ops_per_step"] / 3
    assert perceptron["max_relative_gradient_difference"] < 1e-5
    hours = perceptron["official_schedule_hours"]
    assert hours["closed form"] == pytest.approx(
        500 * 2000 * rows["policy_gradient closed form"]["seconds_per_step"] / 3600)
    assert lm["max_relative_gradient_difference"] == 0  # replaying a segment recomputes the same states
    replayed = lm["rows"]["checkpoint every 2, replay"]["ops_per_step"]
    assert replayed > lm["rows"]["keep every theta_t"]["ops_per_step"]


def test_perceptron_official_runs_the_profile_schedule_and_writes_strict_json(tmp_path, capsys):
    out = tmp_path / "official.json"
    report = perceptron_official.main([
        "--profile", "smoke", "--device", "cpu", "--fits", "--out", str(out),
        "--set", "perceptron_epochs=2", "perceptron_steps=20", "perceptron_long_factor=2", "perceptron_fit_steps=[10]"])
    text = out.read_text()
    assert "NaN" not in text and json.loads(text)["headline"]["steps"] == 20
    assert report["settings"]["perceptron_epochs"] == 2 and report["settings"]["perceptron_outer_lr"] == 1.0
    assert len(report["headline"]["objective_history"]) == 3
    assert [row["T"] for row in report["fits_by_steps"]] == [10, 10]
    assert "speed-up" in capsys.readouterr().out


def test_bench_policy_refuses_a_gpu_it_cannot_see():
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.raises(ConfigError, match="no GPU is visible"):
        bench_policy.main(["--device", "cuda", "--steps", "2", "--rounds", "1"])
