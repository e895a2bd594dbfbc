"""Notebook 05's small helpers: the outer-loop progress printer and the simplex checks of a learned policy."""

from types import SimpleNamespace

import torch

from mini_lib.papers import optimal_learning as policy


def test_epoch_printer_prints_about_ten_lines_or_every_epoch(capsys):
    report = policy.epoch_printer(100)
    for epoch in range(100):
        report(epoch, 1.0 / (epoch + 1))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10 and lines[1] == "outer epoch  10: J = 0.0909"
    few = policy.epoch_printer(3)
    for epoch in range(3):
        few(epoch, 0.5)
    assert len(capsys.readouterr().out.splitlines()) == 3


def _experiment(gamma: torch.Tensor):
    return SimpleNamespace(result=SimpleNamespace(gamma=gamma))


def test_simplex_checks_report_the_worst_row_and_the_smallest_weight():
    on = torch.full((4, 5), 0.2)
    off = on.clone()
    off[2, 0] = 0.5  # row 2 sums to 1.3
    off[3, 1] = -0.1
    checks = policy.simplex_checks(("good", _experiment(on)), ("bad", _experiment(off)))
    assert checks["gamma_rows_on_simplex"]["good"] < 1e-6
    assert abs(checks["gamma_rows_on_simplex"]["bad"] - 0.3) < 1e-6
    assert abs(checks["gamma_min"] - (-0.1)) < 1e-6
