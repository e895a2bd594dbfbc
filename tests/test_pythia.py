import pandas as pd
import pytest

from mini_lib.tutorial.suite import crash_and_resume, suite_vs_ours
from mini_lib.train import TrainConfig, train
from tests.helpers import tiny_model, tiny_setup


def test_crash_and_resume_ends_exactly_like_an_uninterrupted_run(tmp_path):
    tokenizer, blocks = tiny_setup()
    config = TrainConfig(steps=6, batch_size=4, checkpoint_every=2, device="cpu", precision="fp32", progress=False,
                         eval_examples=8)
    make = lambda: tiny_model(len(tokenizer))
    straight = train(make(), blocks, config, tmp_path / "a", val_data=blocks, resume=False)
    resumed = crash_and_resume(make, blocks, config, tmp_path / "b", crash_at=3, val_data=blocks)
    assert resumed.resumed_from == 2
    assert resumed.final_eval["loss"] == straight.final_eval["loss"]
    with pytest.raises(ValueError):
        crash_and_resume(make, blocks, config, tmp_path / "c", crash_at=1)


def test_suite_vs_ours_checks_counts_and_ordering():
    table = suite_vs_ours(pd.DataFrame({"parameters": [1, 2], "val_loss": [5.0, 4.0]}), 3.0, 3.0)
    assert table.loc[0, "ours"] == "identical"
    assert table.loc[2, "ours"].startswith("yes")
    assert table.loc[3, "ours"] == "|difference| = 0.0e+00"
    assert suite_vs_ours(pd.DataFrame({"parameters": [1, 2], "val_loss": [4.0, 5.0]}), 3, 3).loc[2, "ours"].startswith("not")
