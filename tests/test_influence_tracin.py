"""TracIn-CP / Grad-Dot arithmetic, the output-layer gradient identity, and a first-order check on a real update."""

import numpy as np
import pytest
import torch
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

from mini_lib.core.errors import ConfigError
from mini_lib.papers.gptfluence.detection import detection_curve
from mini_lib.papers.gptfluence.gptdynamics import Run
from mini_lib.papers.gptfluence.tracin import (
    CheckpointGradients,
    GradientProjection,
    LinearRescale,
    output_layer_grads,
    predicted_trajectories,
    step_influences,
    tracin_self_influence,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny_model(vocab: int = 30, seed: int = 0) -> GPTNeoXForCausalLM:
    torch.manual_seed(seed)  # HF initialises from the global generator
    config = GPTNeoXConfig(vocab_size=vocab, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    return GPTNeoXForCausalLM(config).eval()


def _hand_grads() -> CheckpointGradients:
    return CheckpointGradients(
        steps=[0, 2],
        train=np.array([[[1.0], [2.0]], [[3.0], [4.0]]]),  # ids 10, 11 at checkpoints 0 and 2
        test=np.array([[[1.0]], [[-1.0]]]),  # id 99
        train_ids=[10, 11],
        test_ids=[99],
    )


def test_step_influences_by_hand():
    grads = _hand_grads()
    run = Run("r", [[10], [11], [10, 11]], {"loss": np.array([[5.0, 4.0, 3.0, 2.0]])}, [99], first_step=0, learning_rates=[0.1, 0.2, 0.3])
    # step 1 and 2 use checkpoint 0 (steps 0, 1 <= 2 not reached), step 3 uses checkpoint 2
    np.testing.assert_allclose(step_influences(grads, run), [[-0.1, -0.4, 2.1]])
    np.testing.assert_allclose(step_influences(grads, run, method="grad-dot"), [[-1.0, -2.0, -3.0]])
    np.testing.assert_allclose(predicted_trajectories(grads, run), [[5.0, 4.9, 4.5, 6.6]])
    release = Run("r", run.batches, {"loss": np.array([[4.0, 3.0, 2.0]])}, [99], first_step=1, learning_rates=run.learning_rates)
    np.testing.assert_allclose(predicted_trajectories(grads, release), [[4.0, 3.6, 5.7]])  # steps 2 and 3 only
    np.testing.assert_allclose(tracin_self_influence(grads, [0.1, 0.2]), [0.1 * 1 + 0.2 * 9, 0.1 * 4 + 0.2 * 16])
    with pytest.raises(ConfigError, match="learning rates"):
        step_influences(grads, Run("r", run.batches, run.trajectories, [99], first_step=0))
    with pytest.raises(ConfigError, match="method"):
        step_influences(grads, run, method="tracin")


def test_linear_rescale_recovers_scale_and_shift():
    rng = np.random.default_rng(0)
    raw = [np.cumsum(rng.normal(size=(4, 10)), axis=1) for _ in range(3)]
    true = [np.concatenate([r[:, :1], r[:, :1] + 2.0 * (r[:, 1:] - r[:, :1]) + 0.5], axis=1) for r in raw]
    rescale = LinearRescale.fit(raw, true)
    assert rescale.scale == pytest.approx(2.0) and rescale.shift == pytest.approx(0.5)
    np.testing.assert_allclose(rescale.apply(raw[1]), true[1])


def test_output_layer_gradient_identity_matches_autograd():
    model = _tiny_model()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 30, (3, 10), generator=g)
    mask = torch.zeros(3, 10, dtype=torch.bool)
    mask[:, 4:] = True
    mask[1, 7:] = False  # example 1 is right-padded after position 6, as ExampleSet.collate pads
    attention = torch.ones(3, 10, dtype=torch.long)
    attention[1, 7:] = 0
    labels = ids.masked_fill(~mask, -100)  # an HF labels tensor; labels_mask = labels != -100
    fast = output_layer_grads(model, ids, labels != -100, attention_mask=attention, chunk_size=2)
    weight = model.get_output_embeddings().weight
    assert fast.shape == (3, weight.numel())
    for n in range(3):
        model.zero_grad()
        model(input_ids=ids[n : n + 1], attention_mask=attention[n : n + 1], labels=labels[n : n + 1]).loss.backward()
        torch.testing.assert_close(fast[n], weight.grad.flatten(), rtol=1e-4, atol=1e-6)
    projection = GradientProjection.create(30, 16, 8, 4, seed=0)
    projected = output_layer_grads(model, ids, mask, projection=projection)
    assert projected.shape == (3, 32)
    torch.testing.assert_close(projected, projection.project_matrix(fast.view(3, 30, 16)), rtol=1e-4, atol=1e-6)
    with pytest.raises(ConfigError, match="target"):
        output_layer_grads(model, ids, torch.zeros_like(mask))


def test_projection_preserves_inner_products_on_average():
    rng = np.random.default_rng(0)
    a, b = (torch.tensor(rng.normal(size=(30, 16)), dtype=torch.float32) for _ in range(2))
    true = float((a * b).sum())
    estimates = [float(p.project_matrix(a) @ p.project_matrix(b)) for p in (GradientProjection.create(30, 16, 16, 8, seed=s) for s in range(200))]
    assert np.mean(estimates) == pytest.approx(true, abs=0.1 * float(a.norm() * b.norm()) / np.sqrt(200) * 10)


def _per_example_loss(model, ids, mask) -> torch.Tensor:
    logits = model(input_ids=ids).logits[:, :-1]
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
    m = mask[:, 1:].float()
    return (nll * m).sum(1) / m.sum(1)


def test_tracin_all_steps_predicts_sgd_on_the_output_layer():
    """Train only the output layer with SGD: TracIn-CP at every step is then exact to first order,
    Delta_t = b * (true change) for a batch-mean loss of b examples."""
    model = _tiny_model(seed=2)
    for p in model.parameters():
        p.requires_grad_(False)
    head = model.get_output_embeddings().weight
    head.requires_grad_(True)
    g = torch.Generator().manual_seed(3)
    train, test = torch.randint(0, 30, (8, 8), generator=g), torch.randint(0, 30, (3, 8), generator=g)
    train_mask, test_mask = torch.ones_like(train, dtype=torch.bool), torch.ones_like(test, dtype=torch.bool)
    train_mask[:, :3] = False
    test_mask[:, :3] = False
    rng = np.random.default_rng(0)
    batches = [rng.choice(8, size=2, replace=False).tolist() for _ in range(12)]
    lr, losses, g_train, g_test = 0.1, [], [], []
    optimiser = torch.optim.SGD([head], lr=lr)
    for batch in batches:
        with torch.no_grad():
            losses.append(_per_example_loss(model, test, test_mask).numpy())
        g_train.append(output_layer_grads(model, train, train_mask).numpy())
        g_test.append(output_layer_grads(model, test, test_mask).numpy())
        optimiser.zero_grad()
        _per_example_loss(model, train[batch], train_mask[batch]).mean().backward()
        optimiser.step()
    with torch.no_grad():
        losses.append(_per_example_loss(model, test, test_mask).numpy())
    run = Run("sgd", batches, {"loss": np.stack(losses, axis=1)}, [100, 101, 102], first_step=0, learning_rates=[lr] * 12)
    grads = CheckpointGradients(list(range(12)), np.stack(g_train), np.stack(g_test), list(range(8)), [100, 101, 102])
    predicted = step_influences(grads, run) / 2
    actual = np.diff(run.trajectories["loss"], axis=1)
    assert np.corrcoef(predicted.ravel(), actual.ravel())[0, 1] > 0.99
    np.testing.assert_allclose(predicted, actual, atol=0.05 * np.abs(actual).max())
    rescale = LinearRescale.fit([predicted_trajectories(grads, run)], [run.trajectories["loss"]])
    assert rescale.scale == pytest.approx(0.5, rel=0.1)  # the 1/b of the batch mean


def test_tracin_self_influence_flags_examples_with_large_gradients():
    rng = np.random.default_rng(0)
    flipped = rng.random(100) < 0.4
    train = rng.normal(size=(3, 100, 20)) * np.where(flipped, 2.0, 1.0)[None, :, None]  # hard examples: big gradients
    grads = CheckpointGradients([0, 10, 20], train, rng.normal(size=(3, 2, 20)), list(range(100)), [500, 501])
    curve = detection_curve(tracin_self_influence(grads, [1e-3, 1e-3, 5e-4]), flipped)
    assert curve.found_at(0.4) > 0.9
