import numpy as np
import pytest
import torch

from mini_lib.core.errors import ConfigError
from mini_lib.core.evaluate import eval_mode, per_example_loss
from mini_lib.core.examples import ExampleSet
from mini_lib.core.train import TrainConfig, train
from tests.helpers import tiny_model, tiny_setup


def test_labels_cover_target_tokens_only_and_padding_is_masked():
    tokenizer, _ = tiny_setup()
    examples = ExampleSet.from_pairs(tokenizer, ["the cat saw the dog", "tom"], ["happy", "sad"], ids=[7, 9])
    batch = examples.collate([0, 1])
    for row in range(2):
        labelled = batch["labels"][row] != -100
        n_target = len(examples.target_ids[row])
        assert int(labelled.sum()) == n_target
        assert batch["labels"][row][labelled].tolist() == examples.target_ids[row]  # target + EOS
        assert int(batch["attention_mask"][row].sum()) == len(examples.prompt_ids[row]) + n_target
    assert examples.example_ids(1) == [9]


def test_padding_does_not_change_an_examples_loss():
    tokenizer, _ = tiny_setup()
    model = tiny_model(len(tokenizer)).eval()
    examples = ExampleSet.from_pairs(tokenizer, ["the cat saw the big red dog in the park", "tom"], ["happy", "sad"])

    def loss(indices, row):
        batch = examples.collate(indices)
        labels = batch.pop("labels")
        with torch.no_grad():
            return float(per_example_loss(model(**batch).logits, labels)[row])

    assert loss([1], 0) == pytest.approx(loss([0, 1], 1), abs=1e-5)


def test_trains_through_the_one_loop(tmp_path):
    tokenizer, _ = tiny_setup()
    examples = ExampleSet.from_pairs(tokenizer, ["the cat"] * 8 + ["a dog"] * 8, ["happy"] * 8 + ["sad"] * 8)
    config = TrainConfig(steps=60, batch_size=4, lr=1e-2, device="cpu", precision="fp32", progress=False)
    result = train(tiny_model(len(tokenizer)), examples, config, tmp_path, resume=False)
    assert result.records["loss"].tail(5).mean() < 0.3 * result.records["loss"].head(5).mean()  # learns prompt -> label
    assert all(len(ids) == 1 for ids in result.records["doc_ids"].iloc[0])


def test_bad_inputs():
    tokenizer, _ = tiny_setup()
    with pytest.raises(ConfigError, match="2 prompts but 1 targets"):
        ExampleSet.from_pairs(tokenizer, ["a", "b"], ["c"])
    with pytest.raises(ConfigError, match="max_len"):
        ExampleSet.from_pairs(tokenizer, ["a"], ["the cat saw the dog " * 10], max_len=8)
    truncated = ExampleSet.from_pairs(tokenizer, ["the cat saw the dog " * 10], ["happy"], max_len=12)
    assert len(truncated.prompt_ids[0]) + len(truncated.target_ids[0]) == 12


def test_token_losses_equal_a_direct_computation():
    from mini_lib.core.evaluate import token_losses

    logits = torch.randn(2, 5, 7)
    labels = torch.tensor([[1, 2, 3, 4, 5], [-100, -100, 3, 6, -100]])
    losses, mask = token_losses(logits, labels)
    expected = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 7), labels[:, 1:].reshape(-1),
                                                 ignore_index=-100, reduction="none").view(2, 4)
    assert mask.tolist() == [[True] * 4, [False, True, True, False]]
    torch.testing.assert_close(losses, expected)


def test_eval_mode_restores_the_mode_the_model_was_in_even_on_an_error():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    with eval_mode(model):
        assert not model.training and not model[1].training
    assert model.training and model[1].training
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("failed mid-evaluation")
    assert model.training
    model.eval()
    with eval_mode(model):
        pass
    assert not model.training  # an eval-mode model is not switched to training
