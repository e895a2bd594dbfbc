"""Notebook 01's settings: a typed dataclass whose defaults are the gpu profile, and the cpu and smoke
profiles as the few values they change (``mini_lib.lab.profiles`` indexes them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


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


_CPU = replace(
    PythiaTrainingSettings(), n_stories=10_000, vocab_size=2048, seq_len=128,
    presets=("pythia-1m", "pythia-14m", "pythia-3m"), steps=200, batch_size=16, eval_every=50, eval_examples=128,
    checkpoint_every=100, keep_checkpoints=1, throughput_steps=20, compile=False,
)
PROFILES: dict[str, PythiaTrainingSettings] = {
    "gpu": PythiaTrainingSettings(),
    "cpu": _CPU,
    # base cpu: 10 fields differ (12 from gpu)
    "smoke": replace(_CPU, n_stories=1500, vocab_size=1024, seq_len=64,
                     presets=("pythia-1m", "pythia-3m"), steps=30, micro_batch_size=8, eval_every=10,
                     eval_examples=64, checkpoint_every=15, throughput_steps=10),
}
GPU_ON_CPU_OVERRIDES: dict[str, Any] = {
    "steps": 2, "eval_every": 0, "eval_examples": 4, "checkpoint_every": 1, "throughput_steps": 1, "compile": False,
}
