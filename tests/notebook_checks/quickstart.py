"""What notebook quickstart's smoke run must show in results.json; its writer owns this file."""

import math

from mini_lib.core.claims import VERDICTS
from mini_lib.lab.profiles import notebook_settings


def check(results: dict) -> None:
    vocab = notebook_settings("00", "smoke").vocab_size
    assert results["final_val_loss"] < math.log(vocab) - 1.5  # far below a uniform guess
    assert abs(results["val_minus_train_gap"]) < 0.2
    learns, uses_context, generalises = (row["verdict"] for row in results["claims"])
    assert learns == "holds" and uses_context in VERDICTS  # the first: the threshold above
    assert results["epochs"] < 2 and generalises == "not run"  # smoke sees its data less than twice: nothing to judge
    assert [row["what"] for row in results["from_scratch"]] == ["learning rate of every step",
                                                                "losses of 5 steps by hand vs train()"]
