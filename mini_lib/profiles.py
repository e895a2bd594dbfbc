"""Profiles: the ONE place that says how big every notebook's run is.

* ``smoke``: CI; about a minute per notebook on 2 cores; proves every cell runs.
* ``cpu``: a laptop or Binder; at most ~10 minutes and ~2 GB of memory; the default.
* ``gpu``: one H100-class GPU; paper scale.

Each notebook has a settings dataclass and one instance per profile. A notebook's first cell holds
``profile`` and ``overrides`` (papermill parameters); ``notebook_settings`` validates both and returns
the settings object, so the runner, the notebooks and the tests share exactly these numbers.
"""

from __future__ import annotations

import ast
import importlib
import math
import os
from dataclasses import dataclass, fields, replace
from fnmatch import fnmatchcase
from functools import cache
from typing import Any, Callable

from mini_lib.errors import ConfigError, choose

PROFILES = ("smoke", "cpu", "gpu")
OFFLINE_PROFILES = ("smoke", "cpu")


@dataclass(frozen=True)
class QuickstartSettings:
    """00_quickstart: corpus -> tokenizer -> tiny Pythia -> samples."""

    n_stories: int
    tier: str
    val_fraction: float
    vocab_size: int
    seq_len: int
    preset: str
    steps: int
    batch_size: int
    lr: float
    eval_every: int
    eval_examples: int
    seed: int = 0


@dataclass(frozen=True)
class PythiaTrainingSettings:
    """01_pythia_training: the suite, precision/throughput, checkpoint/resume, loss vs size."""

    n_stories: int
    vocab_size: int
    seq_len: int
    presets: tuple[str, ...]  # trained on the same tokens to compare sizes
    steps: int
    batch_size: int
    micro_batch_size: int
    eval_every: int
    eval_examples: int
    checkpoint_every: int
    precisions: tuple[str, ...]  # compared in the throughput section
    throughput_steps: int
    compile: bool
    seed: int = 0


NOTEBOOK_PROFILES: dict[str, dict[str, Any]] = {
    "00_quickstart": {
        "smoke": QuickstartSettings(
            n_stories=1500, tier="simple", val_fraction=0.1, vocab_size=1024, seq_len=64, preset="pythia-1m",
            steps=60, batch_size=16, lr=2e-3, eval_every=20, eval_examples=64,
        ),
        "cpu": QuickstartSettings(
            n_stories=10_000, tier="simple", val_fraction=0.05, vocab_size=2048, seq_len=128, preset="pythia-1m",
            steps=300, batch_size=16, lr=2e-3, eval_every=100, eval_examples=128,
        ),
        "gpu": QuickstartSettings(
            n_stories=200_000, tier="simple", val_fraction=0.02, vocab_size=8192, seq_len=512, preset="pythia-14m",
            steps=3000, batch_size=64, lr=1e-3, eval_every=250, eval_examples=1024,
        ),
    },
    "01_pythia_training": {
        "smoke": PythiaTrainingSettings(
            n_stories=1500, vocab_size=1024, seq_len=64, presets=("pythia-1m", "pythia-3m"), steps=30,
            batch_size=16, micro_batch_size=8, eval_every=10, eval_examples=64, checkpoint_every=10,
            precisions=("fp32", "bf16"), throughput_steps=3, compile=False,
        ),
        "cpu": PythiaTrainingSettings(
            n_stories=10_000, vocab_size=2048, seq_len=128, presets=("pythia-1m", "pythia-14m", "pythia-3m"),
            steps=200, batch_size=16, micro_batch_size=16, eval_every=50, eval_examples=128, checkpoint_every=100,
            precisions=("fp32", "bf16"), throughput_steps=5, compile=False,
        ),
        "gpu": PythiaTrainingSettings(
            n_stories=400_000, vocab_size=50304, seq_len=2048, presets=("pythia-14m", "pythia-70m", "pythia-160m"),
            steps=2000, batch_size=64, micro_batch_size=16, eval_every=250, eval_examples=512,
            checkpoint_every=500, precisions=("fp32", "bf16"), throughput_steps=30, compile=True,
        ),
    },
}


# The slow test runs each notebook's gpu settings on CPU with these overrides: full shapes, tiny step counts.
GPU_ON_CPU_OVERRIDES: dict[str, dict[str, Any]] = {
    "00_quickstart": {"steps": 2, "eval_every": 0, "eval_examples": 4},
    "01_pythia_training": {"steps": 2, "eval_every": 0, "eval_examples": 4, "checkpoint_every": 1,
                           "throughput_steps": 1, "compile": False},
}

# Each paper notebook registers its settings below, in its own block:
#   @dataclass(frozen=True) class XSettings: ...
#   NOTEBOOK_PROFILES["0N_name"] = {"smoke": XSettings(...), "cpu": ..., "gpu": ...}
#   GPU_ON_CPU_OVERRIDES["0N_name"] = {...}

# --- 02_simplified_vocab ---


