"""CompactNeoX computes what transformers' GPTNeoXForCausalLM computes, on the model's own tensors,
and the training loop uses it without changing checkpoints, saved models or the determinism switch."""

from unittest import mock

import pytest
import torch

from mini_lib.core import neox
from mini_lib.core.evaluate import IGNORE_INDEX, per_example_loss
from mini_lib.core.models import build_model, neox_config
from mini_lib.core.train import TrainConfig, train
from tests.helpers import tiny_model, tiny_setup

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one thread is faster
VOCAB, SEQ = 97, 24

# (preset, partial_rotary_factor, use_parallel_residual, tied embeddings): Pythia's 25%, half, full,
# an odd rotary width (0.3 * 24 = 7 dims), the sequential residual, tied input/output embeddings.
SHAPES = [
    ("pythia-1m", 0.25, True, False),
    ("pythia-3m", 0.5, False, False),
    ("pythia-14m", 1.0, True, False),
    ("pythia-1m", 0.3, True, False),
    ("pythia-1m", 0.25, True, True),
]


def _model(preset="pythia-1m", factor=0.25, parallel=True, tied=False, seed=0):
    config = neox_config(preset, VOCAB, SEQ, tie_embeddings=tied)
    config.rope_parameters["partial_rotary_factor"] = factor
    config.use_parallel_residual = parallel
    return build_model(config, seed=seed)


def _batch(seed=0, batch=3):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (batch, SEQ), generator=generator)
    labels = ids.clone()
    labels[0, :5] = IGNORE_INDEX  # a prompt without labels
    return ids, labels


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_logits_and_gradients_match_transformers(shape):
    model = _model(*shape)
    compact = neox.CompactNeoX(model)
    ids, labels = _batch()
    reference = per_example_loss(model(input_ids=ids).logits, labels)
    expected_grads = torch.autograd.grad(reference.sum(), list(model.parameters()))
    losses = compact(ids, labels)
    grads = torch.autograd.grad(losses.sum(), list(model.parameters()))
    torch.testing.assert_close(compact.logits(ids), model(input_ids=ids).logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(losses, reference, atol=1e-5, rtol=0)
    for grad, expected in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected, atol=1e-5, rtol=1e-4)


def test_compiled_form_of_the_rotary_equals_the_eager_form():
    """Under torch.compile the rotation is a gather instead of a matmul: same numbers."""
    compact = neox.CompactNeoX(_model(factor=0.3))
    ids, labels = _batch()
    eager = compact(ids, labels)
    with mock.patch.object(torch.compiler, "is_compiling", return_value=True):
        gathered = compact(ids, labels)
    torch.testing.assert_close(gathered, eager, atol=1e-6, rtol=0)


def test_right_padding_with_attention_mask_matches_transformers():
    model = _model()
    ids, labels = _batch()
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0  # row 1 is right-padded, as ExampleSet.collate pads
    labels[1, 15:] = IGNORE_INDEX
    expected = per_example_loss(model(input_ids=ids, attention_mask=mask).logits, labels)
    torch.testing.assert_close(neox.CompactNeoX(model)(ids, labels, mask), expected, atol=1e-5, rtol=0)


def test_shares_the_models_tensors_and_state_dict_keys():
    model = _model()
    compact = neox.CompactNeoX(model)
    assert list(compact.state_dict()) == list(model.state_dict())
    ours = {id(p) for p in compact.parameters()}
    assert ours == {id(p) for p in model.parameters()}


def test_falls_back_where_it_would_not_be_exact():
    dropout = neox_config("pythia-1m", VOCAB, SEQ)
    dropout.hidden_dropout = 0.1
    assert neox.supports(_model())
    assert not neox.supports(build_model(dropout))
    assert not neox.supports(torch.nn.Linear(2, 2))


def test_trained_model_saves_and_loads_as_an_ordinary_transformers_model(tmp_path):
    tokenizer, blocks = tiny_setup()
    model = tiny_model(len(tokenizer))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(steps=3, batch_size=4, lr=3e-3, precision="fp32", device="cpu", progress=False)
    result = train(model, blocks, config, tmp_path / "run", resume=False)
    assert result.model is model
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())  # trained in place
    model.save_pretrained(tmp_path / "saved")
    loaded = type(model).from_pretrained(tmp_path / "saved")
    ids = blocks.collate([0, 1])["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids=ids).logits, model(input_ids=ids).logits, atol=0, rtol=0)


def test_bf16_training_leaves_the_model_with_the_autocast_forward_of_a_prepared_model(tmp_path):
    """As before the compact forward: evaluation and callbacks run the model in the training precision."""
    tokenizer, blocks = tiny_setup()
    config = TrainConfig(steps=2, batch_size=4, lr=3e-3, precision="bf16", device="cpu", progress=False)
    model = train(tiny_model(len(tokenizer)), blocks, config, tmp_path / "run", resume=False).model
    ids = blocks.collate([0])["input_ids"]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = model._original_forward(input_ids=ids).logits.float()
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    assert logits.dtype == torch.float32
    torch.testing.assert_close(logits, expected, atol=0, rtol=0)


@pytest.mark.parametrize("caller_setting", [False, True])
def test_deterministic_algorithms_on_during_cpu_training_and_restored_after(tmp_path, caller_setting):
    tokenizer, blocks = tiny_setup()
    seen = []
    config = TrainConfig(steps=1, batch_size=4, lr=3e-3, precision="fp32", device="cpu", progress=False)
    before = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(caller_setting)
    try:
        train(tiny_model(len(tokenizer)), blocks, config, tmp_path / "run", resume=False,
              callbacks=[lambda info: seen.append(torch.are_deterministic_algorithms_enabled())])
        assert seen == [True]
        assert torch.are_deterministic_algorithms_enabled() is caller_setting
        assert torch.is_deterministic_algorithms_warn_only_enabled() is False
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


def test_loop_losses_equal_the_generic_path_for_other_models(tmp_path):
    """Any other model keeps the generic step (its logits, per_example_loss); on GPT-NeoX both agree."""
    tokenizer, blocks = tiny_setup()
    config = TrainConfig(steps=3, batch_size=4, lr=3e-3, precision="fp32", device="cpu", progress=False)
    with mock.patch.object(neox, "CompactNeoX", wraps=neox.CompactNeoX) as built:
        compact = train(tiny_model(len(tokenizer)), blocks, config, tmp_path / "compact", resume=False)
        assert built.call_count == 1
        with mock.patch.object(neox, "supports", return_value=False):
            generic = train(tiny_model(len(tokenizer)), blocks, config, tmp_path / "generic", resume=False)
        assert built.call_count == 1
    assert compact.records["loss"].tolist() == pytest.approx(generic.records["loss"].tolist(), abs=1e-5)
