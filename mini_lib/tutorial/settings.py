"""Notebooks 00 and 01's settings: typed dataclasses whose defaults are the gpu profile, and the cpu and
smoke profiles as the few values they change (``mini_lib.profiles`` indexes them)."""

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


_QUICKSTART_CPU = replace(QuickstartSettings(), n_stories=10_000, val_fraction=0.05, vocab_size=2048, seq_len=128,
                          preset="pythia-1m", steps=300, batch_size=16, lr=2e-3, eval_every=100, eval_examples=128)
QUICKSTART_PROFILES: dict[str, QuickstartSettings] = {
    "gpu": QuickstartSettings(),
    "cpu": _QUICKSTART_CPU,
    # base cpu: 7 fields differ (10 from gpu)
    "smoke": replace(_QUICKSTART_CPU, n_stories=1500, val_fraction=0.1, vocab_size=1024, seq_len=64, steps=60,
                     eval_every=20, eval_examples=64),
}
# The slow test runs the gpu settings on CPU with these overrides: full shapes, tiny step counts.
QUICKSTART_GPU_ON_CPU_OVERRIDES: dict[str, Any] = {"steps": 2, "eval_every": 0, "eval_examples": 4}


@dataclass(frozen=True)
class PythiaTrainingSettings:
    """01_pythia_training: the suite, precision/throughput, checkpoint/resume, loss vs size.

    Defaults (gpu): Pythia's (arXiv 2304.01373) padded vocabulary 50,304 and context 2048, its three smallest
    shapes trained on the same tokens; 2000 steps of 64 sequences, not the suite's 143k steps of 1024."""

    n_stories: int = 400_000
    vocab_size: int = 50_304
    seq_len: int = 2048
    # trained on the same tokens to compare sizes
    presets: tuple[str, ...] = ("pythia-14m", "pythia-70m", "pythia-160m")
    steps: int = 2000
    batch_size: int = 64
    micro_batch_size: int = 16
    eval_every: int = 250
    eval_examples: int = 512
    checkpoint_every: int = 500
    keep_checkpoints: int = 2  # per model; 1 halves the disk a lesson's run takes (resume needs only the newest)
    precisions: tuple[str, ...] = ("fp32", "bf16")  # compared in the throughput section
    throughput_steps: int = 30
    compile: bool = True
    seed: int = 0


_PYTHIA_TRAINING_CPU = replace(
    PythiaTrainingSettings(), n_stories=10_000, vocab_size=2048, seq_len=128,
    presets=("pythia-1m", "pythia-14m", "pythia-3m"), steps=200, batch_size=16, eval_every=50, eval_examples=128,
    checkpoint_every=100, keep_checkpoints=1, throughput_steps=20, compile=False,
)
PYTHIA_TRAINING_PROFILES: dict[str, PythiaTrainingSettings] = {
    "gpu": PythiaTrainingSettings(),
    "cpu": _PYTHIA_TRAINING_CPU,
    # base cpu: 10 fields differ (12 from gpu)
    "smoke": replace(_PYTHIA_TRAINING_CPU, n_stories=1500, vocab_size=1024, seq_len=64,
                     presets=("pythia-1m", "pythia-3m"), steps=30, micro_batch_size=8, eval_every=10,
                     eval_examples=64, checkpoint_every=15, throughput_steps=10),
}
PYTHIA_TRAINING_GPU_ON_CPU_OVERRIDES: dict[str, Any] = {
    "steps": 2, "eval_every": 0, "eval_examples": 4, "checkpoint_every": 1, "throughput_steps": 1, "compile": False,
}
