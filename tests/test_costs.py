"""Notebook costs stated up front: measured by a script from real runs, rendered into headers and ``list``."""

import json
import sys

import pytest

from benchmarks import costs
from mini_lib.__main__ import main as cli
from mini_lib.core.paths import NOTEBOOK_DIR
from mini_lib.lab.profiles import notebook_names

ALLOCATE = "import time; block = bytearray(300 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(0.3)"


def test_measure_command_reports_wall_time_and_the_peak_memory_of_the_child():
    measured = costs.measure_command([sys.executable, "-c", ALLOCATE])
    assert measured.returncode == 0
    assert measured.wall_s >= 0.3
    assert 0.29 <= measured.peak_rss_gb < 2  # the 300 MiB the child touched, not this test process
    assert costs.measure_command([sys.executable, "-c", "raise SystemExit(3)"]).returncode == 3


def _report(wall_s=130.4, date="2026-11-26"):
    return {"machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 24.0, "python": "3.11"},
            "notebooks": {"00_quickstart": {"cpu": {"wall_s": wall_s, "peak_rss_gb": 0.84, "load_before": 0.1, "date": date},
                                            "smoke": {"wall_s": 12.0, "peak_rss_gb": 0.6, "load_before": 0.1, "date": date}}}}


GPU = {"environment": {"device": "NVIDIA H200"},
       "notebooks": {"00_quickstart": {"passed": True, "projected_s": 108.0, "peak_gpu_memory_gb": 1.74}}}


def test_header_block_states_each_profile_in_order_with_its_machine():
    block = costs.header_block("00_quickstart", _report(), GPU)
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `smoke` | 12 s | 0.6 GB | 2 CPU cores (Test CPU), 2026-11-26")
    assert rows[1].startswith("| `cpu` | 2 min 10 s | 0.8 GB |")
    assert rows[2].startswith("| `gpu` | 0.03 h (projected) | 2 GB GPU | one NVIDIA H200")
    assert block.startswith(costs.BEGIN) and block.endswith(costs.END)


def test_render_replaces_the_block_in_place_and_is_idempotent(tmp_path):
    cell = {"cell_type": "markdown", "metadata": {}, "source": [f"# Title\n\nWhat you need:\n\n{costs.BEGIN}\n{costs.END}\n\nMore prose."]}
    (tmp_path / "00_quickstart.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert costs.render(_report(), GPU, tmp_path) == [tmp_path / "00_quickstart.ipynb"]
    text = "".join(json.loads((tmp_path / "00_quickstart.ipynb").read_text())["cells"][0]["source"])
    assert text.startswith("# Title\n\nWhat you need:\n\n") and text.endswith("\n\nMore prose.")
    assert "| `cpu` | 2 min 10 s |" in text and text.count(costs.BEGIN) == 1
    assert costs.render(_report(), GPU, tmp_path) == []  # nothing changed
    costs.render(_report(wall_s=61), GPU, tmp_path)
    text = "".join(json.loads((tmp_path / "00_quickstart.ipynb").read_text())["cells"][0]["source"])
    assert "| `cpu` | 1 min 01 s |" in text and "2 min 10 s" not in text


def test_measure_merges_into_the_file_and_a_failed_run_keeps_the_previous_figure(tmp_path, monkeypatch):
    out = tmp_path / "costs.json"
    out.write_text(json.dumps(_report()))
    commands = []

    def fake(command, env=None):
        commands.append((command, env["MINI_LIB_CACHE"]))
        failed = command[4] == "00_quickstart"
        return costs.Measured(wall_s=42.0, peak_rss_gb=1.25, returncode=1 if failed else 0, load_before=0.5)

    monkeypatch.setattr(costs, "measure_command", fake)
    report = costs.measure(["00_quickstart", "03_quality_quantity"], ["cpu"], out)
    assert [c[0][3:7] for c in commands] == [["run", "00_quickstart", "--profile", "cpu"],
                                             ["run", "03_quality_quantity", "--profile", "cpu"]]
    assert commands[0][1] != commands[1][1]  # a fresh cache per run, as a new user's first run
    assert report["notebooks"]["00_quickstart"]["cpu"]["wall_s"] == 130.4  # failed: old figure kept
    assert json.loads(out.read_text())["notebooks"]["03_quality_quantity"]["cpu"]["peak_rss_gb"] == 1.25


def test_every_notebook_header_states_the_committed_measured_costs():
    committed = json.loads(costs.COSTS_FILE.read_text())
    gpu = costs.committed_gpu()
    for name in notebook_names():
        assert set(committed["notebooks"][name]) == {"smoke", "cpu"}, name
        header = "".join(json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text())["cells"][0]["source"])
        assert costs.header_block(name, committed, gpu) in header, f"{name}: run python -m benchmarks.costs render"


def test_list_states_measured_costs(capsys):
    cli(["list"])
    out = capsys.readouterr().out
    assert "cpu profile:" in out and "smoke profile:" in out and "peak" in out


def test_readme_block_lists_every_measured_notebook_with_the_gpu_projection():
    block = costs.readme_block(_report(), GPU)
    assert "| `00_quickstart` | 12 s | 2 min 10 s | 0.8 GB | 0.03 h |" in block
    assert "one NVIDIA H200" in block and "Measured on 2 CPU cores (Test CPU), 2026-11-26" in block


def test_readme_states_the_committed_measured_costs():
    committed = json.loads(costs.COSTS_FILE.read_text())
    readme = (costs.REPO_ROOT / "README.md").read_text()
    assert costs.readme_block(committed, costs.committed_gpu()) in readme, "run python -m benchmarks.costs render"


def test_a_gpu_projection_the_acceptance_run_calls_a_lower_bound_stays_one_everywhere():
    gapped = {**GPU, "known_gaps": ["00_quickstart: a phase was not matched"]}
    assert "| `gpu` | >= 0.03 h (projected) |" in costs.header_block("00_quickstart", _report(), gapped)
    assert "| >= 0.03 h |" in costs.readme_block(_report(), gapped)
