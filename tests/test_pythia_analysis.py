"""Notebook 01's readings of its runs (papers/pythia_training/analysis.py) and its figures (plots.py)."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import torch
from matplotlib.container import ErrorbarContainer

from mini_lib.papers.pythia_training import analysis, plots

SUMMARY = pd.DataFrame({"preset": ["pythia-1m", "pythia-3m", "pythia-14m"], "parameters": [840_000, 2_510_000, 1_710_000],
                        "val_loss": [3.0, 2.5, 2.7]})


def _curves(losses: dict[str, list[float]], flops_per_step: dict[str, float], steps=(0, 50, 100, 150, 200)) -> pd.DataFrame:
    return pd.DataFrame([{"preset": name, "step": step, "val_loss": loss, "flops": step * flops_per_step[name]}
                         for name, curve in losses.items() for step, loss in zip(steps, curve)])


def test_labels_name_each_model_with_its_parameters_smallest_first():
    assert analysis.size_labels(SUMMARY) == {"pythia-1m": "pythia-1m (0.84M)", "pythia-14m": "pythia-14m (1.71M)",
                                             "pythia-3m": "pythia-3m (2.51M)"}


def test_equal_compute_readings_say_which_size_is_lower_where_both_ran():
    flops = {"pythia-1m": 1.0, "pythia-14m": 2.0, "pythia-3m": 3.0}
    smallest_always = _curves({"pythia-1m": [7, 4.0, 3.5, 3.2, 3.0], "pythia-14m": [7, 4.5, 3.8, 3.3, 2.9],
                               "pythia-3m": [7, 4.0, 3.0, 2.7, 2.5]}, flops)
    first, second = analysis.equal_compute_readings(smallest_always, SUMMARY)
    assert first.startswith("pythia-1m (0.84M) has the lower loss at every compute both reached (from 1e+02 to 2e+02")
    # 14m at 100 and 150 FLOP-units against 3m at 150 (3.0) and, interpolated in log FLOPs, its loss at 100
    assert second.startswith("pythia-3m (2.51M) has the lower loss at every compute")
    overtaken = _curves({"pythia-1m": [7, 4.0, 3.5, 3.4, 3.35], "pythia-14m": [7, 4.0, 3.3, 3.2, 2.9],
                         "pythia-3m": [7, 4.0, 3.0, 2.7, 2.5]}, flops)
    assert analysis.equal_compute_readings(overtaken, SUMMARY)[0] == (
        "pythia-1m (0.84M) leads at first; pythia-14m (1.71M) has the lower loss from between 1.5e+02 and 2e+02 FLOPs "
        "on (compared from 1e+02 to 2e+02 FLOPs).")
    apart = _curves({"pythia-1m": [7, 4.0, 3.5, 3.4, 3.35], "pythia-14m": [7, 4.5, 3.6, 3.2, 2.9],
                     "pythia-3m": [7, 4.0, 3.0, 2.7, 2.5]}, {"pythia-1m": 1.0, "pythia-14m": 5.0, "pythia-3m": 6.0})
    assert "do not overlap" in analysis.equal_compute_readings(apart, SUMMARY)[0]


def test_mfu_on_a_cpu_is_against_a_measured_matrix_multiplication_and_leaves_the_random_state_alone():
    before = torch.random.get_rng_state()
    peak, where = analysis.mfu_peak(torch.device("cpu"), "fp32")
    assert torch.equal(torch.random.get_rng_state(), before)
    assert 1e8 < peak < 1e13 and where == "the best fp32 512x512 matrix multiplication measured here"
    bf16_peak, bf16_where = analysis.mfu_peak(torch.device("cpu"), "bf16")
    assert bf16_peak >= peak and "fp32 or bf16" in bf16_where  # never below the fp32 rate: MFU stays a fraction
    table = pd.DataFrame({"precision": ["fp32", "bf16"], "compile": [False, False], "tokens_per_s": [1000.0, 500.0],
                          "mfu": [None, None]})
    filled = analysis.with_mfu(table, flops_per_token=1e6, device="cpu")
    assert list(filled["mfu"]) == [1e9 / peak, 5e8 / bf16_peak]
    assert list(filled["peak"]) == [where, bf16_where]


def test_mfu_on_a_listed_gpu_uses_the_vendor_table(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    assert analysis.mfu_peak(torch.device("cuda"), "bf16") == (989e12, "the bf16 peak in the table of core/hardware.py")


def test_size_figure_names_models_with_their_parameters_in_one_legend_below():
    curves = _curves({"pythia-1m": [7, 4.0, 3.5, 3.2, 3.0], "pythia-14m": [7, 4.5, 3.8, 3.3, 2.9],
                      "pythia-3m": [7, 4.0, 3.0, 2.7, 2.5]}, {"pythia-1m": 1.0, "pythia-14m": 2.0, "pythia-3m": 3.0})
    fig = plots.loss_vs_size_and_compute(curves, SUMMARY)
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["pythia-1m (0.84M)", "pythia-14m (1.71M)", "pythia-3m (2.51M)"]


def test_throughput_bars_show_the_noise_below_the_best_round_only():
    table = pd.DataFrame({"precision": ["fp32", "bf16"], "compile": [False, False], "tokens_per_s": [1000.0, 120.0],
                          "noise": [0.1, 0.5], "rounds": [3, 3]})
    ax = plots.throughput_bars(table, "pythia-1m").axes[0]
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = bars.lines[2][0].get_segments()
    assert [tuple(s[:, 1]) for s in segments] == [(900.0, 1000.0), (60.0, 120.0)]  # from second-best up to best
    assert [t.get_text() for t in ax.texts] == ["1,000 (1.00x)", "120 (0.12x)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["fp32", "bf16"]
