"""Notebook 03's settings: a typed dataclass whose defaults are the gpu profile, and the cpu and smoke
profiles as the few values they change (``mini_lib.lab.profiles`` indexes them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class QualityQuantitySettings:
    """03_quality_quantity (arXiv 2411.15821): data size x duplication rate x seeds.

    Defaults (gpu) are the paper's model and schedule (4 layers, 4 heads, d 128, context 128; batch 32,
    1000 steps, lr 1e-3 cosine to 1e-4, 100 warmup, betas (0.9, 0.99), wd 0.1, clip 1.0); cpu and smoke
    shrink the model and the schedule, never the grid's logic.
    """

    corpus: str = "storyworld"  # storyworld | local (corpus_path, e.g. TinyStories as jsonl) | hub (corpus_name)
    n_stories: int = 300_000  # documents to load; 0 = the whole file / hub split
    val_fraction: float = 0.02
    vocab_size: int = 8192
    seq_len: int = 128
    n_layers: int = 4
    d_model: int = 128
    n_heads: int = 4
    size_fractions: tuple[float, ...] = (0.25, 0.5, 1.0)
    duplication_rates: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    n_seeds: int = 3  # replicates: seed, seed + 1, ...
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int = 100
    eval_every: int = 100
    eval_examples: int = 1024
    tie_embeddings: bool = True  # nanoGPT / GPT-2 tie input and output embeddings
    min_lr_ratio: float = 0.1  # cosine from lr to lr / 10 (1e-3 -> 1e-4)
    beta1: float = 0.9
    beta2: float = 0.99
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    construction: str = "one_document"  # the paper's; "many" = k-fold repeats of many documents
    repeat_k: int = 4  # copies per repeated document ("many")
    hold: str = "documents"  # "many": hold the document or the token count constant
    # extra clean + 25% cells whose clean data is seen this many times
    sweep_epochs: tuple[float, ...] = (1.0, 2.0, 4.0)
    # extra clean cells (all stories) trained for round(steps * fraction) steps, warmup scaled alike: the
    # clean learning curve that prices 25% duplication in lost steps (``duplication_as_lost_steps``)
    budget_fractions: tuple[float, ...] = (0.5, 0.75, 0.875)
    # cells trained at once as one stacked model (``run_grid``'s fuse; each cell's numbers equal training it
    # alone): on a GPU one 4-layer d-128 cell leaves it idle, and the 45 cells make 3 groups of 15
    grid_fuse: int = 15
    corpus_path: str = ""
    corpus_name: str = "roneneldan/TinyStories"
    tier: str = "simple"
    seed: int = 0


# eval_examples stays gpu's 1024: evaluation takes min(eval_examples, validation blocks), so cpu scores every
# one of its 546 validation blocks, as the paper scores its whole validation split (128 blocks left the seed
# sd of the 25% accuracy change about twice as large)
_CPU = replace(
    QualityQuantitySettings(), n_stories=6000, val_fraction=0.05, vocab_size=1024, seq_len=64, n_layers=2, d_model=64,
    n_heads=2, steps=120, batch_size=16, lr=2e-3, warmup_steps=12, eval_every=40, sweep_epochs=(2.0, 4.0),
)
PROFILES: dict[str, QualityQuantitySettings] = {
    "gpu": QualityQuantitySettings(),
    "cpu": _CPU,
    # base cpu: 12 fields differ (18 from gpu)
    "smoke": replace(_CPU, n_stories=1500, val_fraction=0.1, vocab_size=512, size_fractions=(1.0,),
                     duplication_rates=(0.0, 1.0), n_seeds=1, steps=40, warmup_steps=4, eval_every=0, eval_examples=64,
                     sweep_epochs=(), budget_fractions=()),
}
# The slow test runs the gpu settings on CPU with these overrides: full shapes, tiny step counts.
GPU_ON_CPU_OVERRIDES: dict[str, Any] = {  # lists, not tuples: papermill passes tuples as strings
    "n_stories": 3000, "size_fractions": [1.0], "duplication_rates": [0.0, 1.0], "n_seeds": 1, "sweep_epochs": [],
    "steps": 2, "warmup_steps": 1, "eval_every": 0, "eval_examples": 8, "budget_fractions": [],
}
