"""What notebook quality_quantity's smoke run must show in results.json; its writer owns this file."""

import math

import pytest

from mini_lib.core.claims import VERDICTS
from mini_lib.lab.profiles import notebook_settings


def check(results: dict) -> None:
    vocab = notebook_settings("03", "smoke").vocab_size
    assert results["duplication_as_planned"]
    assert len(results["paper_grid"]) >= 15  # every cell of the paper's table
    assert len({row["setting"] for row in results["paper_vs_ours"]}) >= 15  # and its rows in the one schema
    cells = {(c["size"], c["rate"]): c for c in results["cells"]}
    clean, collapsed = cells[1.0, 0.0], cells[1.0, 1.0]
    assert clean["val_loss"] < math.log(vocab) - 1.0
    assert collapsed["val_loss"] > clean["val_loss"] + 0.3 and collapsed["val_accuracy"] < clean["val_accuracy"]
    assert clean["val_correct_per_128"] == pytest.approx(1.28 * clean["val_accuracy_pct"])
    assert len(results["claims"]) == 4 and {row["verdict"] for row in results["claims"]} <= set(VERDICTS)
    # the construction by hand agrees with make_variants slot by slot and in its counts
    assert [row["what"] for row in results["from_scratch"]] == [
        "story in every slot of every variant", "slots, overwritten slots, distinct stories per variant"]
    assert all(row["tolerance"] == 0 and row["max_abs_difference"] == 0 for row in results["from_scratch"])
    # section 5's table: the 100% model learns its one story (training loss far below the clean model's) while
    # its validation loss is the worse; the climb is measured from the lowest evaluation, so never negative
    learned = {(row["size"], row["rate"]): row for row in results["train_vs_validation"]}
    assert learned[1.0, 1.0]["final_train_loss"] < learned[1.0, 0.0]["final_train_loss"] - 1.0
    assert learned[1.0, 1.0]["val_loss_final"] == pytest.approx(collapsed["val_loss"])
    assert all(row["climb_after_lowest"] >= 0 for row in results["train_vs_validation"])
