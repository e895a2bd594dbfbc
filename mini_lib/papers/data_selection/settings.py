"""Notebook 06's settings: a typed dataclass whose defaults are the gpu profile, and the cpu and smoke
profiles as the few values they change (``mini_lib.lab.profiles`` indexes them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class DataSelectionSettings:
    """06_data_selection (arXiv 2402.09668): Ask-LLM, Density and baselines on a labelled noisy corpus.

    Defaults (gpu): the paper's samplers (Ask-LLM, Density, Perplexity, SemDeDup, Prototypes, random) and keep
    fractions 10-80% on a 20k-story noisy corpus with a 4-layer, d 256 model (ours, far smaller than the
    paper's T5 models).

    Every sampler keeps each of ``keep_fractions``; every model trains ``steps * batch_size * seq_len``
    tokens (smaller subsets repeat more epochs). Over-scaling compares the (n_layers, d_model) model on
    a subset with itself on full data, in units of the gain over the small (small_*) model on full
    data. ``askllm_variants``: SmolLM2 prompt variants to score with (the first feeds the askllm
    sampler; empty: no Ask-LLM scoring). SmolLM2 scores about 1 doc/s on one CPU core (few-shot: 3 s),
    so smoke uses perplexity only and cpu the few_shot variant (the probe's best; the paper's zero-shot
    prompt leaves the 135M model near chance) on 1200 documents, 2 per batch (batch 8 peaks 0.5 GB higher
    at the same speed; cached after the first run). Why 1200: at 400, a 20% subset is 80 documents
    repeated ~11 times and not even a perfect scorer beats full data; at 1200 (~4 epochs) the sweep shows
    from which AUROC a scorer does. gpu scores with few_shot and the paper's prompt, and
    ``scorer_path`` (a local HF folder, causal or seq2seq such as Flan-T5) swaps in a bigger scorer.
    The scorer sweep trains the large model at ``sweep_keep_fraction`` on the kept sets of synthetic
    scorers of AUROC ``sweep_aurocs`` (labels plus noise) and of the real scorers, Density at
    ``sweep_density_fraction``, random and full data, once per ``sweep_seeds`` entry (final eval only);
    the claims are decided on these seeds.
    """

    n_stories: int = 20_000
    noise_fraction: float = 0.3
    duplicate_rate: float = 0.2
    repeat_k: int = 4
    samplers: tuple[str, ...] = ("random", "askllm", "perplexity", "density", "semdedup", "prototypes")
    keep_fractions: tuple[float, ...] = (0.1, 0.2, 0.4, 0.6, 0.8)
    askllm_variants: tuple[str, ...] = ("few_shot", "paper")
    askllm_max_tokens: int = 256
    proxy_docs: int = 5000
    proxy_steps: int = 500
    vocab_size: int = 4096
    seq_len: int = 128
    n_layers: int = 4
    d_model: int = 256
    n_heads: int = 4
    small_n_layers: int = 2
    small_d_model: int = 128
    small_n_heads: int = 2
    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int = 100
    eval_every: int = 100
    eval_examples: int = 512
    zero_shot_n: int = 200
    zero_shot_tasks: tuple[str, ...] = ("blimp_subject_verb", "blimp_determiner_noun", "blimp_word_order",
                                        "boolq_story", "sst2_ending", "copa_next_event")
    kde_docs: int = 3000  # documents compared between the density sketch and the exact KDE
    sweep_aurocs: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    sweep_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    sweep_keep_fraction: float = 0.2  # the paper's headline fraction
    sweep_density_fraction: float = 0.8  # Density's best fraction in the one-seed grid
    # same-shape models trained at once as one stacked model (``run_grid``'s fuse; each model's numbers equal
    # training it alone): the gpu grid's 31 large models make two groups
    grid_fuse: int = 16
    kde_bandwidth: float = 0.5
    sketch_hashes: int = 1024  # the SketchConfig default: Spearman ~0.9 against the exact KDE on real text
    sketch_buckets: int = 4096
    sketch_bandwidth: float = 1.0
    n_clusters: int = 100  # SemDeDup / Prototypes k-means
    askllm_batch_size: int = 32
    scorer_path: str = ""  # local Ask-LLM scorer folder; empty = SmolLM2-135M-Instruct
    tier: str = "simple"
    seed: int = 0


_CPU = replace(
    DataSelectionSettings(), n_stories=1200, samplers=("random", "askllm", "perplexity", "density", "semdedup"),
    keep_fractions=(0.1, 0.2, 0.4, 0.8), askllm_variants=("few_shot",), askllm_max_tokens=64, proxy_docs=1500,
    proxy_steps=150, vocab_size=1024, seq_len=64, n_layers=2, d_model=64, n_heads=2, small_n_layers=1,
    small_d_model=32, steps=100, batch_size=16, lr=3e-3, warmup_steps=10, eval_every=10, eval_examples=128,
    zero_shot_n=40, zero_shot_tasks=("blimp_word_order", "blimp_subject_verb", "sst2_ending", "copa_next_event"),
    kde_docs=400, sweep_seeds=(0, 1, 2), n_clusters=20, askllm_batch_size=2,
)
PROFILES: dict[str, DataSelectionSettings] = {
    "gpu": DataSelectionSettings(),
    "cpu": _CPU,
    # base cpu: 15 fields differ (27 from gpu)
    "smoke": replace(
        _CPU, n_stories=300, samplers=("random", "perplexity"), keep_fractions=(0.4,), askllm_variants=(),
        proxy_docs=400, proxy_steps=40, vocab_size=512, steps=30, warmup_steps=3, eval_examples=64, zero_shot_n=8,
        zero_shot_tasks=("blimp_word_order", "sst2_ending"), kde_docs=300, sweep_aurocs=(0.5, 1.0),
        sweep_seeds=(0, 1),
    ),
}
# The slow test runs the gpu settings on CPU with these overrides: full shapes, tiny step counts.
GPU_ON_CPU_OVERRIDES: dict[str, Any] = {  # lists, not tuples: papermill passes tuples as strings
    "n_stories": 300, "samplers": ["random", "density"], "keep_fractions": [0.2], "askllm_variants": [],
    "proxy_docs": 400, "proxy_steps": 2, "steps": 2, "warmup_steps": 1, "eval_every": 0, "eval_examples": 8,
    "zero_shot_n": 4, "zero_shot_tasks": ["sst2_ending"], "kde_docs": 100, "n_clusters": 10,
    "sweep_aurocs": [1.0], "sweep_seeds": [0, 1],
}
