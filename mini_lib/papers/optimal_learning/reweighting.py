"""The learned policy as a data-reweighting recipe for the package's one training loop.

The policy of arXiv 2402.17759 is learned for one model, one optimiser (full-batch GD) and one run.
Its lesson is simpler: some examples deserve more weight than others, and harmful ones none. Here
the lesson is tested where practitioners would use it: the same training rows (clean + perturbed)
are retrained with ``mini_lib.core.train.train`` (a GPT-NeoX model, AdamW, shuffled minibatches) under
per-example weights, and the desired loss is compared:

* ``uniform``: every row weight 1 (conventional training);
* ``learned policy``: the time-averaged weight N * mean_t gamma_{n,t} of the optimised policy (a
  static summary of a time-varying policy, learned for a different model and optimiser);
* ``drop perturbed (oracle)``: weight 1 on clean rows, 0 on perturbed ones (needs the ground truth).

Inside a minibatch the weights are normalised to sum 1 (``batch_weights``), so every optimiser step
has the same total weight and only the mix changes. All cells share the seed: same initial weights,
same batch order, so the curves differ only by the weights.
"""

import os
from collections.abc import Callable

import numpy as np
from torch import Tensor

from mini_lib.core.errors import ConfigError
from mini_lib.core.grid import GridCell, GridResult, run_grid
from mini_lib.core.models import ModelShape, build_model, neox_config
from mini_lib.core.tokenization import PackedBlocks
from mini_lib.core.train import TrainConfig
from mini_lib.papers.optimal_learning.data import PolicyLMData
from mini_lib.papers.optimal_learning.settings import OptimalLearningSettings

SCHEMES = ("uniform", "learned policy", "drop perturbed (oracle)")


def rows_as_blocks(tokens: Tensor) -> PackedBlocks:
    """Token rows (n, L) as packed blocks in which every row is its own document (id = row index)."""
    if tokens.dim() != 2 or tokens.shape[0] == 0:
        raise ConfigError(f"tokens must be a non-empty (n, L) tensor of rows, got shape {tuple(tokens.shape)}")
    n, length = tokens.shape
    return PackedBlocks(tokens=tokens.cpu().numpy(), doc_ids=np.arange(n, dtype=np.int64),
                        doc_starts=np.arange(n, dtype=np.int64) * length)


def policy_weights(gamma: Tensor) -> np.ndarray:
    """Time-averaged weight of each example, N * mean_t gamma_{n,t} (1 = the uniform weight)."""
    if gamma.dim() != 2:
        raise ConfigError(f"gamma must be a (T, N) policy, got shape {tuple(gamma.shape)}")
    return (gamma.detach().double().mean(dim=0) * gamma.shape[1]).cpu().numpy()


def batch_weights(weights: np.ndarray) -> Callable[[int, np.ndarray], np.ndarray]:
    """``example_weights`` for ``train``: the rows' weights normalised to sum 1 in each batch.

    A batch whose rows all have weight 0 falls back to uniform (a step must move somewhere).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or (weights < 0).any() or not np.isfinite(weights).all():
        raise ConfigError("weights must be a 1-D array of finite, non-negative numbers (one per training row)")

    def weigh(step: int, indices: np.ndarray) -> np.ndarray:
        chosen = weights[indices]
        total = chosen.sum()
        return chosen / total if total > 0 else np.full(len(indices), 1.0 / len(indices))

    return weigh


def reweighting_schemes(data: PolicyLMData, gamma: Tensor) -> dict[str, np.ndarray]:
    """The three weightings of the module docstring, one weight per training row."""
    n = data.train.shape[0]
    if gamma.shape[1] != n:
        raise ConfigError(f"gamma has {gamma.shape[1]} columns but the data has {n} training rows")
    return {"uniform": np.ones(n), "learned policy": policy_weights(gamma),
            "drop perturbed (oracle)": (~data.perturbed).cpu().numpy().astype(np.float64)}


def retrain_with_weights(data: PolicyLMData, schemes: dict[str, np.ndarray], settings: OptimalLearningSettings,
                         run_dir: "str | os.PathLike") -> GridResult:
    """Train one GPT-NeoX per scheme on ``data.train`` and evaluate on ``data.desired`` as it trains.

    The model has the tiny LM's shape (``lm_d_model``, ``lm_n_layers``, ``lm_n_heads``); the loop
    uses ``retrain_steps``, ``retrain_batch_size``, ``retrain_lr`` and ``retrain_eval_every``.
    """
    shape = ModelShape(n_layers=settings.lm_n_layers, d_model=settings.lm_d_model, n_heads=settings.lm_n_heads)
    config = neox_config(shape, vocab_size=data.vocab_size, max_seq_len=data.seq_len + 1)
    train_config = TrainConfig(
        steps=settings.retrain_steps, batch_size=settings.retrain_batch_size, lr=settings.retrain_lr,
        eval_every=settings.retrain_eval_every, eval_examples=data.desired.shape[0], device=settings.device,
        precision="fp32", log_every=max(1, settings.retrain_steps // 5), seed=settings.seed, progress=False,
    )
    train_rows, desired_rows = rows_as_blocks(data.train), rows_as_blocks(data.desired)
    cells = [
        GridCell(name=f"{index}_{name.split(' ')[0]}", tags={"scheme": name},
                 make_model=lambda: build_model(config, seed=settings.seed), train_data=train_rows,
                 config=train_config, val_data=desired_rows, train_kwargs={"example_weights": batch_weights(w)})
        for index, (name, w) in enumerate(schemes.items())
    ]
    return run_grid(cells, run_dir)
