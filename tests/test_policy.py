"""Core of the optimal-learning-policy reproduction: simplex projection, adjoint gradient, PGD."""

import itertools
from dataclasses import replace

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from mini_lib.core.errors import ConfigError
from mini_lib.papers.optimal_learning import derivatives
from mini_lib.papers.optimal_learning.optimise import PolicyConfig, optimise_policy, pgd_step
from mini_lib.papers.optimal_learning.perceptron import PerceptronSetup, make_perceptron_task, perceptron_losses
from mini_lib.papers.optimal_learning.simplex import project_to_simplex
from mini_lib.papers.optimal_learning.tiny_lm import TinyLMConfig, make_tiny_lm_problem
from mini_lib.papers.optimal_learning.unrolled import policy_gradient, simulate, uniform_policy

pytestmark = pytest.mark.usefixtures("one_thread")


def _brute_force_projection(v: torch.Tensor) -> torch.Tensor:
    """Exhaustive active-set search: the closest feasible 'support S, equal shift' candidate."""
    n = v.numel()
    best, best_dist = None, float("inf")
    for size in range(1, n + 1):
        for support in itertools.combinations(range(n), size):
            idx = list(support)
            x = torch.zeros_like(v)
            x[idx] = v[idx] - (v[idx].sum() - 1) / size
            if (x >= 0).all() and (x - v).norm() < best_dist:
                best, best_dist = x, float((x - v).norm())
    return best


def _tiny_task(label_noise: float = 0.2):
    setup = PerceptronSetup(dim=6, n_train=10, n_desired=5, label_noise=label_noise, seed=3)
    return make_perceptron_task(setup, dtype=torch.float64)


