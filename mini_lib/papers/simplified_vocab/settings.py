"""Notebook 02's settings: a typed dataclass whose defaults are the gpu profile, and the cpu and smoke
profiles as the few values they change (``mini_lib.lab.profiles`` indexes them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class SimpleVocabSettings:
    """02_simplified_vocab: equal-budget simple vs unrestricted data, the model grid, zero-shot, power laws.

    Defaults (gpu): the paper's (arXiv 2404.02204) BPE vocabulary of 15,000 per corpus, context 128, batch 512
    and its 18-shape grid (hidden 32 to 1024 x 2, 4, 8 layers), on 40M training tokens per data set (the
    paper: about 2.1B)."""

    # the corpus settings have the names notebooks 03 and 05 use for the same thing
    corpus: str = "storyworld"  # storyworld (simple vs rich tier) | local | hub (span-filtered vs unfiltered)
    corpus_path: str = ""  # corpus file for corpus=local
    corpus_name: str = ""  # dataset for corpus=hub (needs a network)
    vocabulary: str = "auto"  # auto (AO-CHILDES if ../shared/data has it, else built-in) | aochildes | builtin
    # span filter: reference (the paper's released C++, quirks included) | rule (as described)
    filter_mode: str = "reference"
    n_stories: int = 600_000  # documents per tier (storyworld) or read from the corpus
    train_tokens: int = 40_000_000  # training tokens per data set (one epoch); 0 = all the smaller set holds
    val_fraction: float = 0.02
    vocab_size: int = 15_000  # BPE vocabulary of EACH tokenizer
    seq_len: int = 128
    hidden_sizes: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
    layer_counts: tuple[int, ...] = (2, 4, 8)
    n_heads: int = 8
    batch_size: int = 512
    micro_batch_size: int = 512
    lr: float = 1e-3  # for hidden <= 512; Pythia's ratios below it for wider models
    min_lr_ratio: float = 0.1
    warmup_fraction: float = 0.01  # of each model's own steps: the grid's runs differ in length
    evals_per_run: int = 10
    eval_examples: int = 512
    data_fractions: tuple[float, ...] = (0.125, 0.25, 0.5)  # the loss-vs-D runs: fractions of the budget
    sweep_hidden: int = 256  # the shape retrained on those fractions
    sweep_layers: int = 4
    task_examples: int = 500  # per storyworld task and tier (even)
    tasks: tuple[str, ...] = ("blimp_subject_verb", "blimp_determiner_noun", "blimp_word_order", "boolq_story",
                              "sst2_ending", "copa_next_event")  # storyworld tasks (mini_lib.core.zero_shot_tasks.TASKS)
    score_batch_size: int = 128
    benchmarks: tuple[str, ...] = ()  # real benchmarks from the hub (network needed), simplified; () offline
    benchmark_limit: int = 1000
    precision: str = "auto"
    seed: int = 0


_CPU = replace(
    SimpleVocabSettings(), n_stories=4000, train_tokens=196_608, val_fraction=0.05, vocab_size=1024,
    hidden_sizes=(32, 64, 128), layer_counts=(2, 4), batch_size=16, micro_batch_size=16, lr=3e-3, warmup_fraction=0.05,
    evals_per_run=6, eval_examples=64, data_fractions=(0.25, 0.5), sweep_hidden=64, sweep_layers=2, task_examples=60,
    score_batch_size=64, precision="fp32",
)
PROFILES: dict[str, SimpleVocabSettings] = {
    "gpu": SimpleVocabSettings(),
    "cpu": _CPU,
    # base cpu: 11 fields differ (18 from gpu)
    "smoke": replace(_CPU, n_stories=1200, train_tokens=65_536, val_fraction=0.1, vocab_size=512,
                     hidden_sizes=(32, 64), layer_counts=(2,), evals_per_run=4, eval_examples=32, sweep_hidden=32,
                     task_examples=16, score_batch_size=32),
}
# The slow test runs the gpu settings on CPU with these overrides: full shapes, tiny step counts.
GPU_ON_CPU_OVERRIDES: dict[str, Any] = {
    "n_stories": 1500, "train_tokens": 512, "batch_size": 4, "micro_batch_size": 4, "evals_per_run": 0,
    "eval_examples": 4, "task_examples": 2, "tasks": ("blimp_word_order",), "score_batch_size": 8,
}
