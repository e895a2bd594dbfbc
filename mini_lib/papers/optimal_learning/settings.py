"""Notebook 05's settings: a typed dataclass whose defaults are the gpu profile, and the cpu and smoke
profiles as the few values they change (``mini_lib.lab.profiles`` indexes them). Light: no torch."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class OptimalLearningSettings:
    """05_optimal_learning (arXiv 2402.17759): learned policies for the Perceptron and a tiny LM.

    Defaults (gpu) are the paper's Perceptron (D 128, N 4096, K 512, eta 0.1, T 2000) with its official outer
    schedule (500 epochs at outer lr 0.001, affordable with its closed-form derivatives) and its Transformer
    shape (2 layers, d 128, 8 heads, 64 tokens, 5K vocabulary, eta 0.1) at N 4096 and T 1000 (paper: N 16384,
    T 4000); smoke and cpu shrink sizes, steps and outer epochs. Outer learning rates: about 1000 / N converges
    in a few epochs (the cpu perceptron's 0.25 for 5), and the LM at eta 1 takes about 300 / N (larger makes J
    rise). At eta 1 a d 64 model already makes the outer steps erratic (J rises after a step even at 0.8), so
    the CPU profiles keep d 32; gpu uses the paper's eta 0.1.
    """

    perceptron_n_train: int = 4096
    perceptron_steps: int = 2000  # T, full-batch GD steps of one run
    perceptron_epochs: int = 500  # outer PGD epochs on the policy (the official run's)
    perceptron_outer_lr: float = 0.001
    perceptron_long_factor: int = 20  # the conventional reference run is this many times T long
    perceptron_trace_every: int = 20  # record CT every k steps (Learning-Law check)
    corpus: str = "storyworld"  # storyworld | local (corpus_path, e.g. TinyStories jsonl) | hub (corpus_name; network)
    n_stories: int = 8000  # documents loaded, split into training and desired (held-out) stories
    vocab_size: int = 5000  # BPE vocabulary (an upper bound; the paper: 5K)
    lm_d_model: int = 128
    lm_n_layers: int = 2
    lm_n_heads: int = 8
    lm_n_train: int = 4096  # N training rows of 64 + 1 tokens, half perturbed
    lm_n_desired: int = 512  # K desired rows, from held-out clean stories
    lm_steps: int = 1000
    lm_eta: float = 0.1  # inner GD learning rate (the paper: 0.1; small runs need 1.0 to move)
    lm_epochs: int = 5
    lm_outer_lr: float = 0.5
    lm_long_factor: int = 5
    lm_trace_every: int = 50
    lm_checkpoint_every: int = 0  # 0: keep every theta_t (T x P floats: 6.7 GB here); k: keep every k-th, replay
    lm_chunk_size: int = 512  # examples per forward pass (memory ~ chunk, not N)
    retrain_steps: int = 1000  # the reweighting bridge: the one training loop, uniform vs learned weights
    retrain_batch_size: int = 64
    retrain_lr: float = 1e-3
    retrain_eval_every: int = 50
    perceptron_dim: int = 128
    perceptron_n_desired: int = 512
    perceptron_shift: float = 1.0  # desired inputs ~ N(shift * u, I)
    perceptron_label_noise: float = 0.0  # the paper: clean teacher labels; > 0 flips that fraction
    perceptron_eta: float = 0.1
    # extra policy runs of these T: is the learning-law fit identifiable?
    perceptron_fit_steps: tuple[int, ...] = (500, 1000, 4000)
    lm_seq_len: int = 64
    desired_fraction: float = 0.2  # of the stories held out for desired rows
    perturb_fraction: float = 0.5  # of the training rows perturbed (the paper: 50%)
    edit_rate: float = 0.3  # of the tokens of a perturbed row replaced by random ones
    lr_schedule: str = "linear"  # outer lr decays linearly to 0 over the epochs (official code)
    active_threshold: float = 0.1  # an example is active at step t if N * gamma_{n,t} > this
    zero_threshold: float = 0.1  # an example is switched off if N * mean_t gamma_{n,t} < this
    tier: str = "simple"
    corpus_path: str = ""
    corpus_name: str = "roneneldan/TinyStories"
    device: str = "auto"
    seed: int = 0


_CPU = replace(
    OptimalLearningSettings(), perceptron_steps=500, perceptron_epochs=5, perceptron_outer_lr=0.25,
    perceptron_trace_every=10, n_stories=1500,
    vocab_size=512, lm_d_model=32, lm_n_heads=4, lm_n_train=64, lm_n_desired=32, lm_steps=20, lm_eta=1.0,
    lm_epochs=3, lm_outer_lr=5.0, lm_trace_every=2, lm_chunk_size=64, retrain_steps=60,
    retrain_batch_size=16, retrain_lr=3e-3, retrain_eval_every=4, perceptron_fit_steps=(100, 200, 1000),
)
PROFILES: dict[str, OptimalLearningSettings] = {
    "gpu": OptimalLearningSettings(),
    "cpu": _CPU,
    # base cpu: 16 fields differ (23 from gpu)
    "smoke": replace(
        _CPU, perceptron_n_train=1024, perceptron_steps=100, perceptron_epochs=3, perceptron_outer_lr=1.0,
        perceptron_trace_every=5, n_stories=400, lm_n_train=32, lm_n_desired=16, lm_steps=10, lm_epochs=1,
        lm_outer_lr=10.0, lm_long_factor=3, retrain_steps=20, retrain_batch_size=8, retrain_eval_every=5,
        perceptron_fit_steps=(),
    ),
}
# The slow test runs the gpu settings on CPU with these overrides: full shapes, tiny step counts.
GPU_ON_CPU_OVERRIDES: dict[str, Any] = {
    "perceptron_steps": 20, "perceptron_epochs": 1, "perceptron_long_factor": 2, "perceptron_trace_every": 10,
    "n_stories": 2000, "lm_n_train": 32, "lm_n_desired": 8, "lm_steps": 2, "lm_epochs": 1, "lm_long_factor": 2,
    "lm_trace_every": 1, "lm_checkpoint_every": 1, "retrain_steps": 2, "retrain_batch_size": 8,
    "retrain_eval_every": 1, "perceptron_fit_steps": [],
}
