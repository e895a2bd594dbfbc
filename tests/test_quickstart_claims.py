"""Notebook 00's closing tables: the unigram baseline and the three claims, each able to hold and to fail."""

import math

import numpy as np
import pytest

from mini_lib.core.models import get_preset, model_size, neox_config
from mini_lib.core.tokenization import PackedBlocks
from mini_lib.core.train import TrainConfig
from mini_lib.papers.quickstart.experiment import quickstart_claims, recipe_vs_ours, unigram_loss


def blocks(rows):
    return PackedBlocks(np.asarray(rows, dtype=np.int64), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))


def test_unigram_loss_is_the_cross_entropy_of_smoothed_training_frequencies():
    train = blocks([[0, 0, 0, 1], [0, 0, 1, 1]])  # counts 5, 3, 0 (+1 each): 6/11, 4/11, 1/11
    val = blocks([[2, 0, 1, 2]])  # the first position is never predicted: 0, 1, 2 are scored
    expected = -(math.log(6 / 11) + math.log(4 / 11) + math.log(1 / 11)) / 3
    assert unigram_loss(train, val, vocab_size=3) == pytest.approx(expected)


def test_a_model_that_learned_passes_every_check():
    rows = quickstart_claims(val_loss=3.0, train_loss=2.95, vocab_size=1024, unigram=5.0, epochs=3.0)
    assert [r.verdict for r in rows] == ["holds", "holds", "holds"]
    assert all(r.paper == "" and r.rule for r in rows) and "6.931" in rows[0].paper_value


def test_an_untrained_or_memorising_model_fails_them():
    untrained = quickstart_claims(val_loss=math.log(1024) + 2.0, train_loss=math.log(1024) + 2.0, vocab_size=1024,
                                  unigram=5.0, epochs=3.0)
    assert [r.verdict for r in untrained] == ["reversed", "reversed", "holds"]
    memorising = quickstart_claims(val_loss=4.9, train_loss=3.0, vocab_size=1024, unigram=5.0, epochs=3.0)
    assert [r.verdict for r in memorising] == ["holds", "within noise", "reversed"]  # 0.1 below unigram: < 0.25


def test_memorisation_is_not_judged_before_the_model_saw_its_data_twice():
    for gap, epochs in ((0.007, 0.69), (1.9, 1.99)):  # a small gap or a large one: too few epochs to say
        (*_, generalises) = quickstart_claims(val_loss=3.0 + gap, train_loss=3.0, vocab_size=1024, unigram=5.0, epochs=epochs)
        assert generalises.verdict == "not run" and f"after {epochs:.2f} epochs" in generalises.ours
    (*_, generalises) = quickstart_claims(val_loss=3.0 + 1.9, train_loss=3.0, vocab_size=1024, unigram=5.0, epochs=2.0)
    assert generalises.verdict == "reversed"


def test_recipe_table_reports_our_settings():
    preset = get_preset("pythia-1m")
    config = TrainConfig(steps=10, batch_size=16, lr=2e-3, device="cpu", progress=False)
    table = recipe_vs_ours(preset, model_size(neox_config(preset, 512, 64)), config, 16, 64, 5000).set_index("quantity")
    assert table.loc["tokens per step", "ours"] == "16 x 64 = 1,024"
    assert table.loc["data", "ours"] == "storyworld (5,000 tokens)"
