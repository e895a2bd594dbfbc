"""One place that seeds every random source (the fastai habit): Python, NumPy and torch."""

import functools
import os
import random
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import torch

from mini_lib.core.hardware import resolve_device


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed all generators; with ``deterministic`` ask torch for reproducible CPU kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


@contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    """torch's deterministic-algorithms switch set to ``enabled`` inside the block, then back to what
    it was: reproducible CPU runs ask for it, GPU runs must not pay for it (about 9% of a step)."""
    before = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


def deterministic_on_cpu(train_function: Callable) -> Callable:
    """Deterministic algorithms on for CPU runs (reproducible) and off on a GPU (they cost ~9% of a
    step there), whatever the caller had set (``notebook.start`` turns them on); restored on return."""

    @functools.wraps(train_function)
    def wrapper(model, data, config, *args, **kwargs):
        with deterministic_algorithms(resolve_device(config.device) != "cuda"):
            return train_function(model, data, config, *args, **kwargs)

    return wrapper
