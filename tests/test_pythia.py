import pandas as pd
import pytest

from mini_lib.core.train import TrainConfig, train
from mini_lib.papers.pythia_training.experiment import PUBLISHED_TOTALS, crash_and_resume, suite_claims, suite_vs_ours
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
    sizes = pd.DataFrame({"preset": ["pythia-14m", "pythia-3m"], "parameters": [1_710_000, 2_510_000],
                          "val_loss": [5.0, 4.0]})
    table = suite_vs_ours(sizes, 3.0, 3.0)
    assert table.loc[0, "ours"] == "identical"
    assert table.loc[2, "ours"] == "yes: pythia-14m (1.71M): 5.000, pythia-3m (2.51M): 4.000"
    assert table.loc[3, "ours"] == "|difference| = 0.0e+00"
    rising = sizes.assign(val_loss=[4.0, 5.0])
    assert suite_vs_ours(rising, 3, 3).loc[2, "ours"].startswith("not at this budget: pythia-14m (1.71M): 4.000")


def test_suite_claims_hold_on_the_published_counts_an_exact_resume_and_falling_loss():
    sizes = pd.DataFrame({"preset": ["pythia-3m", "pythia-1m", "pythia-14m"], "parameters": [2_510_000, 840_000, 1_710_000],
                          "val_loss": [4.0, 5.0, 4.5]})
    counts, resume, size = suite_claims(sizes, 3.0, 3.0)
    assert (counts.verdict, resume.verdict, size.verdict) == ("holds", "holds", "holds")
    assert counts.paper == "2304.01373" and "pythia-70m: 70,426,624" in counts.paper_value
    # ordered by the parameters each model has in the run, not by the number in its name
    assert size.ours == "pythia-1m (0.84M): 5.000, pythia-14m (1.71M): 4.500, pythia-3m (2.51M): 4.000"
    assert "in brackets" in size.note
    assert resume.no_difference and resume.in_short == "Our run cannot tell them apart either, as expected."
    assert not counts.no_difference and not size.no_difference


def test_suite_claims_fail_on_a_wrong_count_a_drifting_resume_and_rising_loss():
    wrong = {**PUBLISHED_TOTALS, "pythia-70m": PUBLISHED_TOTALS["pythia-70m"] + 1}
    rising = pd.DataFrame({"preset": ["a", "b", "c"], "parameters": [1, 2, 3], "val_loss": [5.0, 4.0, 4.5]})
    counts, resume, size = suite_claims(rising, 3.0, 3.001, published=wrong)
    assert counts.verdict == "reversed" and counts.ours == "pythia-70m: ours 70,426,624 vs 70,426,625"
    assert resume.verdict == "reversed" and size.verdict == "reversed"  # c is 0.5 nats above b
    close = pd.DataFrame({"preset": ["a", "b"], "parameters": [1, 2], "val_loss": [4.0, 3.99]})
    assert suite_claims(close, 3.0, 3.0)[2].verdict == "within noise"  # 0.01 < the 0.02 margin


def test_size_cells_train_every_preset_on_the_same_data_at_its_own_rate():
    from types import SimpleNamespace

    from mini_lib.core.models import get_preset
    from mini_lib.papers.pythia_training.experiment import size_cells
    from mini_lib.papers.pythia_training.settings import (
        PROFILES as PYTHIA_TRAINING_PROFILES,
    )

    tokenizer, blocks = tiny_setup()
    settings = PYTHIA_TRAINING_PROFILES["smoke"]
    data = SimpleNamespace(train=blocks, val=blocks)
    cells = size_cells(settings, data, len(tokenizer))
    assert [c.name for c in cells] == list(settings.presets)
    for cell in cells:
        preset = get_preset(cell.name)
        assert cell.config.lr == preset.lr and cell.config.steps == settings.steps
        assert cell.train_data is blocks and cell.val_data is blocks
        model = cell.make_model()
        assert (model.config.num_hidden_layers, model.config.hidden_size) == (preset.n_layers, preset.d_model)


def test_lesson_profiles_keep_one_checkpoint_per_model_and_the_loop_gets_it():
    from mini_lib.papers.pythia_training.settings import (
        PROFILES as PYTHIA_TRAINING_PROFILES,
    )

    for profile in ("smoke", "cpu"):
        settings = PYTHIA_TRAINING_PROFILES[profile]
        assert TrainConfig.from_settings(settings).keep_checkpoints == 1
    assert TrainConfig.from_settings(PYTHIA_TRAINING_PROFILES["gpu"]).keep_checkpoints == 2