@dataclass(frozen=True)
class SimpleVocabSettings:
    """02_simplified_vocab: equal-budget simple vs unrestricted data, the model grid, zero-shot, power laws."""

    source: str  # storyworld (simple vs rich tier) | local | hub (span-filtered vs unfiltered)
    path: str  # corpus file for source=local
    hub_name: str  # dataset for source=hub (needs a network)
    vocabulary: str  # auto (AO-CHILDES if ../shared/data has it, else built-in) | aochildes | builtin
    filter_mode: str  # span filter: reference (the paper's released C++, quirks included) | rule (as described)
    n_documents: int  # per tier (storyworld) or read from the corpus
    train_tokens: int  # training tokens per data set (one epoch); 0 = all the smaller set holds
    val_fraction: float
    vocab_size: int  # BPE vocabulary of EACH tokenizer
    seq_len: int
    hidden_sizes: tuple[int, ...]
    layer_counts: tuple[int, ...]
    n_heads: int
    batch_size: int
    micro_batch_size: int
    lr: float  # for hidden <= 512; Pythia's ratios below it for wider models
    min_lr_ratio: float
    warmup_fraction: float
    evals_per_run: int
    eval_examples: int
    data_fractions: tuple[float, ...]  # the loss-vs-D runs: fractions of the budget
    sweep_hidden: int  # the shape retrained on those fractions
    sweep_layers: int
    task_examples: int  # per storyworld task and tier (even)
    tasks: tuple[str, ...]  # storyworld tasks (mini_lib.zero_shot_tasks.TASKS)
    score_batch_size: int
    benchmarks: tuple[str, ...]  # real benchmarks from the hub (network needed), simplified; () offline
    benchmark_limit: int
    precision: str
    seed: int = 0


_SIMPLE_VOCAB_COMMON = dict(source="storyworld", path="", hub_name="", vocabulary="auto", filter_mode="reference",
                            seq_len=128, n_heads=8, min_lr_ratio=0.1, benchmarks=(), benchmark_limit=1000,
                            tasks=("blimp_subject_verb", "blimp_determiner_noun", "blimp_word_order", "boolq_story",
                                   "sst2_ending", "copa_next_event"))
NOTEBOOK_PROFILES["02_simplified_vocab"] = {
    "smoke": SimpleVocabSettings(
        **_SIMPLE_VOCAB_COMMON, n_documents=1200, train_tokens=65_536, val_fraction=0.1, vocab_size=512,
        hidden_sizes=(32, 64), layer_counts=(2,), batch_size=16, micro_batch_size=16, lr=3e-3,
        warmup_fraction=0.05, evals_per_run=4, eval_examples=32, data_fractions=(0.25, 0.5), sweep_hidden=32,
        sweep_layers=2, task_examples=16, score_batch_size=32, precision="fp32",
    ),
    "cpu": SimpleVocabSettings(
        **_SIMPLE_VOCAB_COMMON, n_documents=4000, train_tokens=196_608, val_fraction=0.05, vocab_size=1024,
        hidden_sizes=(32, 64, 128), layer_counts=(2, 4), batch_size=16, micro_batch_size=16, lr=3e-3,
        warmup_fraction=0.05, evals_per_run=6, eval_examples=64, data_fractions=(0.25, 0.5), sweep_hidden=64,
        sweep_layers=2, task_examples=60, score_batch_size=64, precision="fp32",
    ),
    "gpu": SimpleVocabSettings(
        **_SIMPLE_VOCAB_COMMON, n_documents=600_000, train_tokens=40_000_000, val_fraction=0.02,
        vocab_size=15_000, hidden_sizes=(32, 64, 128, 256, 512, 1024), layer_counts=(2, 4, 8), batch_size=512,
        micro_batch_size=512, lr=1e-3, warmup_fraction=0.01, evals_per_run=10, eval_examples=512,
        data_fractions=(0.125, 0.25, 0.5), sweep_hidden=256, sweep_layers=4, task_examples=500,
        score_batch_size=128, precision="auto",
    ),
}
GPU_ON_CPU_OVERRIDES["02_simplified_vocab"] = {
    "n_documents": 1500, "train_tokens": 512, "batch_size": 4, "micro_batch_size": 4, "evals_per_run": 0,
    "eval_examples": 4, "task_examples": 2, "tasks": ("blimp_word_order",), "score_batch_size": 8,
}

# --- 03_quality_quantity ---
@dataclass(frozen=True)
class QualityQuantitySettings:
    """03_quality_quantity (arXiv 2411.15821): data size x duplication rate x seeds.

    gpu is the paper's model and schedule (4 layers, 4 heads, d 128, context 128; batch 32, 1000
    steps, lr 1e-3 cosine to 1e-4, 100 warmup, betas (0.9, 0.99), wd 0.1, clip 1.0); cpu and smoke
    shrink the model and the schedule, never the grid's logic.
    """

    corpus: str  # storyworld | local (corpus_path, e.g. TinyStories as jsonl) | hub (corpus_name)
    n_stories: int  # documents to load; 0 = the whole file / hub split
    val_fraction: float
    vocab_size: int
    seq_len: int
    n_layers: int
    d_model: int
    n_heads: int
    size_fractions: tuple[float, ...]
    duplication_rates: tuple[float, ...]
    n_seeds: int  # replicates: seed, seed + 1, ...
    steps: int
    batch_size: int
    lr: float
    warmup_steps: int
    eval_every: int
    eval_examples: int
    tie_embeddings: bool = True  # nanoGPT / GPT-2 tie input and output embeddings
    min_lr_ratio: float = 0.1  # cosine from lr to lr / 10 (1e-3 -> 1e-4)
    beta1: float = 0.9
    beta2: float = 0.99
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    construction: str = "one_document"  # the paper's; "many" = k-fold repeats of many documents
    repeat_k: int = 4  # copies per repeated document ("many")
    hold: str = "documents"  # "many": hold the document or the token count constant
    sweep_epochs: tuple[float, ...] = ()  # extra clean + 25% cells whose clean data is seen this many times
    corpus_path: str = ""
    corpus_name: str = "roneneldan/TinyStories"
    tier: str = "simple"
    seed: int = 0