def _random_policy(steps: int, n: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    gamma = torch.rand(steps, n, generator=gen, dtype=torch.float64)
    return gamma / gamma.sum(dim=1, keepdim=True)


def _autograd_objective(problem, gamma, eta):
    """J through the whole unrolled graph with plain torch.autograd (the reference)."""
    theta = problem.theta0.clone().requires_grad_(True)
    total = 0.0
    for t in range(gamma.shape[0]):
        weighted = (gamma[t] * problem.example_losses(theta, *problem.train)).sum()
        (step,) = torch.autograd.grad(weighted, theta, create_graph=True)
        theta = theta - eta * step
        total = total + problem.example_losses(theta, *problem.desired).mean()
    return total / gamma.shape[0]


def test_projection_rows_are_distributions_and_idempotent():
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(6, 9, generator=gen, dtype=torch.float64) * 3
    x = project_to_simplex(v)
    assert torch.allclose(x.sum(dim=1), torch.ones(6, dtype=torch.float64), atol=1e-12)
    assert (x >= 0).all()
    assert torch.allclose(project_to_simplex(x), x, atol=1e-12)
    assert (x == 0).any(), "large spread should put some entries on the boundary"


def test_projection_matches_exhaustive_active_set_search():
    gen = torch.Generator().manual_seed(1)
    for _ in range(20):
        v = torch.randn(5, generator=gen, dtype=torch.float64) * 2
        assert torch.allclose(project_to_simplex(v), _brute_force_projection(v), atol=1e-12)


def test_projection_rejects_bad_input():
    with pytest.raises(ConfigError):
        project_to_simplex(torch.empty(3, 0))
    with pytest.raises(ConfigError):
        project_to_simplex(torch.tensor([0.5, float("nan")]))


def test_adjoint_gradient_equals_autograd_through_unrolled_run():
    problem = _tiny_task().problem
    gamma, eta = _random_policy(6, problem.n_train), 0.3
    ours = policy_gradient(problem, gamma, eta)
    leaf = gamma.clone().requires_grad_(True)
    reference_j = _autograd_objective(problem, leaf, eta)
    (reference,) = torch.autograd.grad(reference_j, leaf)
    assert ours.objective == pytest.approx(float(reference_j.detach()), rel=1e-12)
    assert torch.allclose(ours.grad, reference, rtol=1e-9, atol=1e-14)
    assert ours.grad.abs().max() > 1e-4


def test_adjoint_gradient_matches_finite_differences():
    problem = _tiny_task().problem
    gamma, eta = _random_policy(5, problem.n_train, seed=1), 0.3
    grad = policy_gradient(problem, gamma, eta).grad
    direction = torch.randn(gamma.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    h = 1e-6
    plus = simulate(problem, eta, gamma + h * direction).objective
    minus = simulate(problem, eta, gamma - h * direction).objective
    assert (plus - minus) / (2 * h) == pytest.approx(float((grad * direction).sum()), rel=1e-6)
    bump = torch.zeros_like(gamma)
    bump[2, 4] = h
    single = (simulate(problem, eta, gamma + bump).objective - simulate(problem, eta, gamma - bump).objective) / (2 * h)
    assert single == pytest.approx(float(grad[2, 4]), rel=1e-5)


@pytest.mark.parametrize("every", [2, 3, 7])
def test_checkpoint_recompute_equals_store_all(every):
    problem = _tiny_task().problem
    gamma = _random_policy(7, problem.n_train, seed=4)
    stored = policy_gradient(problem, gamma, 0.3)
    recomputed = policy_gradient(problem, gamma, 0.3, checkpoint_every=every)
    assert torch.allclose(stored.grad, recomputed.grad, rtol=0, atol=1e-15)
    assert stored.objective == recomputed.objective


def test_checkpoint_every_must_be_positive():
    problem = _tiny_task().problem
    with pytest.raises(ConfigError, match="checkpoint_every"):
        policy_gradient(problem, _random_policy(3, problem.n_train), 0.3, checkpoint_every=0)
    with pytest.raises(ConfigError, match="gamma"):
        policy_gradient(problem, _random_policy(3, problem.n_train + 1), 0.3)


def test_uniform_policy_is_conventional_training():
    problem = _tiny_task().problem
    by_policy = simulate(problem, 0.3, uniform_policy(4, problem.n_train, dtype=torch.float64))
    by_default = simulate(problem, 0.3, steps=4)
    theta = problem.theta0.clone()
    for _ in range(4):
        full_batch = lambda th: perceptron_losses(th, *problem.train).mean()  # noqa: E731
        theta = theta - 0.3 * torch.func.grad(full_batch)(theta)
    assert torch.allclose(by_policy.final_theta, theta, atol=1e-14)
    assert torch.equal(by_policy.desired_losses, by_default.desired_losses)
    moved = simulate(problem.to("cpu"), 0.3, steps=4)
    assert torch.equal(moved.desired_losses, by_default.desired_losses)


def test_one_projected_gradient_step_lowers_the_objective():
    task = make_perceptron_task(PerceptronSetup(dim=16, n_train=64, n_desired=32, seed=5), dtype=torch.float64)
    gamma = uniform_policy(20, 64, dtype=torch.float64)
    before = policy_gradient(task.problem, gamma, 0.1)
    stepped = pgd_step(gamma, before.grad, 0.05)
    assert torch.allclose(stepped.sum(dim=1), torch.ones(20, dtype=torch.float64))
    after = simulate(task.problem, 0.1, stepped).objective
    assert after < before.objective - 1e-6


def test_optimised_policy_down_weights_flipped_labels():
    task = make_perceptron_task(PerceptronSetup(dim=16, n_train=128, n_desired=64, label_noise=0.2, seed=6))
    config = PolicyConfig(steps=40, eta=0.1, outer_epochs=6, outer_lr=2.0)
    result = optimise_policy(task.problem, config)
    weight = result.gamma.mean(dim=0) * task.problem.n_train
    assert weight[task.flipped].mean() < 0.5 * weight[~task.flipped].mean()
    assert result.objective_history[-1] < result.objective_history[0]
    assert len(result.objective_history) == config.outer_epochs + 1
    assert result.conventional_curve.shape == result.optimised_curve.shape == (config.steps + 1,)
    assert torch.allclose(result.gamma.sum(dim=1), torch.ones(config.steps))


def test_policy_config_validates_settings():
    with pytest.raises(ConfigError, match="lr_schedule"):
        PolicyConfig(lr_schedule="cosine")
    with pytest.raises(ConfigError):
        PolicyConfig(eta=0)
    assert PolicyConfig(outer_epochs=4, outer_lr=1.0).outer_lr_at(3) == pytest.approx(0.25)
    assert PolicyConfig(outer_epochs=4, outer_lr=1.0, lr_schedule="constant").outer_lr_at(3) == 1.0


def test_simulate_records_the_held_out_test_loss_only_when_asked():
    task = make_perceptron_task(PerceptronSetup(dim=6, n_train=12, n_desired=5, seed=3), dtype=torch.float64)
    problem = task.problem
    x_test, y_test = problem.test
    assert x_test.shape == (5, 6) and not torch.equal(x_test, problem.desired[0])  # as many as desired, not them
    run = simulate(problem, 0.5, steps=4, with_test=True)
    assert run.test_losses.shape == (5,)
    assert float(run.test_losses[-1]) == pytest.approx(float(perceptron_losses(run.final_theta, x_test, y_test).mean()))
    assert torch.equal(run.desired_losses, simulate(problem, 0.5, steps=4).desired_losses)
    assert simulate(problem, 0.5, steps=4).test_losses is None
    with pytest.raises(ConfigError, match="test set"):
        simulate(replace(problem, test=None), 0.5, steps=4, with_test=True)


def test_perceptron_closed_form_derivatives_equal_torch_func():
    closed = _tiny_task().problem
    assert closed.closed_form is not None, "the perceptron task should carry its closed-form derivatives"
    autodiff = replace(closed, closed_form=None)
    gen = torch.Generator().manual_seed(7)
    theta, v = (torch.randn(closed.theta0.shape, generator=gen, dtype=torch.float64) for _ in range(2))
    weights = _random_policy(1, closed.n_train, seed=8)[0]
    for name, call in {
        "weighted_train_grad": lambda p: derivatives.weighted_train_grad(p, theta, weights),
        "desired_grad": lambda p: derivatives.desired_grad(p, theta),
        "hvp_and_directional": lambda p: torch.cat(derivatives.hvp_and_directional(p, theta, weights, v)),
        "directional_derivatives": lambda p: derivatives.directional_derivatives(p, theta, v),
    }.items():
        assert torch.allclose(call(closed), call(autodiff), rtol=1e-12, atol=1e-15), name
    gamma = _random_policy(6, closed.n_train, seed=9)
    fast, reference = policy_gradient(closed, gamma, 0.3), policy_gradient(autodiff, gamma, 0.3)
    assert torch.allclose(fast.grad, reference.grad, rtol=1e-10, atol=1e-15)
    assert fast.objective == pytest.approx(reference.objective, rel=1e-13)


class _CountHostSyncs(TorchDispatchMode):
    """Counts the operations that copy a tensor's value to the host (.item(), float(), bool())."""

    def __init__(self) -> None:
        super().__init__()
        self.syncs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.syncs += func.overloadpacket is torch.ops.aten._local_scalar_dense
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("setting", ["perceptron", "tiny_lm"])
def test_host_syncs_per_outer_epoch_do_not_grow_with_t(setting):
    """On a GPU a host sync per inner step would stall the kernel queue: an epoch reads J and checks that the
    stepped policy is finite, then one more read of the final J, however many inner steps T there are."""
    if setting == "perceptron":
        problem = make_perceptron_task(PerceptronSetup(dim=8, n_train=16, n_desired=4)).problem
    else:
        config = TinyLMConfig(vocab_size=20, d_model=8, n_heads=2, seq_len=6)
        tokens = torch.randint(0, 20, (12, 7), generator=torch.Generator().manual_seed(0))
        problem = make_tiny_lm_problem(tokens[:8], tokens[8:], config, chunk_size=4)
    syncs, epochs = {}, 2
    for steps in (3, 9):
        with _CountHostSyncs() as counter:
            optimise_policy(problem, PolicyConfig(steps=steps, eta=0.1, outer_epochs=epochs, outer_lr=0.1,
                                                  checkpoint_every=2))
        syncs[steps] = counter.syncs
    assert syncs[3] == syncs[9] == 2 * epochs + 1, syncs
