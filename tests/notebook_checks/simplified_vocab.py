"""What notebook simplified_vocab's smoke run must show in results.json; its writer owns this file."""

import math

from mini_lib.core.claims import VERDICTS
from mini_lib.lab.profiles import notebook_settings


def check(results: dict) -> None:
    s = notebook_settings("02", "smoke")
    assert results["budget_tokens"]["simple"] == results["budget_tokens"]["unrestricted"] == s.train_tokens
    assert len(results["grid"]) == 2 * len(s.hidden_sizes) * len(s.layer_counts)
    assert all(row["val_loss"] < math.log(s.vocab_size) - 0.5 for row in results["grid"])
    assert all(0 <= row["acc"] <= 1 for row in results["zero_shot"]) and 0 < results["simplified_task_fraction"] <= 1
    assert {row["law"] for row in results["power_laws"]} == {"L(N)", "L(D)", "L(C)"}
    assert len(results["claims"]) == 7 and all(row["verdict"] in VERDICTS and row["rule"] for row in results["claims"])