NOTEBOOK_PROFILES["03_quality_quantity"] = {
    "smoke": QualityQuantitySettings(
        corpus="storyworld", n_stories=1500, val_fraction=0.1, vocab_size=512, seq_len=64, n_layers=2,
        d_model=64, n_heads=2, size_fractions=(1.0,), duplication_rates=(0.0, 1.0), n_seeds=1, steps=40,
        batch_size=16, lr=2e-3, warmup_steps=4, eval_every=0, eval_examples=64,
    ),
    "cpu": QualityQuantitySettings(
        corpus="storyworld", n_stories=6000, val_fraction=0.05, vocab_size=1024, seq_len=64, n_layers=2,
        d_model=64, n_heads=2, size_fractions=(0.25, 0.5, 1.0), duplication_rates=(0.0, 0.25, 0.5, 0.75, 1.0),
        n_seeds=3, steps=120, batch_size=16, lr=2e-3, warmup_steps=12, eval_every=40, eval_examples=128,
        sweep_epochs=(2.0, 4.0),
    ),
    "gpu": QualityQuantitySettings(
        corpus="storyworld", n_stories=300_000, val_fraction=0.02, vocab_size=8192, seq_len=128, n_layers=4,
        d_model=128, n_heads=4, size_fractions=(0.25, 0.5, 1.0), duplication_rates=(0.0, 0.25, 0.5, 0.75, 1.0),
        n_seeds=3, steps=1000, batch_size=32, lr=1e-3, warmup_steps=100, eval_every=100, eval_examples=1024,
        sweep_epochs=(1.0, 2.0, 4.0),
    ),
}
GPU_ON_CPU_OVERRIDES["03_quality_quantity"] = {  # lists, not tuples: papermill passes tuples as strings
    "n_stories": 3000, "size_fractions": [1.0], "duplication_rates": [0.0, 1.0], "n_seeds": 1, "sweep_epochs": [],
    "steps": 2, "warmup_steps": 1, "eval_every": 0, "eval_examples": 8,
}

# --- 04_gptfluence ---
@dataclass(frozen=True)
class GPTfluenceSettings:
    """04_gptfluence (arXiv 2404.07840): collect fine-tuning dynamics, simulate them, score the simulators.

    gpu follows the paper's fine-tuning runs (pool 200, 128 sampled, batch 4, 3 epochs = 96 steps,
    32 runs split 25 / 2 / 5, every metric after every step) on a Pythia-70M-shaped model pre-trained
    on storyworld (or ``base_model``: a local checkpoint, e.g. a downloaded Pythia), all four embedded
    tasks, official 384-wide GPTfluence MLPs and the order ablation. cpu and smoke shrink the model,
    the pool, the runs and the simulator, never the procedure.
    """

    base_model: str  # "" = pre-train on storyworld; else a local GPT-NeoX checkpoint folder
    pretrain_documents: int
    vocab_size: int
    seq_len: int
    n_layers: int
    d_model: int
    n_heads: int
    pretrain_steps: int
    pretrain_batch_size: int
    pretrain_lr: float
    tasks: tuple[str, ...]  # compared tasks: sst2, rte, boolq, webnlg (+ wmt16 with task_source="hub")
    n_pool: int  # training examples per task (the paper: 200)
    n_test: int  # test examples of a classification task
    n_test_generation: int  # test examples of a generation task (greedy decoding after every step)
    n_runs: int
    n_fit: int  # runs the simulators are fitted on (the paper: 25)
    n_val: int  # early stopping (2)
    n_heldout: int  # scored (5)
    n_sampled: int  # examples per run (128)
    batch_size: int  # (4)
    epochs: int  # (3)
    lr: float  # fine-tuning learning rate (cosine to 10%)
    max_len: int
    eval_batch_size: int
    max_new_tokens: int
    tracin_every: int  # checkpoint gradients for TracIn-CP every k steps (0: no TracIn-CP / Grad-Dot)
    grad_k: int  # gradients projected to grad_k x grad_k numbers
    unseen_task: str  # "" = skip the unseen-data study
    unseen_holdout: int  # pool examples kept out of that task's regular runs
    unseen_runs: int  # extra runs from the full pool
    mislabel_runs: int  # runs on the flipped SST-2-like task (0 = skip the application)
    sim_width: int  # GPTfluence projection width (0 = the feature size, 384: official)
    orders: tuple[int, ...]  # GPTfluence orders compared on the first task
    fit_max_steps: int
    fit_batch_size: int
    fit_eval_every: int
    fit_patience: int
    flip_fraction: float = 0.4
    mislabel_splits: int = 3  # run splits the detection areas are compared over (the verdict's noise unit)
    sim_layers: int = 2
    task_source: str = "storyworld"  # storyworld | hub (network)
    tier: str = "simple"
    precision: str = "fp32"  # fine-tuning runs
    seed: int = 0


_GPTFLUENCE_SMALL = dict(base_model="", seq_len=128, max_len=128, batch_size=4, tracin_every=2, fit_batch_size=256,
                         fit_patience=4)
