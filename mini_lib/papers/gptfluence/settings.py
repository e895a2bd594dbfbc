"""Notebook 04's settings: a typed dataclass whose defaults are the gpu profile, and the cpu and smoke
profiles as the few values they change (``mini_lib.lab.profiles`` indexes them). Light: no torch."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class GPTfluenceSettings:
    """04_gptfluence (arXiv 2404.07840): collect fine-tuning dynamics, simulate them, score the simulators.

    Defaults (gpu) follow the paper's fine-tuning runs (pool 200, 128 sampled, batch 4, 3 epochs = 96 steps,
    32 runs split 25 / 2 / 5, every metric after every step) on a Pythia-70M-shaped model pre-trained
    on storyworld (or ``base_model``: a local checkpoint, e.g. a downloaded Pythia), all four embedded
    tasks, official 384-wide GPTfluence MLPs and the order ablation. cpu and smoke shrink the model,
    the pool, the runs and the simulator, never the procedure.
    """

    base_model: str = ""  # "" = pre-train on storyworld; else a local GPT-NeoX checkpoint folder
    pretrain_documents: int = 200_000
    vocab_size: int = 8192
    seq_len: int = 256
    n_layers: int = 6
    d_model: int = 512
    n_heads: int = 8
    pretrain_steps: int = 4000
    pretrain_batch_size: int = 64
    pretrain_lr: float = 1e-3
    # compared tasks: sst2, rte, boolq, webnlg (+ wmt16 with task_source="hub")
    tasks: tuple[str, ...] = ("rte", "sst2", "boolq", "webnlg")
    n_pool: int = 200  # training examples per task (the paper: 200)
    n_test: int = 100  # test examples of a classification task
    n_test_generation: int = 100  # test examples of a generation task (greedy decoding after every step)
    n_runs: int = 32
    n_fit: int = 25  # runs the simulators are fitted on (the paper: 25)
    n_val: int = 2  # early stopping (2)
    n_heldout: int = 5  # scored (5)
    n_sampled: int = 128  # examples per run (128)
    batch_size: int = 4  # (4)
    epochs: int = 3  # (3)
    lr: float = 1e-4  # fine-tuning learning rate (cosine to 10%)
    max_len: int = 256
    eval_batch_size: int = 100
    max_new_tokens: int = 48
    tracin_every: int = 10  # checkpoint gradients for TracIn-CP every k steps (0: no TracIn-CP / Grad-Dot)
    grad_k: int = 32  # gradients projected to grad_k x grad_k numbers
    unseen_task: str = "rte"  # "" = skip the unseen-data study
    unseen_holdout: int = 40  # pool examples kept out of that task's regular runs
    unseen_runs: int = 5  # extra runs from the full pool
    mislabel_runs: int = 32  # runs on the flipped SST-2-like task (0 = skip the application)
    sim_width: int = 0  # GPTfluence projection width (0 = the feature size, 384: official)
    orders: tuple[int, ...] = (1, 2, 3, 5, 10)  # GPTfluence orders compared on the first task
    fit_max_steps: int = 3000
    fit_batch_size: int = 1024
    fit_eval_every: int = 100
    fit_patience: int = 5
    flip_fraction: float = 0.4
    mislabel_splits: int = 3  # run splits the detection areas are compared over (the verdict's noise unit)
    retrain_test: int = 400  # fresh held-out items scoring the retrained models (0: the task's own test set)
    sim_layers: int = 2
    task_source: str = "storyworld"  # storyworld | hub (network)
    tier: str = "simple"
    precision: str = "fp32"  # fine-tuning runs
    seed: int = 0


_CPU = replace(
    GPTfluenceSettings(), pretrain_documents=8000, vocab_size=1024, seq_len=128, n_layers=2, d_model=64, n_heads=4,
    pretrain_steps=600, pretrain_batch_size=16, pretrain_lr=3e-3, tasks=("sst2", "webnlg"), n_pool=100, n_test=24,
    n_test_generation=16, n_sampled=64, lr=1e-3, max_len=128,
    eval_batch_size=32, max_new_tokens=24, tracin_every=8, grad_k=16, unseen_task="sst2", unseen_holdout=20,
    mislabel_runs=6, sim_width=64, orders=(1,), fit_max_steps=600, fit_batch_size=256,
    fit_eval_every=50, fit_patience=4,
)
PROFILES: dict[str, GPTfluenceSettings] = {
    "gpu": GPTfluenceSettings(),
    "cpu": _CPU,
    # base cpu: 28 fields differ (36 from gpu)
    "smoke": replace(
        _CPU, pretrain_documents=1500, vocab_size=512, d_model=32, n_heads=2, pretrain_steps=60, tasks=("webnlg",),
        n_pool=24, n_test=8, n_test_generation=6, n_runs=4, n_fit=2, n_val=1, n_heldout=1, n_sampled=8, epochs=2,
        eval_batch_size=16, max_new_tokens=12, tracin_every=2, grad_k=8, unseen_task="webnlg", unseen_holdout=8,
        unseen_runs=1, mislabel_runs=3, sim_width=16, orders=(1, 2), fit_max_steps=60, fit_eval_every=20,
        retrain_test=8,
    ),
}
# The slow test runs the gpu settings on CPU with these overrides: full shapes, tiny step counts.
GPU_ON_CPU_OVERRIDES: dict[str, Any] = {  # lists, not tuples: papermill passes tuples as strings
    "pretrain_documents": 3000, "pretrain_steps": 2, "pretrain_batch_size": 4, "n_pool": 16, "n_test": 4,
    "n_test_generation": 4, "n_runs": 4, "n_fit": 2, "n_val": 1, "n_heldout": 1, "n_sampled": 8, "epochs": 1,
    "eval_batch_size": 8, "max_new_tokens": 4, "tracin_every": 1, "unseen_holdout": 4, "unseen_runs": 1,
    "mislabel_runs": 3, "orders": [1, 2], "fit_max_steps": 20, "fit_batch_size": 256, "fit_eval_every": 10,
    "retrain_test": 4,
}
