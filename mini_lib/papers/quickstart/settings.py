"""Notebook 00's settings: a typed dataclass whose defaults are the gpu profile, and the cpu and smoke
profiles as the few values they change (``mini_lib.lab.profiles`` indexes them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class QuickstartSettings:
    """00_quickstart: corpus -> tokenizer -> tiny Pythia -> samples.

    Defaults (gpu): a Pythia-14M-shaped model (the suite of arXiv 2304.01373) on 200k stories, context 512,
    3000 steps of 64; no paper run to match, the tutorial's own scale."""

    n_stories: int = 200_000
    tier: str = "simple"
    val_fraction: float = 0.02
    vocab_size: int = 8192
    seq_len: int = 512
    preset: str = "pythia-14m"
    steps: int = 3000
    batch_size: int = 64
    lr: float = 1e-3
    eval_every: int = 250
    eval_examples: int = 1024
    seed: int = 0


_CPU = replace(QuickstartSettings(), n_stories=10_000, val_fraction=0.05, vocab_size=2048, seq_len=128,
                          preset="pythia-1m", steps=300, batch_size=16, lr=2e-3, eval_every=100, eval_examples=128)
PROFILES: dict[str, QuickstartSettings] = {
    "gpu": QuickstartSettings(),
    "cpu": _CPU,
    # base cpu: 7 fields differ (10 from gpu)
    "smoke": replace(_CPU, n_stories=1500, val_fraction=0.1, vocab_size=1024, seq_len=64, steps=60,
                     eval_every=20, eval_examples=64),
}
# The slow test runs the gpu settings on CPU with these overrides: full shapes, tiny step counts.
GPU_ON_CPU_OVERRIDES: dict[str, Any] = {"steps": 2, "eval_every": 0, "eval_examples": 4}