NOTEBOOK_PROFILES["04_gptfluence"] = {
    "smoke": GPTfluenceSettings(
        **_GPTFLUENCE_SMALL, pretrain_documents=1500, vocab_size=512, n_layers=2, d_model=32, n_heads=2,
        pretrain_steps=60, pretrain_batch_size=16, pretrain_lr=3e-3, tasks=("webnlg",), n_pool=24, n_test=8,
        n_test_generation=6, n_runs=4, n_fit=2, n_val=1, n_heldout=1, n_sampled=8, epochs=2, lr=1e-3,
        eval_batch_size=16, max_new_tokens=12, grad_k=8, unseen_task="webnlg", unseen_holdout=8, unseen_runs=1,
        mislabel_runs=3, sim_width=16, orders=(1, 2), fit_max_steps=60, fit_eval_every=20,
    ),
    "cpu": GPTfluenceSettings(
        **{**_GPTFLUENCE_SMALL, "tracin_every": 8}, pretrain_documents=8000, vocab_size=1024, n_layers=2, d_model=64,
        n_heads=4, pretrain_steps=600, pretrain_batch_size=16, pretrain_lr=3e-3, tasks=("sst2", "webnlg"), n_pool=100,
        n_test=24, n_test_generation=16, n_runs=8, n_fit=5, n_val=1, n_heldout=2, n_sampled=64, epochs=3, lr=1e-3,
        eval_batch_size=32, max_new_tokens=24, grad_k=16, unseen_task="sst2", unseen_holdout=20, unseen_runs=2,
        mislabel_runs=6, sim_width=64, orders=(1,), fit_max_steps=600, fit_eval_every=50,
    ),
    "gpu": GPTfluenceSettings(
        base_model="", pretrain_documents=200_000, vocab_size=8192, seq_len=256, n_layers=6, d_model=512, n_heads=8,
        pretrain_steps=4000, pretrain_batch_size=64, pretrain_lr=1e-3, tasks=("rte", "sst2", "boolq", "webnlg"),
        n_pool=200, n_test=100, n_test_generation=100, n_runs=32, n_fit=25, n_val=2, n_heldout=5, n_sampled=128,
        batch_size=4, epochs=3, lr=1e-4, max_len=256, eval_batch_size=100, max_new_tokens=48, tracin_every=10,
        grad_k=32, unseen_task="rte", unseen_holdout=40, unseen_runs=5, mislabel_runs=32, sim_width=0,
        orders=(1, 2, 3, 5, 10), fit_max_steps=3000, fit_batch_size=1024, fit_eval_every=100, fit_patience=5,
    ),
}
GPU_ON_CPU_OVERRIDES["04_gptfluence"] = {  # lists, not tuples: papermill passes tuples as strings
    "pretrain_documents": 3000, "pretrain_steps": 2, "pretrain_batch_size": 4, "n_pool": 16, "n_test": 4,
    "n_test_generation": 4, "n_runs": 4, "n_fit": 2, "n_val": 1, "n_heldout": 1, "n_sampled": 8, "epochs": 1,
    "eval_batch_size": 8, "max_new_tokens": 4, "tracin_every": 1, "unseen_holdout": 4, "unseen_runs": 1,
    "mislabel_runs": 3, "orders": [1, 2], "fit_max_steps": 20, "fit_batch_size": 256, "fit_eval_every": 10,
}

# --- 05_optimal_learning ---
@dataclass(frozen=True)
class OptimalLearningSettings:
    """05_optimal_learning (arXiv 2402.17759): learned policies for the Perceptron and a tiny LM.

    gpu is the paper's Perceptron (D 128, N 4096, K 512, eta 0.1, T 2000) and its Transformer shape
    (2 layers, d 128, 8 heads, 64 tokens, 5K vocabulary, eta 0.1) at N 4096 and T 1000 (paper: N 16384,
    T 4000); smoke and cpu shrink sizes, steps and outer epochs. Outer learning rates: the paper's
    0.001 needs hundreds of epochs; about 1000 / N converges in a few (perceptron), and the LM at
    eta 1 takes about 300 / N (larger makes J rise). At eta 1 a d 64 model already makes the outer steps
    erratic (J rises after a step even at 0.8), so the CPU profiles keep d 32; gpu uses the paper's eta 0.1.
    """

    perceptron_n_train: int
    perceptron_steps: int  # T, full-batch GD steps of one run
    perceptron_epochs: int  # outer PGD epochs on the policy
    perceptron_outer_lr: float
    perceptron_long_factor: int  # the conventional reference run is this many times T long
    perceptron_trace_every: int  # record CT every k steps (Learning-Law check)
    corpus: str  # storyworld | local (corpus_path, e.g. TinyStories jsonl) | hub (corpus_name; network)
    n_stories: int  # documents loaded, split into training and desired (held-out) stories
    vocab_size: int  # BPE vocabulary (an upper bound; the paper: 5K)
    lm_d_model: int
    lm_n_layers: int
    lm_n_heads: int
    lm_n_train: int  # N training rows of 64 + 1 tokens, half perturbed
    lm_n_desired: int  # K desired rows, from held-out clean stories
    lm_steps: int
    lm_eta: float  # inner GD learning rate (the paper: 0.1; small runs need 1.0 to move)
    lm_epochs: int
    lm_outer_lr: float
    lm_long_factor: int
    lm_trace_every: int
    lm_checkpoint_every: int  # 0: keep every theta_t in the backward pass; k: keep every k-th, recompute
    lm_chunk_size: int  # examples per forward pass (memory ~ chunk, not N)
    retrain_steps: int  # the reweighting bridge: the one training loop, uniform vs learned weights
    retrain_batch_size: int
    retrain_lr: float
    retrain_eval_every: int
    perceptron_dim: int = 128
    perceptron_n_desired: int = 512
    perceptron_shift: float = 1.0  # desired inputs ~ N(shift * u, I)
    perceptron_label_noise: float = 0.0  # the paper: clean teacher labels; > 0 flips that fraction
    perceptron_eta: float = 0.1
    perceptron_fit_steps: tuple[int, ...] = ()  # extra policy runs of these T: is the learning-law fit identifiable?
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


