"""What notebook simplified_vocab's smoke run must show in results.json; its writer owns this file."""

import math

from mini_lib.core.claims import IN_SHORT_NO_DIFFERENCE, VERDICTS
from mini_lib.lab.profiles import notebook_settings


def check(results: dict) -> None:
    s = notebook_settings("02", "smoke")
    assert results["budget_tokens"]["simple"] == results["budget_tokens"]["unrestricted"] == s.train_tokens
    assert len(results["grid"]) == 2 * len(s.hidden_sizes) * len(s.layer_counts)
    assert all(row["val_loss"] < math.log(s.vocab_size) - 0.5 for row in results["grid"])
    assert all(0 <= row["acc"] <= 1 for row in results["zero_shot"]) and 0 < results["simplified_task_fraction"] <= 1
    assert {row["law"] for row in results["power_laws"]} == {"L(N)", "L(D)", "L(C)"}
    assert len(results["claims"]) == 7 and all(row["verdict"] in VERDICTS and row["rule"] for row in results["claims"])
    # the lesson's span filter, written out, agrees with span_filter.filter_spans (rule mode)
    assert [row["what"].split(":")[0] for row in results["from_scratch"]] == ["span filter (rule mode)"]
    # which word list was used, by its file name: never a folder of the machine that ran it
    assert results["vocabulary"].startswith(("AO-CHILDES", "the built-in")) and "/" not in results["vocabulary"]
    comparable = [row for row in results["claims"] if "comparable" in row["claim"]]  # a claim of no real difference
    assert len(comparable) == 2 and all(row["in_short"] == IN_SHORT_NO_DIFFERENCE[row["verdict"]] for row in comparable)