NOTEBOOK_PROFILES["05_optimal_learning"] = {
    "smoke": OptimalLearningSettings(
        perceptron_n_train=1024, perceptron_steps=100, perceptron_epochs=3, perceptron_outer_lr=1.0,
        perceptron_long_factor=20, perceptron_trace_every=5, corpus="storyworld", n_stories=400, vocab_size=512,
        lm_d_model=32, lm_n_layers=2, lm_n_heads=4, lm_n_train=32, lm_n_desired=16, lm_steps=10, lm_eta=1.0,
        lm_epochs=1, lm_outer_lr=10.0, lm_long_factor=3, lm_trace_every=2, lm_checkpoint_every=0,
        lm_chunk_size=64, retrain_steps=20, retrain_batch_size=8, retrain_lr=3e-3, retrain_eval_every=5,
    ),
    "cpu": OptimalLearningSettings(
        perceptron_n_train=4096, perceptron_steps=500, perceptron_epochs=5, perceptron_outer_lr=0.25,
        perceptron_long_factor=20, perceptron_trace_every=10, corpus="storyworld", n_stories=1500, vocab_size=512,
        lm_d_model=32, lm_n_layers=2, lm_n_heads=4, lm_n_train=64, lm_n_desired=32, lm_steps=20, lm_eta=1.0,
        lm_epochs=3, lm_outer_lr=5.0, lm_long_factor=5, lm_trace_every=2, lm_checkpoint_every=0,
        lm_chunk_size=64, retrain_steps=60, retrain_batch_size=16, retrain_lr=3e-3, retrain_eval_every=4,
        perceptron_fit_steps=(100, 200, 1000),
    ),
    "gpu": OptimalLearningSettings(
        perceptron_n_train=4096, perceptron_steps=2000, perceptron_epochs=10, perceptron_outer_lr=0.25,
        perceptron_long_factor=20, perceptron_trace_every=20, corpus="storyworld", n_stories=8000, vocab_size=5000,
        lm_d_model=128, lm_n_layers=2, lm_n_heads=8, lm_n_train=4096, lm_n_desired=512, lm_steps=1000, lm_eta=0.1,
        lm_epochs=5, lm_outer_lr=0.5, lm_long_factor=5, lm_trace_every=50, lm_checkpoint_every=50,
        lm_chunk_size=512, retrain_steps=1000, retrain_batch_size=64, retrain_lr=1e-3, retrain_eval_every=50,
        perceptron_fit_steps=(500, 1000, 4000),
    ),
}
GPU_ON_CPU_OVERRIDES["05_optimal_learning"] = {
    "perceptron_steps": 20, "perceptron_epochs": 1, "perceptron_long_factor": 2, "perceptron_trace_every": 10,
    "n_stories": 2000, "lm_n_train": 32, "lm_n_desired": 8, "lm_steps": 2, "lm_epochs": 1, "lm_long_factor": 2,
    "lm_trace_every": 1, "lm_checkpoint_every": 1, "retrain_steps": 2, "retrain_batch_size": 8,
    "retrain_eval_every": 1, "perceptron_fit_steps": [],
}

# --- 06_data_selection ---
@dataclass(frozen=True)
class DataSelectionSettings:
    """06_data_selection (arXiv 2402.09668): Ask-LLM, Density and baselines on a labelled noisy corpus.

    Every sampler keeps each of ``keep_fractions``; every model trains ``steps * batch_size * seq_len``
    tokens (smaller subsets repeat more epochs). Over-scaling compares the (n_layers, d_model) model on
    a subset with itself on full data, in units of the gain over the small (small_*) model on full
    data. ``askllm_variants``: SmolLM2 prompt variants to score with (the first feeds the askllm
    sampler; empty: no Ask-LLM scoring). SmolLM2 scores about 1 doc/s on one CPU core (few-shot: 3 s),
    so smoke uses perplexity only and cpu the paper's prompt on 400 documents (cached after the first
    run); gpu scores with the measured-best few_shot variant and the paper's prompt, and
    ``scorer_path`` (a local HF folder, causal or seq2seq such as Flan-T5) swaps in a bigger scorer.
    The scorer sweep trains the large model at ``sweep_keep_fraction`` on the kept sets of synthetic
    scorers of AUROC ``sweep_aurocs`` (labels plus noise) and of the real scorers, Density at
    ``sweep_density_fraction``, random and full data, once per ``sweep_seeds`` entry (final eval only);
    the claims are decided on these seeds.
    """

    n_stories: int
    noise_fraction: float
    duplicate_rate: float
    repeat_k: int
    samplers: tuple[str, ...]
    keep_fractions: tuple[float, ...]
    askllm_variants: tuple[str, ...]
    askllm_max_tokens: int
    proxy_docs: int
    proxy_steps: int
    vocab_size: int
    seq_len: int
    n_layers: int
    d_model: int
    n_heads: int
    small_n_layers: int
    small_d_model: int
    small_n_heads: int
    steps: int
    batch_size: int
    lr: float
    warmup_steps: int
    eval_every: int
    eval_examples: int
    zero_shot_n: int
    zero_shot_tasks: tuple[str, ...]
    kde_docs: int  # documents compared between the density sketch and the exact KDE
    sweep_aurocs: tuple[float, ...]
    sweep_seeds: tuple[int, ...]
    sweep_keep_fraction: float = 0.2  # the paper's headline fraction
    sweep_density_fraction: float = 0.8  # Density's best fraction in the one-seed grid
    kde_bandwidth: float = 0.5
    sketch_hashes: int = 1024  # the SketchConfig default: Spearman ~0.9 against the exact KDE on real text
    sketch_buckets: int = 4096
    sketch_bandwidth: float = 1.0
    n_clusters: int = 20  # SemDeDup / Prototypes k-means
    askllm_batch_size: int = 8
    scorer_path: str = ""  # local Ask-LLM scorer folder; empty = SmolLM2-135M-Instruct
    tier: str = "simple"
    seed: int = 0


NOTEBOOK_PROFILES["06_data_selection"] = {
    "smoke": DataSelectionSettings(
        n_stories=300, noise_fraction=0.3, duplicate_rate=0.2, repeat_k=4, samplers=("random", "perplexity"),
        keep_fractions=(0.4,), askllm_variants=(), askllm_max_tokens=64, proxy_docs=400, proxy_steps=40,
        vocab_size=512, seq_len=64, n_layers=2, d_model=64, n_heads=2, small_n_layers=1, small_d_model=32,
        small_n_heads=2, steps=30, batch_size=16, lr=3e-3, warmup_steps=3, eval_every=10, eval_examples=64,
        zero_shot_n=8, zero_shot_tasks=("blimp_word_order", "sst2_ending"), kde_docs=300,
        sweep_aurocs=(0.5, 1.0), sweep_seeds=(0, 1),
    ),
    "cpu": DataSelectionSettings(
        n_stories=400, noise_fraction=0.3, duplicate_rate=0.2, repeat_k=4,
        samplers=("random", "askllm", "perplexity", "density", "semdedup"), keep_fractions=(0.1, 0.2, 0.4, 0.8),
        askllm_variants=("paper",), askllm_max_tokens=64, proxy_docs=1500, proxy_steps=150, vocab_size=1024,
        seq_len=64, n_layers=2, d_model=64, n_heads=2, small_n_layers=1, small_d_model=32, small_n_heads=2,
        steps=100, batch_size=16, lr=3e-3, warmup_steps=10, eval_every=10, eval_examples=128, zero_shot_n=40,
        zero_shot_tasks=("blimp_word_order", "blimp_subject_verb", "sst2_ending", "copa_next_event"), kde_docs=400,
        sweep_aurocs=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0), sweep_seeds=(0, 1, 2),
    ),
    "gpu": DataSelectionSettings(
        n_stories=20_000, noise_fraction=0.3, duplicate_rate=0.2, repeat_k=4,
        samplers=("random", "askllm", "perplexity", "density", "semdedup", "prototypes"),
        keep_fractions=(0.1, 0.2, 0.4, 0.6, 0.8), askllm_variants=("few_shot", "paper"), askllm_max_tokens=256,
        proxy_docs=5000, proxy_steps=500, vocab_size=4096, seq_len=128, n_layers=4, d_model=256, n_heads=4,
        small_n_layers=2, small_d_model=128, small_n_heads=2, steps=2000, batch_size=32, lr=1e-3,
        warmup_steps=100, eval_every=100, eval_examples=512, zero_shot_n=200,
        zero_shot_tasks=("blimp_subject_verb", "blimp_determiner_noun", "blimp_word_order", "boolq_story",
                         "sst2_ending", "copa_next_event"),
        kde_docs=3000, n_clusters=100, askllm_batch_size=32,
        sweep_aurocs=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0), sweep_seeds=(0, 1, 2, 3, 4),
    ),
}
GPU_ON_CPU_OVERRIDES["06_data_selection"] = {  # lists, not tuples: papermill passes tuples as strings
    "n_stories": 300, "samplers": ["random", "density"], "keep_fractions": [0.2], "askllm_variants": [],
    "proxy_docs": 400, "proxy_steps": 2, "steps": 2, "warmup_steps": 1, "eval_every": 0, "eval_examples": 8,
    "zero_shot_n": 4, "zero_shot_tasks": ["sst2_ending"], "kde_docs": 100, "n_clusters": 10,
    "sweep_aurocs": [1.0], "sweep_seeds": [0, 1],
}


def force_hub_offline() -> None:
    """Make the hub libraries fail at once instead of waiting on a network that may not be there."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[var] = "1"


def apply_profile_environment(profile: str) -> None:
    """smoke and cpu never touch the network: force the hub libraries offline."""
    if profile in OFFLINE_PROFILES:
        force_hub_offline()


def notebook_names() -> list[str]:
    return sorted(NOTEBOOK_PROFILES)


def resolve_notebook(name: str) -> str:
    """Accept ``00``, ``quickstart``, ``00_quickstart`` or an unambiguous start of one of them.

    An exact name wins; otherwise every notebook whose number, title or full name starts with ``name``
    is a candidate, and more than one is an error that lists them (``0`` matches every notebook).
    """
    def spellings(notebook: str) -> tuple[str, ...]:
        return (notebook, *notebook.split("_", 1))

    exact = [n for n in NOTEBOOK_PROFILES if name in spellings(n)]
    matches = exact or [n for n in NOTEBOOK_PROFILES if name and any(s.startswith(name) for s in spellings(n))]
    if len(matches) > 1:
        raise ConfigError(f"notebook {name!r} is ambiguous: it matches {', '.join(sorted(matches))}; give more of the name")
    if not matches:
        raise ConfigError(f"unknown notebook {name!r}; choose one of: {', '.join(notebook_names())}")
    return matches[0]


def parameter_names(notebook: str) -> list[str]:
    """The override keys a notebook accepts (its settings fields)."""
    first = next(iter(NOTEBOOK_PROFILES[resolve_notebook(notebook)].values()))
    return [f.name for f in fields(first)]


def profile_values(notebook: str) -> list[tuple[str, ...]]:
    """(parameter, smoke value, cpu value, gpu value) rows: what each profile sets, as ``list NB`` shows."""
    profiles = NOTEBOOK_PROFILES[resolve_notebook(notebook)]
    return [(name, *(repr(getattr(profiles[p], name)) for p in PROFILES)) for name in parameter_names(notebook)]


# --- value rules: what each setting may hold, checked before a kernel starts ---


@dataclass(frozen=True)
class Rule:
    """A check on one value (on each element of a tuple setting) and what a value must be, in words.

    ``says`` is a function because a choice rule lists a registry that is imported only when a value
    is checked against it (some registries, such as the tasks, pull in heavy modules)."""

    holds: Callable[[Any], bool]
    says: Callable[[], str]


def _at_least(low: int) -> Rule:
    return Rule(lambda v: v >= low, lambda: f"an integer >= {low}")


def _within(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Rule:
    def holds(v: float) -> bool:
        return (v > low if low_open else v >= low) and (v < high if high_open else v <= high)

    return Rule(holds, lambda: f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}")


def _one_of(registry: str, *, blank_ok: bool = False) -> Rule:
    """A name from the registry ``module:ATTRIBUTE`` (or ``''`` when ``blank_ok``: skip that part)."""
    @cache
    def choices() -> tuple[str, ...]:
        module, attribute = registry.split(":")
        return (*([""] if blank_ok else []), *getattr(importlib.import_module(module), attribute))

    return Rule(lambda v: v in choices(), lambda: "one of: " + ", ".join(c or "''" for c in choices()))


POSITIVE = Rule(lambda v: math.isfinite(v) and v > 0, lambda: "a finite number > 0")
NON_NEGATIVE = Rule(lambda v: math.isfinite(v) and v >= 0, lambda: "a finite number >= 0")
FINITE = Rule(math.isfinite, lambda: "a finite number")
COUNT = _at_least(1)
FRACTION = _within(0, 1)
OPEN_FRACTION = _within(0, 1, low_open=True, high_open=True)  # both parts non-empty (val_fraction)
SHARE = _within(0, 1, low_open=True)  # a non-empty part of the whole (size_fractions, keep_fractions)
PROPER = _within(0, 1, high_open=True)  # some, never all (warmup_fraction, noise_fraction, betas)

# First match wins. A pattern is an fnmatch glob over the field name, or over ``<notebook>:<field>``
# where one name means different things in different notebooks. An integer setting no row names is
# a count (>= 1), a float one must be finite; the ">= 0" rows are the settings whose 0 the settings
# above give a meaning. Strings not named here (paths, hub names) are free.
VALUE_RULES: tuple[tuple[str, Rule], ...] = (
    ("03_quality_quantity:n_stories", _at_least(0)),  # 0 = the whole file / hub split
    ("04_gptfluence:tasks", _one_of("mini_lib.influence.tasks:KINDS")),
    ("04_gptfluence:unseen_task", _one_of("mini_lib.influence.tasks:KINDS", blank_ok=True)),
    ("04_gptfluence:task_source", _one_of("mini_lib.influence.tasks:SOURCES")),
    ("04_gptfluence:sim_width", _at_least(0)),  # 0 = the feature size
    ("02_simplified_vocab:source", _one_of("mini_lib.simple_vocab.experiment:SOURCES")),
    ("preset", _one_of("mini_lib.models:PRESETS")),
    ("presets", _one_of("mini_lib.models:PRESETS")),
    ("tier", _one_of("mini_lib.corpora.storyworld:TIERS")),
    ("corpus", _one_of("mini_lib.corpora.loaders:SOURCES")),
    ("vocabulary", _one_of("mini_lib.simple_vocab.experiment:VOCABULARIES")),
    ("precision*", _one_of("mini_lib.train:PRECISIONS")),
    ("*tasks", _one_of("mini_lib.zero_shot_tasks:TASKS")),
    ("benchmarks", _one_of("mini_lib.zero_shot_benchmarks:BENCHMARKS")),
    ("construction", _one_of("mini_lib.quality_quantity.experiment:CONSTRUCTIONS")),
    ("hold", _one_of("mini_lib.quality_quantity.duplication:HOLD_CHOICES")),
    ("samplers", _one_of("mini_lib.selection.samplers:SAMPLERS")),
    ("askllm_variants", _one_of("mini_lib.selection.askllm:PROMPT_VARIANTS")),
    ("sweep_aurocs", _within(0.5, 1)),  # a scorer's AUROC, from chance to perfect
    ("sweep_seeds", _at_least(0)),
    ("filter_mode", _one_of("mini_lib.simple_vocab.span_filter:MODES")),
    ("*eval_every", _at_least(0)),  # 0 = only at the end (fit_eval_every: once per epoch)
    ("*checkpoint_every", _at_least(0)),  # 0 = no checkpoints (lm_: keep every step)
    ("tracin_every", _at_least(0)),  # 0 = no TracIn-CP / Grad-Dot
    ("evals_per_run", _at_least(0)),
    ("train_tokens", _at_least(0)),  # 0 = all the smaller set holds
    ("warmup_steps", _at_least(0)),
    ("mislabel_runs", _at_least(0)),  # 0 = skip the application
    ("seed", _at_least(0)),
    ("lr", POSITIVE), ("*_lr", POSITIVE), ("*_eta", POSITIVE),
    ("val_fraction", OPEN_FRACTION), ("desired_fraction", OPEN_FRACTION),
    ("sweep_epochs", POSITIVE),
    ("size_fractions", SHARE), ("data_fractions", SHARE), ("keep_fractions", SHARE),
    ("warmup_fraction", PROPER), ("noise_fraction", PROPER), ("beta?", PROPER),
    ("*_fraction*", FRACTION), ("*_rate*", FRACTION), ("*_ratio", FRACTION), ("*_noise", FRACTION),
    ("*_bandwidth", POSITIVE), ("*_threshold", NON_NEGATIVE), ("weight_decay", NON_NEGATIVE),
    ("grad_clip", POSITIVE),
)


def value_rule(notebook: str, key: str, like: Any) -> Rule | None:
    """The rule for setting ``key`` of ``notebook``; ``like`` (a profile's value) gives the default by type."""
    for pattern, rule in VALUE_RULES:
        if fnmatchcase(f"{notebook}:{key}" if ":" in pattern else key, pattern):
            return rule
    element = like[0] if isinstance(like, tuple) and like else like
    if isinstance(element, bool) or not isinstance(element, (int, float)):
        return None
    return COUNT if isinstance(element, int) else FINITE


def check_value(notebook: str, key: str, value: Any, like: Any) -> None:
    """Raise one ConfigError naming ``key`` when ``value`` (or an element of it) breaks its rule."""
    rule = value_rule(notebook, key, like)
    for item in (value if isinstance(value, tuple) else (value,)) if rule else ():
        if not rule.holds(item):
            raise ConfigError(f"parameter {key} got {item!r}; it must be {rule.says()}")


def _coerce(value: Any, like: Any, key: str) -> Any:
    """Make an override match the type of the default (papermill may pass "3" or a list).

    Nothing is rounded or guessed: ``steps=1.5`` or ``steps=True`` is an error, not 1."""
    if isinstance(like, bool):
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ConfigError(f"parameter {key} must be true or false, got {value!r}")
            return value.lower() in ("true", "1")
        if value not in (True, False):  # 0 and 1 too
            raise ConfigError(f"parameter {key} must be true or false, got {value!r}")
        return bool(value)
    if isinstance(like, tuple):
        items = value
        if isinstance(value, str):
            try:  # "(1.0, 0.5)" or "['a', 'b']" as papermill or a shell may pass them
                items = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                if value.lstrip()[:1] in "([{" or value.rstrip()[-1:] in ")]}":
                    raise ConfigError(
                        f"parameter {key} is not a readable list: {value!r}; write a,b or ['a', 'b']"
                    ) from None
                items = [v.strip() for v in value.split(",") if v.strip()]  # a,b,c
        items = [items] if isinstance(items, (str, int, float)) else list(items)
        return tuple(_coerce(v, like[0], key) for v in items) if like else tuple(items)
    if isinstance(like, (int, float)) and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise ConfigError(f"parameter {key} must be of type {type(like).__name__}, got {value!r}")
    if isinstance(like, (int, float)) and isinstance(value, str):
        try:
            value = float(value) if isinstance(like, float) else int(value)
        except ValueError:
            raise ConfigError(f"parameter {key} must be of type {type(like).__name__}, got {value!r}") from None
    if isinstance(like, int) and isinstance(value, float):
        if not value.is_integer():
            raise ConfigError(f"parameter {key} must be a whole number, got {value!r}")
        return int(value)
    if isinstance(like, float):
        return float(value)
    if isinstance(like, str) and not isinstance(value, str):
        raise ConfigError(f"parameter {key} must be text, got {value!r}")
    return value


def notebook_settings(notebook: str, profile: str = "cpu", overrides: dict | None = None):
    """The settings a notebook runs with: its profile's values, then overrides checked against
    their type and ``VALUE_RULES`` (a profile's own values pass them too: the tests check)."""
    notebook = resolve_notebook(notebook)
    choose("profile", profile, PROFILES)
    apply_profile_environment(profile)
    base = NOTEBOOK_PROFILES[notebook][profile]
    overrides = dict(overrides or {})
    valid = parameter_names(notebook)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {', '.join(unknown)} for {notebook}; valid: {', '.join(valid)}")
    values = {}
    for key, given in overrides.items():
        values[key] = _coerce(given, getattr(base, key), key)
        check_value(notebook, key, values[key], getattr(base, key))
    return replace(base, **values)
